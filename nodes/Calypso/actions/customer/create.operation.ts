import type { IDataObject } from 'n8n-workflow';

import { calypsoRequest } from '../../transport';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export interface CreateParams {
	email?: string;
	description?: string;
	externalId?: string;
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
		const extra = this.getNodeParameter('additionalFields', i, {}) as IDataObject;
		const params: CreateParams = {};
		if (extra.email) params.email = validate.email(this, i, 'Email', extra.email);
		if (extra.description !== undefined && extra.description !== '') {
			params.description = validate.text(this, i, 'Description', extra.description, fields.MAX_DESCRIPTION);
		}
		if (extra.externalId !== undefined && extra.externalId !== '') {
			params.externalId = validate.text(this, i, 'External ID', extra.externalId, fields.MAX_EXTERNAL_ID);
		}
		return params;
	},

	async execute(params) {
		return await calypsoRequest.call(this, 'customer/create', { ...params });
	},
});
