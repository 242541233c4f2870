import type { IDataObject } from 'n8n-workflow';

import { calypsoRequest } from '../../transport';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export const operation = defineOperation<string>({
	description: [{ ...fields.externalId, required: true }],
	prepare(i) {
		const value = this.getNodeParameter('externalId', i);
		return validate.text(this, i, 'External ID', value, fields.MAX_EXTERNAL_ID, true);
	},
	async execute(externalId) {
		const response = await calypsoRequest.call(this, 'customer/external/get', { externalId });
		return Array.isArray(response.customers) ? (response.customers as IDataObject[]) : [];
	},
});
