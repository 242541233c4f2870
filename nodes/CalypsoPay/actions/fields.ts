import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_RETRY } from '../transport';

/** Fields that several operations share, defined once. */

/** A UUID, as the editor's resource locator validation wants it (anchored by n8n). */
const UUID_PATTERN = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/**
 * The customer an operation acts on, by Calypso's ID or by the External ID (customerLocator.ts reads it). A plain
 * string, as saved before the locator, is a Customer ID.
 */
const customer: INodeProperties = {
	displayName: 'Customer',
	name: 'customerId',
	type: 'resourceLocator',
	required: true,
	default: '',
	description:
		'The customer, by its Calypso customer ID or by your External ID. By External ID costs one extra request per distinct value per run.',
	modes: [
		{
			displayName: 'By ID',
			name: 'id',
			type: 'string',
			placeholder: '3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a',
			hint: 'The Calypso customer ID (a UUID)',
			validation: [
				{
					type: 'regex',
					properties: {
						regex: UUID_PATTERN,
						errorMessage:
							'Not a Calypso customer ID: expected a UUID like 3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a',
					},
				},
			],
		},
		{
			displayName: 'By External ID',
			name: 'externalId',
			type: 'string',
			placeholder: 'user-1234',
			hint: 'Your own identifier for the customer, given when it was created; exactly one customer must have it',
		},
	],
};

/**
 * The Customer field, one declaration per node version (n8n shows the one whose `@version` matches): version 1 keeps
 * its default '' (a contract, test/nodes/defaults.v1.json; the editor shows its mode list empty until a mode is
 * picked); from 1.1 a new node starts By ID, with n8n's locator default shape (getNodeParameters adds `__rl: true`).
 */
export const customerId: INodeProperties[] = [
	{ ...customer, displayOptions: { show: { '@version': [1] } } },
	{
		...customer,
		default: { mode: 'id', value: '' },
		displayOptions: { show: { '@version': [{ _cnd: { gte: 1.1 } }] } },
	},
];

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
/** The most one wait between retries may be (the transport's per-wait cap). */
export const MAX_RETRY_DELAY = DEFAULT_RETRY.maxDelayMs;
/** The longest Timeout (Ms): 10 minutes. */
export const MAX_TIMEOUT_MS = 600_000;

export const MAX_RETRIES = 10;

const retryMode: INodeProperties = {
	displayName: 'Retry',
	name: 'retry',
	type: 'options',
	default: 'default',
	options: [
		{
			name: 'Default',
			value: 'default',
			description: 'Up to 3 retries with backoff (off when the node setting Retry On Fail is on)',
		},
		{ name: 'Custom', value: 'custom', description: 'Choose the number of retries and the first delay' },
		{ name: 'Off', value: 'off', description: 'Fail on the first error; no recovery look-ups' },
	],
	description:
		'Whether to retry requests that failed for a passing reason: rate limits (429), gateway errors (502, 503, 504) and dropped connections. Creating a customer is never re-sent while Calypso may still be processing it.',
};

const maxRetries: INodeProperties = {
	displayName: 'Max Retries',
	name: 'maxRetries',
	type: 'number',
	typeOptions: { minValue: 0, maxValue: MAX_RETRIES },
	default: 3,
	description:
		'How many times a failed request is retried. All waits of one request add up to at most 60 s; the error says so if that stops it earlier.',
};

const retryDelay: INodeProperties = {
	displayName: 'Retry Delay (Ms)',
	name: 'retryDelay',
	type: 'number',
	typeOptions: { minValue: 0, maxValue: MAX_RETRY_DELAY },
	default: 1000,
	description:
		'The first wait before a retry, up to 20000. It doubles each time (with jitter, at most 20 s per wait) unless Calypso says how long to wait.',
};

/**
 * From node version 1.1, Retry and its two settings are fields of their own below the Options: picking Custom shows
 * Max Retries and Retry Delay at once (inside a collection they waited behind "Add Option"). Version 1 nodes
 * (workflows saved before) keep them inside the Options, unchanged. Same names, values and defaults in both.
 */
export const retrySettings: INodeProperties[] = [
	{ ...retryMode, displayOptions: { show: { '@version': [{ _cnd: { gte: 1.1 } }] } } },
	{ ...maxRetries, displayOptions: { show: { '@version': [{ _cnd: { gte: 1.1 } }], retry: ['custom'] } } },
	{ ...retryDelay, displayOptions: { show: { '@version': [{ _cnd: { gte: 1.1 } }], retry: ['custom'] } } },
];

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
	// Version 1 keeps Retry and its two settings here; from version 1.1 they sit below the Options (retrySettings).
	{ ...retryMode, displayOptions: { show: { '@version': [1] } } },
	{ ...maxRetries, displayOptions: { show: { '@version': [1], retry: ['custom'] } } },
	{ ...retryDelay, displayOptions: { show: { '@version': [1], retry: ['custom'] } } },
	{
		displayName: 'Timeout (Ms)',
		name: 'timeout',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_TIMEOUT_MS },
		default: 30000,
		description: 'How long to wait for Calypso to answer one request, up to 600000 (10 minutes)',
	},
];
