import type { IDataObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import type { CalypsoClient } from '../../transport';
import { isAmbiguous } from '../../transport/errors';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export interface CreateParams {
	email?: string;
	description?: string;
	externalId?: string;
}

/** Reads the optional customer fields of one item (Additional Fields), validated. */
export function customerFields(
	this: Parameters<typeof validate.text>[0],
	extra: IDataObject,
	i: number,
): CreateParams {
	const params: CreateParams = {};
	if (extra.email !== undefined && extra.email !== '')
		params.email = validate.email(this, i, 'Email', extra.email);
	if (extra.description !== undefined && extra.description !== '') {
		params.description = validate.text(this, i, 'Description', extra.description, fields.MAX_DESCRIPTION);
	}
	if (extra.externalId !== undefined && extra.externalId !== '') {
		params.externalId = validate.text(this, i, 'External ID', extra.externalId, fields.MAX_EXTERNAL_ID);
	}
	return params;
}

export async function findByExternalId(api: CalypsoClient, externalId: string): Promise<IDataObject[]> {
	const response = await api.request('customer/external/get', { externalId });
	return Array.isArray(response.customers) ? (response.customers as IDataObject[]) : [];
}

function mayOrMayNotExist(error: NodeApiError, detail: string): NodeApiError {
	error.message = `The customer may or may not have been created: ${error.message}`;
	error.description = `${detail} ${error.description ?? ''}`.trim();
	return error;
}

/**
 * customer/create is never re-sent blindly. After an ambiguous failure (timeout, reset, 5xx) the customer is looked
 * up by its external ID: one found is the one this request created; none found means it was not created, and it
 * is sent once more; without an external ID there is no way to tell, and the error says so.
 */
export async function createCustomer(
	api: CalypsoClient,
	params: CreateParams,
	resent = false,
): Promise<IDataObject> {
	try {
		return await api.request('customer/create', { ...params }, { idempotent: false });
	} catch (error) {
		const apiError = error as NodeApiError;
		if (!isAmbiguous(apiError)) throw apiError;
		if (params.externalId === undefined) {
			throw mayOrMayNotExist(
				apiError,
				'Calypso did not confirm the request, and without an External ID the node cannot check. Look the customer up before running this again; set an External ID to let the node recover by itself.',
			);
		}
		const existing = await findByExternalId(api, params.externalId);
		if (existing.length === 1) return existing[0];
		if (existing.length === 0 && !resent) return await createCustomer(api, params, true);
		throw mayOrMayNotExist(
			apiError,
			existing.length === 0
				? `No customer with External ID "${params.externalId}" exists after a second attempt.`
				: `${existing.length} customers have External ID "${params.externalId}"; check which one is new before running again.`,
		);
	}
}

export const operation = defineOperation<CreateParams>({
	description: [
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: [fields.customerDescription, fields.email, fields.externalId],
		},
	],
	prepare(i) {
		return customerFields.call(this, this.getNodeParameter('additionalFields', i, {}) as IDataObject, i);
	},
	async execute(params, api) {
		return await createCustomer(api, params);
	},
});
