// @ts-check
'use strict';
/**
 * The workflows the end-to-end suite runs through a real n8n. Each exercises many operations in one execution
 * (an `n8n execute` costs ≈2.5 s): a linear chain Start → node → node …, every Calypso node using the
 * credential the suite imports.
 */
const { CREDENTIAL_ID, CREDENTIAL_NAME } = require('../../scripts/examples');

/** Fixed IDs seeded into the emulator so workflows can name them. */
const IDS = {
	known: '0b7a3c1e-5d2f-4e8a-9c61-3f0d2b8e7a11',
	paged: '7e2d9f40-1c6b-4a3e-8f5d-6b9c0a2e4d22',
	unknown: 'f00dfeed-0000-4000-8000-000000000404',
	/** Transactions that change while a Find pages (issue 16). */
	moving: '3c5e7a90-2b4d-4f6a-8c1e-9d0b2a4c6e33',
};

const CALYPSO = 'n8n-nodes-calypso-pay.calypsoPay';
const credentials = { calypsoPayApi: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } };

/**
 * @typedef {{ name: string, type?: string, typeVersion?: number, parameters: Record<string, unknown>,
 *   executeOnce?: boolean, onError?: string }} Step
 */

/** A workflow Start → steps[0] → steps[1] → …; steps without a type are Calypso nodes. @param {string} id @param {string} name @param {Step[]} steps */
function chain(id, name, steps) {
	const start = { name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} };
	const all = [start, ...steps];
	/** @type {Record<string, any>} */
	const connections = {};
	const nodes = all.map((step, i) => {
		const { name: nodeName, type = CALYPSO, typeVersion = 1, parameters, ...settings } = step;
		if (i > 0) connections[all[i - 1].name] = { main: [[{ node: nodeName, type: 'main', index: 0 }]] };
		return {
			id: `e2e00000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
			name: nodeName,
			type,
			typeVersion,
			position: [i * 220, 0],
			parameters,
			...(type === CALYPSO ? { credentials } : {}),
			...settings,
		};
	});
	return { id, name, active: false, settings: { executionOrder: 'v1' }, nodes, connections, pinData: {} };
}

const created = "={{ $('Create').first().json.id }}";

/** Every customer and purse operation, on a customer the workflow creates. */
const customerWorkflow = chain('e2eCustomerOps01', 'e2e: customer and purse operations', [
	{
		name: 'Create',
		parameters: {
			resource: 'customer',
			operation: 'create',
			additionalFields: { email: 'e2e@example.com', description: 'created by e2e', externalId: 'e2e-new-1' },
		},
	},
	{ name: 'Get', parameters: { resource: 'customer', operation: 'get', customerId: '={{ $json.id }}' } },
	{
		name: 'Update',
		parameters: {
			resource: 'customer',
			operation: 'update',
			customerId: '={{ $json.id }}',
			updateFields: { email: 'e2e-updated@example.com', description: 'updated by e2e' },
		},
	},
	{
		name: 'By external ID',
		parameters: { resource: 'customer', operation: 'getByExternalId', externalId: 'e2e-new-1' },
	},
	{ name: 'Block', parameters: { resource: 'customer', operation: 'block', customerId: '={{ $json.id }}' } },
	{
		name: 'Unblock',
		parameters: { resource: 'customer', operation: 'unblock', customerId: '={{ $json.id }}' },
	},
	{
		name: 'Get or create (existing)',
		parameters: {
			resource: 'customer',
			operation: 'getOrCreate',
			externalId: 'e2e-new-1',
			additionalFields: { email: 'ignored@example.com' },
		},
	},
	{
		name: 'Get or create (new)',
		parameters: {
			resource: 'customer',
			operation: 'getOrCreate',
			externalId: 'e2e-new-2',
			additionalFields: { email: 'e2e-new-2@example.com', description: 'made by getOrCreate' },
		},
	},
	{
		name: 'Address USDT_TRX',
		parameters: { resource: 'purse', operation: 'getAddress', customerId: created, currency: 'USDT_TRX' },
	},
	{
		name: 'Address TRX',
		parameters: { resource: 'purse', operation: 'getAddress', customerId: created, currency: 'TRX' },
	},
	{
		name: 'Address BTC',
		parameters: { resource: 'purse', operation: 'getAddress', customerId: created, currency: 'BTC' },
	},
	{ name: 'Purses', parameters: { resource: 'purse', operation: 'getAll', customerId: created } },
]);

/** Transaction Find over several pages, a filtered and limited Find, and Get. */
const transactionWorkflow = chain('e2eTransactions1', 'e2e: transactions', [
	{
		name: 'All',
		parameters: { resource: 'transaction', operation: 'getMany', customerId: IDS.paged, returnAll: true },
	},
	{
		name: 'One',
		executeOnce: true,
		parameters: {
			resource: 'transaction',
			operation: 'get',
			transactionId: "={{ $('All').last().json.id }}",
		},
	},
	{
		name: 'Confirmed USDT_TRX, first 5',
		executeOnce: true,
		parameters: {
			resource: 'transaction',
			operation: 'getMany',
			customerId: IDS.paged,
			returnAll: false,
			limit: 5,
			filters: { currency: 'USDT_TRX', transactionStates: ['CONFIRMED'] },
			options: { sortBy: 'createdDate', sortDirection: 'ASC', pageSize: 3 },
		},
	},
]);

/** Return All by amount: the e2e job answers its pages out of order while a deposit lands (issue 16). */
const outOfOrderWorkflow = chain('e2eTransactions2', 'e2e: pages out of order, a deposit meanwhile', [
	{
		name: 'By amount',
		parameters: {
			resource: 'transaction',
			operation: 'getMany',
			customerId: IDS.moving,
			returnAll: true,
			options: { sortBy: 'amount', sortDirection: 'ASC' },
		},
	},
]);

/** A known, an unknown and an invalid customer ID, one item each. @type {Step} */
const threeIds = {
	name: 'Three IDs',
	type: 'n8n-nodes-base.code',
	typeVersion: 2,
	parameters: {
		jsCode: `return [${JSON.stringify(IDS.known)}, ${JSON.stringify(IDS.unknown)}, 'not-a-uuid'].map((customerId) => ({ json: { customerId } }));`,
	},
};

/**
 * Continue-on-fail (an API error and a validation error become error items, a good item passes), then an API
 * error that stops the workflow.
 */
const errorWorkflow = chain('e2eErrors0000001', 'e2e: errors', [
	threeIds,
	{
		name: 'Get, continue on fail',
		onError: 'continueRegularOutput',
		parameters: { resource: 'customer', operation: 'get', customerId: '={{ $json.customerId }}' },
	},
	{
		name: 'Get unknown',
		executeOnce: true,
		parameters: { resource: 'customer', operation: 'get', customerId: IDS.unknown },
	},
]);

/** On Error "Continue (using error output)": the good item reaches "Succeeded", the failed ones "Failed". */
const errorOutputWorkflow = (() => {
	const workflow = chain('e2eErrorOut00001', 'e2e: error output', [
		threeIds,
		{
			name: 'Get, error output',
			onError: 'continueErrorOutput',
			parameters: { resource: 'customer', operation: 'get', customerId: '={{ $json.customerId }}' },
		},
		{ name: 'Succeeded', type: 'n8n-nodes-base.noOp', parameters: {} },
	]);
	const failed = {
		...workflow.nodes[3],
		id: 'e2e00000-0000-4000-8000-000000000099',
		name: 'Failed',
		position: [660, 200],
	};
	workflow.nodes.push(failed);
	workflow.connections['Get, error output'].main.push([{ node: 'Failed', type: 'main', index: 0 }]);
	return workflow;
})();

/** Issue 16, item 4: one Get with Timeout 2000 ms and Retry Off, run while the emulator trickles its answer. */
const trickleWorkflow = chain('e2eTrickle000001', 'e2e: trickling answer', [
	{
		name: 'Get, trickled',
		parameters: {
			resource: 'customer',
			operation: 'get',
			customerId: IDS.known,
			options: { retry: 'off', timeout: 2000 },
		},
	},
]);

/** The Customer parameter as a resource locator: by External ID (one look-up per distinct value), then by ID. */
const locatorWorkflow = chain('e2eLocator000001', 'e2e: customer by External ID', [
	{
		name: 'Users',
		type: 'n8n-nodes-base.code',
		typeVersion: 2,
		parameters: {
			jsCode: `return ['e2e-known', 'e2e-paged', 'e2e-known'].map((user) => ({ json: { user } }));`,
		},
	},
	{
		name: 'Block by External ID',
		parameters: {
			resource: 'customer',
			operation: 'block',
			customerId: { __rl: true, mode: 'externalId', value: '={{ $json.user }}' },
		},
	},
	{
		name: 'Unblock by ID',
		parameters: {
			resource: 'customer',
			operation: 'unblock',
			customerId: { __rl: true, mode: 'id', value: '={{ $json.id }}' },
		},
	},
]);

/**
 * A workflow as n8n saved it before the Customer parameter became a resource locator: plain Customer ID strings, a
 * literal and an expression (the same JSON an earlier version of this suite imported).
 */
const savedBeforeLocatorWorkflow = chain('e2eSavedPlain001', 'e2e: saved with a plain Customer ID', [
	{
		name: 'Block (plain ID)',
		parameters: { resource: 'customer', operation: 'block', customerId: IDS.known },
	},
	{
		name: 'Unblock (plain expression)',
		parameters: { resource: 'customer', operation: 'unblock', customerId: '={{ $json.id }}' },
	},
]);

module.exports = {
	IDS,
	customerWorkflow,
	transactionWorkflow,
	errorWorkflow,
	errorOutputWorkflow,
	outOfOrderWorkflow,
	trickleWorkflow,
	locatorWorkflow,
	savedBeforeLocatorWorkflow,
};
