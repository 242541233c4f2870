import type { INodeProperties } from 'n8n-workflow';

/** Fields that several operations share, defined once. */

export const customerId: INodeProperties = {
	displayName: 'Customer ID',
	name: 'customerId',
	type: 'string',
	required: true,
	default: '',
	placeholder: '3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a',
	description: 'The Calypso customer ID (a UUID)',
};

export const externalId: INodeProperties = {
	displayName: 'External ID',
	name: 'externalId',
	type: 'string',
	default: '',
	description: 'Your own identifier for the customer, such as your user ID (up to 255 characters)',
};

export const email: INodeProperties = {
	displayName: 'Email',
	name: 'email',
	type: 'string',
	placeholder: 'name@email.com',
	default: '',
	description: "The customer's email address",
};

export const customerDescription: INodeProperties = {
	displayName: 'Description',
	name: 'description',
	type: 'string',
	typeOptions: { rows: 2 },
	default: '',
	description: 'A note about the customer (up to 1000 characters)',
};

export const MAX_DESCRIPTION = 1000;
export const MAX_EXTERNAL_ID = 255;

export const DEFAULT_CONCURRENCY = 50;
export const MAX_CONCURRENCY = 100;

/** Entries of every operation's Options collection: how requests are sent. */
export const requestOptions: INodeProperties[] = [
	{
		displayName: 'Concurrency',
		name: 'concurrency',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_CONCURRENCY },
		default: DEFAULT_CONCURRENCY,
		description:
			'How many input items are sent to Calypso at the same time. 1 sends them one after another. Output order is kept either way.',
	},
	{
		displayName: 'Retry',
		name: 'retry',
		type: 'options',
		default: 'default',
		options: [
			{
				name: 'Default',
				value: 'default',
				description:
					'Up to 3 retries of rate limits (429), gateway errors (502, 503, 504) and dropped connections, with backoff. Off when the node setting Retry On Fail is on.',
			},
			{ name: 'Custom', value: 'custom', description: 'Set the number of retries and the first delay' },
			{ name: 'Off', value: 'off', description: 'Fail on the first error' },
		],
		description:
			'Whether to retry requests that failed for a passing reason. Creating a customer is never re-sent blindly.',
	},
	{
		displayName: 'Max Retries',
		name: 'maxRetries',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 10 },
		default: 3,
		description: 'With Retry set to Custom: how many times a failed request is retried',
	},
	{
		displayName: 'Retry Delay (Ms)',
		name: 'retryDelay',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 1000,
		description:
			'With Retry set to Custom: the first wait before a retry; it doubles each time (with jitter) unless Calypso says how long to wait',
	},
	{
		displayName: 'Timeout (Ms)',
		name: 'timeout',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 30000,
		description: 'How long to wait for Calypso to answer one request',
	},
];
