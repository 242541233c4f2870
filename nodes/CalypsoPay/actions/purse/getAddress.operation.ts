import { readCustomer, resolveCustomerId, type CustomerRef } from '../customerLocator';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export interface GetAddressParams {
	customer: CustomerRef;
	currency: string;
}

export const operation = defineOperation<GetAddressParams>({
	description: [
		...fields.customerId,
		{
			displayName: 'Currency',
			name: 'currency',
			type: 'string',
			required: true,
			default: 'USDT_TRX',
			placeholder: 'USDT_TRX',
			description:
				'Currency ticker, with the network after an underscore for tokens off their home chain: BTC, ETH, USDT, USDC, TRX, USDT_TRX, USDT_BSC, USDT_MATIC, LTC, …. One address serves every currency of its blockchain.',
		},
	],
	prepare(i) {
		return {
			customer: readCustomer.call(this, i),
			currency: validate.currency(this, i, 'Currency', this.getNodeParameter('currency', i)),
		};
	},
	async execute({ customer, currency }, api, i) {
		const customerId = await resolveCustomerId.call(this, api, customer, i);
		const purse = await api.request('address/get', { customerId, currency });
		return { ...purse, customerId, currency };
	},
});
