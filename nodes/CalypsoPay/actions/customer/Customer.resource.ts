import type { INodeProperties } from 'n8n-workflow';

import { resourceProperties } from '../types';
import { operation as block } from './block.operation';
import { operation as create } from './create.operation';
import { operation as get } from './get.operation';
import { operation as getByExternalId } from './getByExternalId.operation';
import { operation as getOrCreate } from './getOrCreate.operation';
import { operation as unblock } from './unblock.operation';
import { operation as update } from './update.operation';

export const operations = { block, create, get, getByExternalId, getOrCreate, unblock, update };

export const description: INodeProperties[] = resourceProperties(
	'customer',
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		default: 'get',
		options: [
			{ name: 'Block', value: 'block', description: 'Block a customer', action: 'Block a customer' },
			{ name: 'Create', value: 'create', description: 'Create a customer', action: 'Create a customer' },
			{ name: 'Get', value: 'get', description: 'Get a customer', action: 'Get a customer' },
			{
				name: 'Get by External ID',
				value: 'getByExternalId',
				description: 'Get the customers that have an external ID',
				action: 'Get customers by external ID',
			},
			{
				name: 'Get or Create',
				value: 'getOrCreate',
				description: 'Get the customer with an external ID, or create it if there is none',
				action: 'Get or create a customer',
			},
			{ name: 'Unblock', value: 'unblock', description: 'Unblock a customer', action: 'Unblock a customer' },
			{ name: 'Update', value: 'update', description: 'Update a customer', action: 'Update a customer' },
		],
	},
	operations,
);
