import type { IDataObject } from 'n8n-workflow';

import * as fields from './fields';
import { defineOperation } from './types';
import * as validate from './validate';

/** An operation whose only parameter is the customer ID: POST `{customerId}` to `path`, optionally unwrap the answer. */
export function customerIdOperation(
	path: string,
	unwrap: (response: IDataObject) => IDataObject | IDataObject[] = (r) => r,
) {
	return defineOperation<string>({
		description: [fields.customerId],
		prepare(i) {
			return validate.uuid(this, i, 'Customer ID', this.getNodeParameter('customerId', i));
		},
		async execute(customerId, api) {
			return unwrap(await api.request(path, { customerId }));
		},
	});
}
