import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export interface GetAddressParams {
	customerId: string;
	currency: string;
}

export const operation = defineOperation<GetAddressParams>({
	description: [
		fields.customerId,
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
			customerId: validate.uuid(this, i, 'Customer ID', this.getNodeParameter('customerId', i)),
			currency: validate.currency(this, i, 'Currency', this.getNodeParameter('currency', i)),
		};
	},
	async execute(params, api) {
		const purse = await api.request('address/get', { ...params });
		return { ...purse, customerId: params.customerId, currency: params.currency };
	},
});
