import type { INodeProperties } from 'n8n-workflow';

import { resourceProperties } from '../types';
import { operation as getAddress } from './getAddress.operation';
import { operation as getAll } from './getAll.operation';

export const operations = { getAddress, getAll };

export const description: INodeProperties[] = resourceProperties(
	'purse',
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		default: 'getAll',
		options: [
			{
				name: 'Get Deposit Address',
				value: 'getAddress',
				description: "Get (or create) a customer's deposit address for a currency",
				action: 'Get a deposit address',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				description: "Get many of a customer's purses",
				action: 'Get many purses',
			},
		],
	},
	operations,
);
