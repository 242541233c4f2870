/**
 * The Customer parameter (a resource locator): by ID, by External ID (one customer/external/get per distinct value
 * per run, shared by concurrent items), none or several found, and workflows saved with a plain Customer ID string.
 */
import { NodeHelpers } from 'n8n-workflow';
import type { INodeParameters } from 'n8n-workflow';

import { CalypsoPay } from '../../nodes/CalypsoPay/CalypsoPay.node';

import { runNode } from '../helpers/engine';
import { useEmulator } from '../helpers/calypso';

const server = useEmulator();
const paths = () => server.emulator.requests.map((r) => r.path.replace('/api/v1/customer-purse/', ''));
const lookups = () =>
	server.emulator.requests
		.filter((r) => r.path.endsWith('customer/external/get'))
		.map((r) => r.body?.payload?.externalId);
const byId = (value: string) => ({ __rl: true, mode: 'id', value });
const byExternalId = (value: string) => ({ __rl: true, mode: 'externalId', value });

describe('Customer by ID or by External ID', () => {
	test('by ID (the locator object) sends that ID, with no look-up', async () => {
		const customer = server.emulator.seedCustomer({ externalId: 'u-1' });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: byId(customer.id),
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({ id: customer.id, blocked: true });
		expect(paths()).toEqual(['customer/block']);
	});

	test('by External ID blocks the one customer that has it: one look-up, then the write with its ID', async () => {
		const customer = server.emulator.seedCustomer({ externalId: 'support-flagged-7' });
		server.emulator.seedCustomer({ externalId: 'someone-else' });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: byExternalId('support-flagged-7'),
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({
			id: customer.id,
			externalId: 'support-flagged-7',
			blocked: true,
		});
		expect(paths()).toEqual(['customer/external/get', 'customer/block']);
		expect(server.emulator.requests[1].body?.payload).toEqual({ customerId: customer.id });
	});

	test('many items: one look-up per distinct External ID, even while items run concurrently', async () => {
		const a = server.emulator.seedCustomer({ externalId: 'user-a' });
		const b = server.emulator.seedCustomer({ externalId: 'user-b' });
		// Each look-up is answered only once two requests are in flight: items run concurrently while it is pending,
		// so an item that did not share the pending look-up of its value would send its own.
		server.emulator.injectFault({ path: 'customer/external/get', holdUntilInFlight: 2, times: 2 });
		const users = ['user-a', 'user-a', 'user-b', 'user-a', 'user-b', 'user-b'];
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: byExternalId('={{ $json.user }}') },
			users.map((user) => ({ user })),
		);
		expect(run.status).toBe('success');
		expect(lookups().sort()).toEqual(['user-a', 'user-b']);
		const lookupRequests = server.emulator.requests.filter((r) => r.path.endsWith('customer/external/get'));
		expect(Math.max(...lookupRequests.map((r) => r.inFlight))).toBe(2);
		expect(run.items.map((item) => item.json.id)).toEqual(
			users.map((user) => (user === 'user-a' ? a.id : b.id)),
		);
		expect(run.items.map((item) => item.pairedItem)).toEqual(users.map((_, item) => ({ item })));
		expect(paths().filter((path) => path === 'customer/get')).toHaveLength(6);
	});

	test('every operation that takes a customer resolves the External ID to the ID it sends', async () => {
		const customer = server.emulator.seedCustomer({ externalId: 'shop-42', email: 'old@example.com' });
		server.emulator.seedPurse(customer.id, 'USDT_TRX');
		server.emulator.seedTransactions(customer.id, 3);
		const cases: Array<[INodeParameters, string, (payload: Record<string, unknown>) => unknown]> = [
			[{ resource: 'customer', operation: 'get' }, 'customer/get', (p) => p.customerId],
			[
				{ resource: 'customer', operation: 'update', updateFields: { email: 'new@example.com' } },
				'customer/update',
				(p) => p.id,
			],
			[{ resource: 'customer', operation: 'block' }, 'customer/block', (p) => p.customerId],
			[{ resource: 'customer', operation: 'unblock' }, 'customer/unblock', (p) => p.customerId],
			[{ resource: 'purse', operation: 'getAddress', currency: 'TRX' }, 'address/get', (p) => p.customerId],
			[{ resource: 'purse', operation: 'getAll' }, 'purse/get-all', (p) => p.customerId],
			[
				{ resource: 'transaction', operation: 'getMany', returnAll: true },
				'transaction/find',
				(p) => p.customerId,
			],
		];
		for (const [parameters, path, sentId] of cases) {
			server.emulator.requests.length = 0;
			const run = await runNode(server.credentials, { ...parameters, customerId: byExternalId('shop-42') });
			expect({ path, status: run.status }).toEqual({ path, status: 'success' });
			expect(paths()).toEqual(['customer/external/get', path]);
			expect(sentId(server.emulator.requests[1].body?.payload ?? {})).toBe(customer.id);
		}
	});

	test('Get Deposit Address reports the resolved Customer ID in its output', async () => {
		const customer = server.emulator.seedCustomer({ externalId: 'shop-43' });
		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAddress',
			customerId: byExternalId('shop-43'),
			currency: 'USDT_TRX',
		});
		expect(run.items[0].json).toMatchObject({ customerId: customer.id, currency: 'USDT_TRX' });
	});

	test('no customer with the External ID: an error naming it, and nothing is written', async () => {
		server.emulator.seedCustomer({ externalId: 'someone-else' });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: byExternalId('ghost-9'),
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('No customer has External ID "ghost-9"');
		expect(paths()).toEqual(['customer/external/get']);
	});

	test('several customers with the External ID: an error listing them, and none is picked', async () => {
		const first = server.emulator.seedCustomer({ externalId: 'dup' });
		const second = server.emulator.seedCustomer({ externalId: 'dup' });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: byExternalId('dup'),
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toContain('2 customers have External ID "dup"');
		expect(run.error?.message).toContain(first.id);
		expect(run.error?.message).toContain(second.id);
		expect(paths()).toEqual(['customer/external/get']);
		expect([...server.emulator.state.customers.values()].some((c) => c.blocked)).toBe(false);
	});

	test('under Continue On Fail, an item whose External ID is unknown fails alone', async () => {
		const known = server.emulator.seedCustomer({ externalId: 'known' });
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'unblock', customerId: byExternalId('={{ $json.user }}') },
			[{ user: 'known' }, { user: 'unknown' }, { user: 'known' }],
			{ continueOnFail: true },
		);
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json.id ?? item.json.error)).toEqual([
			known.id,
			'No customer has External ID "unknown"',
			known.id,
		]);
		expect(lookups().sort()).toEqual(['known', 'unknown']);
	});

	test('an empty External ID, or an ID that is not a UUID, is refused before anything is sent', async () => {
		// Typed in the field: n8n itself refuses to run a workflow whose node has issues (the editor shows them).
		for (const customerId of [byExternalId(''), byId('user-1')]) {
			await expect(
				runNode(server.credentials, { resource: 'customer', operation: 'get', customerId }),
			).rejects.toThrow(/has issues/);
		}
		// From an expression (n8n cannot check it before the run): the node's own errors, naming the field.
		const empty = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: byExternalId('={{ $json.user }}') },
			[{ user: '' }],
		);
		expect(empty.error?.message).toBe('Customer External ID is required and must not be empty');
		const notUuid = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: byId('={{ $json.user }}') },
			[{ user: 'user-1' }],
		);
		expect(notUuid.error?.message).toMatch(/^Customer ID must be a UUID like .*, got "user-1"$/);
		const mode = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: { __rl: true, mode: 'url', value: 'x' },
		});
		expect(mode.error?.message).toBe('Customer mode must be one of id, externalId, got "url"');
		expect(server.emulator.requests).toHaveLength(0);
	});
});

describe('workflows saved before the locator', () => {
	test('a plain Customer ID string, and an expression giving one, run as before', async () => {
		const customer = server.emulator.seedCustomer({ externalId: 'old-1' });
		// The parameters exactly as a workflow saved before the change holds them.
		const saved = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: customer.id,
		});
		expect(saved.items[0].json).toMatchObject({ id: customer.id, blocked: true });
		const expression = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'unblock', customerId: '={{ $json.id }}' },
			[{ id: customer.id }],
		);
		expect(expression.items[0].json).toMatchObject({ id: customer.id, blocked: false });
		expect(paths()).toEqual(['customer/block', 'customer/unblock']);
	});

	test('a value typed in the editor before a mode was picked (mode "") is a Customer ID', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: { __rl: true, mode: '', value: customer.id },
		});
		expect(run.items[0].json).toMatchObject({ id: customer.id });
		expect(paths()).toEqual(['customer/get']);
	});

	test('a user ID given with no mode picked: the error says to pick By External ID', async () => {
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: { __rl: true, mode: '', value: 'user-1' },
		});
		expect(run.error?.message).toMatch(/^Customer ID must be a UUID like .*, got "user-1"$/);
		expect((run.error as { description?: string }).description).toMatch(/pick By External ID/);
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('"let the model define" on a plain-string field ({value} without a mode) is a Customer ID', async () => {
		// The editor spreads the string value into the override: { value: "={{ $fromAI(…) }}" }, no __rl, no mode.
		const customer = server.emulator.seedCustomer();
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: { value: '={{ $json.id }}' } },
			[{ id: customer.id }],
		);
		expect(run.items[0].json).toMatchObject({ id: customer.id });
		expect(paths()).toEqual(['customer/get']);
	});
});

describe('node version 1.1: a new Customer field starts By ID', () => {
	test('a v1.1 node with the default mode and a typed UUID runs; an untouched one does not start', async () => {
		const customer = server.emulator.seedCustomer();
		// What the editor holds for a new 1.1 node (its default, mode By ID) once a Customer ID is typed into it.
		const loaded = NodeHelpers.getNodeParameters(
			new CalypsoPay().description.properties,
			{ resource: 'customer', operation: 'block' },
			true,
			false,
			{ typeVersion: 1.1, parameters: {} } as never,
			new CalypsoPay().description,
		) as INodeParameters;
		expect(loaded.customerId).toEqual({ __rl: true, mode: 'id', value: '' });
		const typed = { ...loaded, customerId: { ...(loaded.customerId as object), value: customer.id } };
		const run = await runNode(server.credentials, typed, [{}], { typeVersion: 1.1 });
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({ id: customer.id, blocked: true });
		// Saved untouched (n8n leaves a default out of the saved workflow): the engine fills in 1.1's default, an empty
		// required field, and refuses to start, as it does for version 1's ''.
		for (const typeVersion of [1, 1.1]) {
			await expect(
				runNode(server.credentials, { resource: 'customer', operation: 'block' }, [{}], { typeVersion }),
			).rejects.toThrow(/has issues/); // n8n 2.41: "The 'Calypso' node has issues: Parameter "Customer" is required."
		}
		expect(paths()).toEqual(['customer/block']);
	});

	test('a v1 node with a plain Customer ID string still runs; a value typed with no mode picked is still an ID', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: customer.id },
			[{}],
			{ typeVersion: 1 },
		);
		expect(run.items[0].json).toMatchObject({ id: customer.id });
		// A value typed before a mode was picked (v1's '' default): an ID, with the hint to pick By External ID if not.
		const unpicked = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: { __rl: true, mode: '', value: 'user-1' } },
			[{}],
			{ typeVersion: 1 },
		);
		expect((unpicked.error as { description?: string } | undefined)?.description).toMatch(
			/pick By External ID/,
		);
		expect(paths()).toEqual(['customer/get']);
	});
});
