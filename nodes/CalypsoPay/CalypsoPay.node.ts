import { NodeConnectionTypes } from 'n8n-workflow';
import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import * as customer from './actions/customer/Customer.resource';
import * as purse from './actions/purse/Purse.resource';
import { retrySettings } from './actions/fields';
import { router } from './actions/router';
import { credentialTest } from './transport/credentialTest';
import * as transaction from './actions/transaction/Transaction.resource';

export class CalypsoPay implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Calypso Pay',
		name: 'calypsoPay',
		icon: { light: 'file:calypso.svg', dark: 'file:calypso.dark.svg' },
		group: ['transform'],
		// 1.1: Retry, Max Retries and Retry Delay below the Options instead of inside (see retrySettings).
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: "Manage your customers' crypto deposit wallets with the Calypso Pay Customer Purse API",
		// Used as it is by the editor's docs link (the codex URLs get a tracking query appended, so they have no anchor).
		documentationUrl: 'https://github.com/calypso-n8n/n8n-nodes-calypso-pay#operations',
		defaults: { name: 'Calypso Pay' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		// The credential's Test is a function (transport/credentialTest.ts), so that it can say what a failure means.
		credentials: [{ name: 'calypsoPayApi', required: true, testedBy: 'calypsoPayApiTest' }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				default: 'customer',
				options: [
					{ name: 'Customer', value: 'customer' },
					{ name: 'Purse', value: 'purse' },
					{ name: 'Transaction', value: 'transaction' },
				],
			},
			...customer.description,
			...purse.description,
			...transaction.description,
			// After every operation's Options collection, so they show right below it.
			...retrySettings,
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
