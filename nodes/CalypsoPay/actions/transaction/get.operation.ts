import { defineOperation } from '../types';
import * as validate from '../validate';

export const operation = defineOperation<string>({
	description: [
		{
			displayName: 'Transaction ID',
			name: 'transactionId',
			type: 'string',
			required: true,
			default: '',
			placeholder: '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d',
			description: 'The Calypso transaction ID (a UUID)',
		},
	],
	prepare(i) {
		return validate.uuid(this, i, 'Transaction ID', this.getNodeParameter('transactionId', i));
	},
	async execute(transactionId, api) {
		return await api.request('transaction/get', { transactionId });
	},
});
