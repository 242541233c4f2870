import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { readCustomer, resolveCustomerId, type CustomerRef } from '../customerLocator';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export interface UpdateParams {
	customer: CustomerRef;
	email?: string;
	description?: string;
}

export const operation = defineOperation<UpdateParams>({
	description: [
		...fields.customerId,
		{
			displayName: 'Update Fields',
			name: 'updateFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			description:
				'The external ID cannot be changed. A field left empty, or an expression that resolves to nothing, is not changed.',
			options: [
				{
					displayName: 'Clear Description',
					name: 'clearDescription',
					type: 'boolean',
					default: false,
					description: "Whether to remove the customer's stored description",
				},
				fields.customerDescription,
				fields.email,
			],
		},
	],

	prepare(i) {
		const params: UpdateParams = {
			customer: readCustomer.call(this, i),
		};
		const update = this.getNodeParameter('updateFields', i, {}) as IDataObject;
		if (!validate.isEmpty(update.email)) params.email = validate.email(this, i, 'Email', update.email);
		if (!validate.isEmpty(update.description)) {
			params.description = validate.text(this, i, 'Description', update.description, fields.MAX_DESCRIPTION);
		}
		if (update.clearDescription === true) {
			if (params.description !== undefined) {
				throw new NodeOperationError(
					this.getNode(),
					'Description and Clear Description are both set: choose one',
					{
						itemIndex: i,
					},
				);
			}
			params.description = '';
		}
		if (params.email === undefined && params.description === undefined) {
			throw new NodeOperationError(
				this.getNode(),
				'Nothing to update: add Email, Description or Clear Description under Update Fields (empty values are not sent)',
				{
					itemIndex: i,
				},
			);
		}
		return params;
	},

	async execute({ customer, ...changes }, api, i) {
		const id = await resolveCustomerId.call(this, api, customer, i);
		return await api.request('customer/update', { id, ...changes });
	},
});
