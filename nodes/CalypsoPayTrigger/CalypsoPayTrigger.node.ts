import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IHookFunctions,
	IWebhookFunctions,
	IWebhookResponseData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { credentialTest } from '../CalypsoPay/transport/credentialTest';
import { DeliveryMemory } from './dedupe';
import { EVENTS } from './delivery';
import { activationError, createSubscription, removeSubscription, subscriptionExists } from './subscription';
import { receiveDelivery } from './webhook';

/**
 * This n8n process's memory of Calypso events (./dedupe.ts): the fast path in front of the record kept in the
 * workflow's static data, and what makes an event still being processed get a 503 rather than a 200.
 */
const memory = new DeliveryMemory();

/** A webhook method, with Calypso's credential hints in the message n8n shows when publishing fails. */
async function lifecycle(
	ctx: IHookFunctions,
	method: (this: IHookFunctions) => Promise<boolean>,
): Promise<boolean> {
	try {
		return await method.call(ctx);
	} catch (error) {
		throw activationError(ctx.getNode(), error);
	}
}

export class CalypsoPayTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Calypso Pay Trigger',
		name: 'calypsoPayTrigger',
		icon: { light: 'file:../CalypsoPay/calypso.svg', dark: 'file:../CalypsoPay/calypso.dark.svg' },
		group: ['trigger'],
		// 1.1 runs exactly as 1 (same parameters and defaults). For a start node of version 1, n8n evaluates a
		// Webhook-node-1 expression (`$parameter.options.binaryData`) on every request, which builds an expression
		// isolate even when N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE is set; from 1.1 it does not (README, Trigger: Speed).
		version: [1, 1.1],
		subtitle: '={{$parameter["events"].length + ($parameter["events"].length === 1 ? " event" : " events")}}',
		description: 'Starts the workflow when Calypso Pay reports a customer deposit or purse event',
		documentationUrl: 'https://github.com/calypso-n8n/n8n-nodes-calypso-pay#trigger',
		defaults: { name: 'Calypso Pay Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		// The credential's Test is a function (transport/credentialTest.ts), so that it can say what a failure means.
		credentials: [{ name: 'calypsoPayApi', required: true, testedBy: 'calypsoPayApiTest' }],
		webhooks: [{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' }],
		properties: [
			{
				displayName: 'Events',
				name: 'events',
				type: 'multiOptions',
				required: true,
				default: [],
				options: [...EVENTS]
					.map(({ name, value, description }) => ({ name, value, description }))
					.sort((a, b) => a.name.localeCompare(b.name)),
				description:
					'The Customer Purse events that start the workflow. Calypso signs each delivery; unsigned or forged ones are refused, and a re-delivered event starts the workflow only once.',
			},
			{
				displayName: 'Confirm Transaction',
				name: 'confirmTransaction',
				type: 'boolean',
				default: true,
				description:
					'Whether to fetch the transaction from Calypso (Get Transaction) for events about a transaction and add it as "transaction", so the workflow acts on its current state rather than on the notification alone, as Calypso advises',
			},
		],
	};

	methods = { credentialTest };

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await lifecycle(this, subscriptionExists);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await lifecycle(this, createSubscription);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await lifecycle(this, removeSubscription);
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await receiveDelivery.call(this, memory);
	}
}
