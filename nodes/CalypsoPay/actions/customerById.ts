import { readCustomer, resolveCustomerId, type CustomerRef } from './customerLocator';
import * as fields from './fields';
import { defineOperation } from './types';

/**
 * An operation whose only parameter is the customer: POST `{customerId}` to `path`. With `listKey`, the answer's
 * list under that key is the result (one output item per element), and an answer without it is an error.
 */
export function customerIdOperation(path: string, listKey?: string) {
	return defineOperation<CustomerRef>({
		description: fields.customerId,
		prepare(i) {
			return readCustomer.call(this, i);
		},
		async execute(customer, api, i) {
			const customerId = await resolveCustomerId.call(this, api, customer, i);
			return listKey === undefined
				? await api.request(path, { customerId })
				: await api.list(path, { customerId }, listKey);
		},
	});
}
