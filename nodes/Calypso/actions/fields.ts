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
