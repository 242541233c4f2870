import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export interface UpdateParams {
	id: string;
	email?: string;
	description?: string;
}

export const operation = defineOperation<UpdateParams>({
	description: [
		fields.customerId,
		{
			displayName: 'Update Fields',
			name: 'updateFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			description: 'The external ID cannot be changed',
			options: [fields.customerDescription, fields.email],
		},
	],

	prepare(i) {
		const params: UpdateParams = {
			id: validate.uuid(this, i, 'Customer ID', this.getNodeParameter('customerId', i)),
		};
		const update = this.getNodeParameter('updateFields', i, {}) as IDataObject;
		if (update.email !== undefined && update.email !== '')
			params.email = validate.email(this, i, 'Email', update.email);
		if (update.description !== undefined) {
			params.description = validate.text(this, i, 'Description', update.description, fields.MAX_DESCRIPTION);
		}
		if (params.email === undefined && params.description === undefined) {
			throw new NodeOperationError(
				this.getNode(),
				'Nothing to update: add Email or Description under Update Fields',
				{
					itemIndex: i,
				},
			);
		}
		return params;
	},

	async execute(params, api) {
		return await api.request('customer/update', { ...params });
	},
});
