import type { IDataObject } from 'n8n-workflow';

import { readCustomer, resolveCustomerId, type CustomerRef } from '../customerLocator';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export const TRANSACTION_STATES = ['CONFIRMED', 'DECLINED', 'MEM_POOL_FOUND', 'PENDING_COMPLIANCE_CHECK'];
export const MAX_PAGE_SIZE = 1000;
/** The largest Limit: the editor's maximum and the run-time check. */
export const MAX_LIMIT = 1_000_000;

export interface GetManyParams {
	customer: CustomerRef;
	/** The query without its customerId, which is added once the customer is resolved. */
	query: IDataObject;
	returnAll: boolean;
	limit: number;
	pageSize: number;
}

export const operation = defineOperation<GetManyParams>({
	description: [
		...fields.customerId,
		{
			displayName: 'Return All',
			name: 'returnAll',
			type: 'boolean',
			default: false,
			description: 'Whether to return all results or only up to a given limit',
		},
		{
			displayName: 'Limit',
			name: 'limit',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_LIMIT },
			default: 50,
			description: 'Max number of results to return',
			displayOptions: { show: { returnAll: [false] } },
		},
		{
			displayName: 'Filters',
			name: 'filters',
			type: 'collection',
			placeholder: 'Add Filter',
			default: {},
			options: [
				{
					displayName: 'Currency',
					name: 'currency',
					type: 'string',
					default: '',
					placeholder: 'USDT_TRX, BTC',
					description: 'Only transactions in this currency; several tickers separated by commas',
				},
				{
					displayName: 'Transaction States',
					name: 'transactionStates',
					type: 'multiOptions',
					default: [],
					description: 'Only transactions in one of these states',
					options: [
						{ name: 'Confirmed', value: 'CONFIRMED', description: 'Received and checked' },
						{ name: 'Declined', value: 'DECLINED', description: 'Failed the compliance check' },
						{
							name: 'Mem Pool Found',
							value: 'MEM_POOL_FOUND',
							description: 'Seen in the mempool, not yet confirmed',
						},
						{
							name: 'Pending Compliance Check',
							value: 'PENDING_COMPLIANCE_CHECK',
							description: 'Confirmed on chain, compliance check in progress',
						},
					],
				},
			],
		},
	],

	options: [
		{
			displayName: 'Page Size',
			name: 'pageSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_PAGE_SIZE },
			default: MAX_PAGE_SIZE,
			description:
				'How many transactions to ask for per request. Calypso may return fewer; paging follows what it returns. Lower it if Calypso rejects the size.',
		},
		{
			displayName: 'Sort By',
			name: 'sortBy',
			type: 'options',
			default: 'createdDate',
			options: [
				{ name: 'Amount', value: 'amount' },
				{ name: 'Created Date', value: 'createdDate' },
				{ name: 'Currency', value: 'currency' },
				{ name: 'Transaction State', value: 'transactionState' },
			],
			description: 'The field to sort transactions by',
		},
		{
			displayName: 'Sort Direction',
			name: 'sortDirection',
			type: 'options',
			default: 'DESC',
			options: [
				{ name: 'Ascending', value: 'ASC' },
				{ name: 'Descending', value: 'DESC' },
			],
			description: 'Newest first by default, so a limit keeps the most recent transactions',
		},
	],

	prepare(i) {
		const customer = readCustomer.call(this, i);
		const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
		const limit = returnAll
			? 0
			: validate.integer(this, i, 'Limit', this.getNodeParameter('limit', i, 50), 1, MAX_LIMIT);
		const filters = this.getNodeParameter('filters', i, {}) as IDataObject;
		const options = this.getNodeParameter('options', i, {}) as IDataObject;
		const query: IDataObject = {
			sort: validate.oneOf(this, i, 'Sort Direction', options.sortDirection ?? 'DESC', ['ASC', 'DESC']),
			properties: validate.text(this, i, 'Sort By', options.sortBy ?? 'createdDate', 100, true),
		};
		const currencies = validate.currencies(this, i, 'Currency filter', filters.currency ?? '');
		if (currencies.length > 0) query.currencyFilter = { in: currencies };
		const states = validate
			.list(filters.transactionStates)
			.map((state) =>
				validate.oneOf(
					this,
					i,
					'Transaction States',
					typeof state === 'string' ? state.toUpperCase() : state,
					TRANSACTION_STATES,
				),
			);
		if (states.length > 0) query.transactionStateFilter = { in: states };
		const pageSize = validate.integer(
			this,
			i,
			'Page Size',
			options.pageSize ?? MAX_PAGE_SIZE,
			1,
			MAX_PAGE_SIZE,
		);
		return { customer, query, returnAll, limit, pageSize };
	},

	async execute({ customer, query, returnAll, limit, pageSize }, api, i) {
		const customerId = await resolveCustomerId.call(this, api, customer, i);
		return await api.findAll('transaction/find', { customerId, ...query }, { returnAll, limit, pageSize });
	},
});
