import { NodeConnectionTypes } from 'n8n-workflow';
import type {
	IDataObject,
	IHookFunctions,
	IWebhookFunctions,
	IWebhookResponseData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';

import { CalypsoClient, DEFAULT_SETTINGS } from '../CalypsoPay/transport';
import type { TransportSettings } from '../CalypsoPay/transport';
import {
	EVENTS,
	RecentEvents,
	eventKey,
	flattenEvent,
	parseEvent,
	transactionIdOf,
	verifyDelivery,
} from './delivery';
import type { CalypsoEvent } from './delivery';
import {
	asNodeError,
	createSubscription,
	isNotFound,
	removeSubscription,
	storedSubscription,
	subscriptionExists,
} from './subscription';

/**
 * Event ids already delivered, per subscription, so that Calypso's retries (it re-sends an event until it gets a
 * 200, for up to ~34 h) start the workflow once. n8n does not persist static data changed inside webhook() and
 * gives webhook functions no deduplication helper, so this is memory of this n8n process: it is empty after a
 * restart, and each process has its own in queue mode with several webhook processes. Bounded: the latest 5,000
 * ids of each of the latest 200 subscriptions.
 */
const delivered = new RecentEvents(200, 5000);

/** A transaction lookup inside a webhook call: Calypso waits for our answer, so retry briefly, then fail (500). */
const CONFIRM_SETTINGS: TransportSettings = {
	...DEFAULT_SETTINGS,
	retry: { retries: 2, baseDelayMs: 500, maxDelayMs: 2000, maxTotalWaitMs: 4000 },
	timeoutMs: 10_000,
};

function respond(ctx: IWebhookFunctions, status: number, message: string): IWebhookResponseData {
	const res = ctx.getResponseObject();
	const body = JSON.stringify({ message });
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
	res.end(body);
	return { noWebhookResponse: true };
}

/** Fetches the transaction an event is about: the current state, from Calypso itself. Not found → null. */
async function confirmTransaction(ctx: IWebhookFunctions, transactionId: string): Promise<IDataObject> {
	try {
		const transaction = await new CalypsoClient(ctx, CONFIRM_SETTINGS).request('transaction/get', {
			transactionId,
		});
		return { transaction };
	} catch (error) {
		// Calypso does not know the transaction (it may report mempool sightings it never records): say so in the
		// item rather than fail the delivery, which Calypso would then retry for a day and a half.
		const nodeError = asNodeError(ctx.getNode(), error);
		if (isNotFound(nodeError)) return { transaction: null, transactionError: nodeError.message };
		throw nodeError;
	}
}

export class CalypsoPayTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Calypso Pay Trigger',
		name: 'calypsoPayTrigger',
		icon: { light: 'file:../CalypsoPay/calypso.svg', dark: 'file:../CalypsoPay/calypso.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{$parameter["events"].length + " event(s)"}}',
		description: 'Starts the workflow when Calypso Pay reports a customer deposit or purse event',
		documentationUrl: 'https://github.com/calypso-n8n/n8n-nodes-calypso-pay#trigger',
		defaults: { name: 'Calypso Pay Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'calypsoPayApi', required: true }],
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

	webhookMethods = {
		default: {
			async checkExists(this: IHookFunctions): Promise<boolean> {
				return await subscriptionExists.call(this);
			},
			async create(this: IHookFunctions): Promise<boolean> {
				return await createSubscription.call(this);
			},
			async delete(this: IHookFunctions): Promise<boolean> {
				return await removeSubscription.call(this);
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const stored = storedSubscription(this);
		const request = this.getRequestObject();
		// n8n keeps the bytes received as a Buffer in rawBody. Only if it is ever missing, fall back to the parsed body
		// re-serialised: that verifies only when Calypso sent compact JSON in the same key order.
		const rawBody: Buffer | string = Buffer.isBuffer(request.rawBody)
			? request.rawBody
			: JSON.stringify(this.getBodyData());

		const verdict = verifyDelivery(rawBody, this.getHeaderData(), stored);
		if (!verdict.ok) return respond(this, 401, `Calypso signature check failed: ${verdict.reason}`);

		const event: CalypsoEvent | undefined = parseEvent(rawBody);
		if (!event) return respond(this, 400, 'The body is not a JSON object');

		const events = this.getNodeParameter('events', []) as string[];
		if (typeof event.eventType === 'string' && !events.includes(event.eventType)) {
			return {
				webhookResponse: { message: `Event ${event.eventType} is not selected in this trigger; ignored` },
			};
		}

		const scope = stored.requestId ?? '';
		const id = eventKey(event);
		if (id !== undefined && !delivered.claim(scope, id)) {
			return { webhookResponse: { message: `Event ${id} was already received; ignored` } };
		}

		const item = flattenEvent(event);
		const transactionId = transactionIdOf(event);
		if (transactionId && (this.getNodeParameter('confirmTransaction', true) as boolean)) {
			try {
				Object.assign(item, await confirmTransaction(this, transactionId));
			} catch (error) {
				// Not processed: let Calypso's retry of this event through.
				if (id !== undefined) delivered.release(scope, id);
				throw asNodeError(this.getNode(), error);
			}
		}
		return { workflowData: [this.helpers.returnJsonArray([item])] };
	}
}
