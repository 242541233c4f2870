import type { INodeProperties } from 'n8n-workflow';

import { resourceProperties } from '../types';
import { operation as get } from './get.operation';
import { operation as getMany } from './getMany.operation';

export const operations = { get, getMany };

export const description: INodeProperties[] = resourceProperties(
	'transaction',
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		default: 'getMany',
		options: [
			{ name: 'Get', value: 'get', description: 'Get a transaction', action: 'Get a transaction' },
			{
				name: 'Get Many',
				value: 'getMany',
				description: "Get many of a customer's transactions",
				action: 'Get many transactions',
			},
		],
	},
	operations,
);
