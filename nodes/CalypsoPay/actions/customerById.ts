import * as fields from './fields';
import { defineOperation } from './types';
import * as validate from './validate';

/**
 * An operation whose only parameter is the customer ID: POST `{customerId}` to `path`. With `listKey`, the answer's
 * list under that key is the result (one output item per element), and an answer without it is an error.
 */
export function customerIdOperation(path: string, listKey?: string) {
	return defineOperation<string>({
		description: [fields.customerId],
		prepare(i) {
			return validate.uuid(this, i, 'Customer ID', this.getNodeParameter('customerId', i));
		},
		async execute(customerId, api) {
			return listKey === undefined
				? await api.request(path, { customerId })
				: await api.list(path, { customerId }, listKey);
		},
	});
}
