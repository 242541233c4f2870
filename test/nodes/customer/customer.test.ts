import { runNode } from '../../helpers/engine';
import { useEmulator } from '../../helpers/calypso';

const server = useEmulator();
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('customer', () => {
	test('create sends the additional fields and returns the customer', async () => {
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { email: 'ada@example.com', description: 'VIP', externalId: 'user-42' },
		});
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(1);
		const created = run.items[0].json;
		expect(created).toMatchObject({
			email: 'ada@example.com',
			description: 'VIP',
			externalId: 'user-42',
			blocked: false,
		});
		expect(server.emulator.state.customers.get(created.id as string)).toMatchObject({
			externalId: 'user-42',
		});
		expect(run.items[0].pairedItem).toEqual({ item: 0 });
	});

	test('create without fields creates a bare customer', async () => {
		const run = await runNode(server.credentials, { resource: 'customer', operation: 'create' });
		expect(run.items[0].json).toMatchObject({ blocked: false });
		expect(server.emulator.requests[0].body?.payload).toEqual({});
	});

	test('get, update, block and unblock', async () => {
		const customer = server.emulator.seedCustomer({ email: 'old@example.com', externalId: 'x-1' });
		const got = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
		});
		expect(got.items[0].json).toEqual({
			id: customer.id,
			email: 'old@example.com',
			externalId: 'x-1',
			blocked: false,
		});

		const updated = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'update',
			customerId: customer.id,
			updateFields: { email: 'new@example.com' },
		});
		expect(updated.items[0].json).toMatchObject({ email: 'new@example.com', externalId: 'x-1' });
		expect(server.emulator.requests.at(-1)?.body?.payload).toEqual({
			id: customer.id,
			email: 'new@example.com',
		});

		const blocked = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: customer.id,
		});
		expect(blocked.items[0].json.blocked).toBe(true);
		expect(server.emulator.state.customers.get(customer.id)?.blocked).toBe(true);

		const unblocked = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'unblock',
			customerId: customer.id,
		});
		expect(unblocked.items[0].json.blocked).toBe(false);
	});

	test('getByExternalId returns one item per match, and no items when none match', async () => {
		server.emulator.seedCustomer({ externalId: 'shared' });
		server.emulator.seedCustomer({ externalId: 'shared' });
		server.emulator.seedCustomer({ externalId: 'other' });
		const two = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'getByExternalId',
			externalId: 'shared',
		});
		expect(two.items.map((item) => item.json.externalId)).toEqual(['shared', 'shared']);
		expect(two.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);

		const none = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'getByExternalId',
			externalId: 'nobody',
		});
		expect(none.status).toBe('success');
		expect(none.items).toEqual([]);
	});

	test('an expression maps each input item to its own request, in order', async () => {
		const a = server.emulator.seedCustomer({ email: 'a@example.com' });
		const b = server.emulator.seedCustomer({ email: 'b@example.com' });
		const c = server.emulator.seedCustomer({ email: 'c@example.com' });
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: '={{ $json.id }}' },
			[{ id: a.id }, { id: b.id }, { id: c.id }, { id: a.id }],
		);
		expect(run.items.map((item) => item.json.email)).toEqual([
			'a@example.com',
			'b@example.com',
			'c@example.com',
			'a@example.com',
		]);
		expect(run.items.map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
	});

	test('an unknown customer is an API error with code, message and trace ID', async () => {
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: UNKNOWN,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 004: Customer not found');
		expect(run.error?.description).toMatch(/Trace ID \(for Calypso support\): [0-9a-f]+/);
		expect((run.error as { context?: { itemIndex?: number } }).context?.itemIndex).toBe(0);
	});
});

describe('inputs from expressions', () => {
	const payloadsTo = (path: string) =>
		server.emulator.requests.filter((request) => request.path.endsWith(path)).map((r) => r.body?.payload);

	test('optional fields that resolve to null or "" are not sent', async () => {
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: {
					email: '={{ $json.email }}',
					description: '={{ $json.note }}',
					externalId: '={{ $json.userId }}',
				},
			},
			[{ email: null, note: '', userId: 'u-1' }],
		);
		expect(run.status).toBe('success');
		expect(payloadsTo('customer/create')).toEqual([{ externalId: 'u-1' }]);
	});

	test('Update: an empty Description leaves the stored one alone; Clear Description removes it', async () => {
		const customer = server.emulator.seedCustomer({ description: 'keep me' });
		const untouched = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'update',
				customerId: customer.id,
				updateFields: { description: '={{ $json.note }}', email: '={{ $json.email }}' },
			},
			[{ note: '', email: 'new@example.com' }],
		);
		expect(untouched.status).toBe('success');
		expect(payloadsTo('customer/update')).toEqual([{ id: customer.id, email: 'new@example.com' }]);
		expect(server.emulator.state.customers.get(customer.id)?.description).toBe('keep me');

		const nothing = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'update',
			customerId: customer.id,
			updateFields: { description: '={{ null }}' },
		});
		expect(nothing.error?.message).toMatch(/^Nothing to update/);
		expect(payloadsTo('customer/update')).toHaveLength(1);

		const cleared = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'update',
			customerId: customer.id,
			updateFields: { clearDescription: true },
		});
		expect(cleared.status).toBe('success');
		expect(payloadsTo('customer/update')[1]).toEqual({ id: customer.id, description: '' });
	});

	test('a UUID in capitals is sent lower-cased', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id.toUpperCase(),
		});
		expect(run.status).toBe('success');
		expect(payloadsTo('customer/get')).toEqual([{ customerId: customer.id }]);
	});

	test('a Secret Key pasted with spaces around it still signs (it is trimmed like the API Key)', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(
			{ ...server.credentials, apiSecret: ` ${server.credentials.apiSecret}\n` },
			{ resource: 'customer', operation: 'get', customerId: customer.id },
		);
		expect(run.status).toBe('success');
	});
});

/** Issue 16, items 2 and 3: what a create says after an answer that does not settle whether it landed. */
describe('create after an unclear answer', () => {
	const fast = { retry: 'custom', maxRetries: 2, retryDelay: 5, timeout: 300 };
	const creates = () =>
		server.emulator.requests.filter((request) => request.path.endsWith('customer/create'));

	test('processed, then HTTP 500 (Calypso 000): the customer it made, found by its External ID, one create', async () => {
		server.emulator.injectFault({ path: 'customer/create', afterProcessing: true, status: 500 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'landed-500', email: 'l5@example.com' },
			options: fast,
		});
		expect(run.status).toBe('success');
		const [made] = [...server.emulator.state.customers.values()];
		expect(run.items[0].json).toMatchObject({
			id: made.id,
			externalId: 'landed-500',
			email: 'l5@example.com',
		});
		expect(server.emulator.state.customers.size).toBe(1);
		expect(creates()).toHaveLength(1);
	});

	test('processed, then a 200 whose body is cut after the headers: the customer it made, not an empty item', async () => {
		server.emulator.injectFault({ path: 'customer/create', cutBodyAt: 0 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'landed-cut', description: 'cut' },
			options: fast,
		});
		expect(run.status).toBe('success');
		const [made] = [...server.emulator.state.customers.values()];
		expect(run.items[0].json).toMatchObject({ id: made.id, externalId: 'landed-cut', description: 'cut' });
		expect(creates()).toHaveLength(1);
	});

	test('processed, then a 200 cut half-way, without an External ID: "may or may not", not a success', async () => {
		server.emulator.injectFault({ path: 'customer/create', cutBodyAt: 10 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { email: 'half@example.com' },
			options: fast,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^The customer may or may not have been created/);
		expect(creates()).toHaveLength(1);
	});

	test('a rejection Calypso documents (400, 001) stays a plain error: no look-up after it', async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			status: 400,
			body: { errorCode: '001', message: 'Bad email', traceId: 'abc123' },
		});
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'rejected-1' },
			options: fast,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 001: Bad email');
		const paths = server.emulator.requests.map((request) => request.path.split('/').slice(-2).join('/'));
		expect(paths).toEqual(['external/get', 'customer/create']);
	});

	test("two items with one External ID, the first answered 503 unprocessed: each item its own outcome, never the other one's customer", async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			status: 503,
			match: (request) =>
				(request.body?.payload as { email?: string } | undefined)?.email === 'first@example.com',
		});
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { externalId: 'signup-twice', email: '={{ $json.email }}' },
				options: fast,
			},
			[{ email: 'first@example.com' }, { email: 'second@example.com' }],
			{ continueOnFail: true },
		);
		expect(server.emulator.state.customers.size).toBe(1);
		const [made] = [...server.emulator.state.customers.values()];
		expect(made.email).toBe('second@example.com');
		expect(run.items[0].json.id).toBeUndefined();
		expect(String(run.items[0].json.error)).toMatch(/^The customer may or may not have been created/);
		expect(run.items[1].json).toMatchObject({ id: made.id, email: 'second@example.com' });
	}, 20_000);
});

/**
 * Issue 16 follow-up (attack16): a create answered with a 2xx that does not name the customer, or with a redirect,
 * after it landed: recovered by its External ID (or "may or may not"), never sent again, never a success without it.
 */
describe('create answered without the customer, or redirected, after it landed', () => {
	const customersWith = (externalId: string) =>
		[...server.emulator.state.customers.values()].filter((c) => c.externalId === externalId);

	/** One Create item (Continue On Fail) whose create lands at Calypso and is then answered by `fault`. */
	const createAnswered = async (fault: Record<string, unknown>, externalId: string) => {
		server.emulator.injectFault({ path: 'customer/create', afterProcessing: true, ...fault });
		return await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { email: 'ada@example.com', externalId },
			},
			[{}],
			{ continueOnFail: true },
		);
	};

	/** One customer exists, and the item is that customer or says it may or may not have been created. */
	const expectItsCustomerOrMayOrMayNot = (run: Awaited<ReturnType<typeof runNode>>, externalId: string) => {
		const stored = customersWith(externalId);
		expect(stored).toHaveLength(1);
		const json = run.items[0]?.json ?? {};
		if (json.error !== undefined) {
			expect(String(json.error)).toMatch(/may or may not have been created/);
		} else {
			expect(json.id).toBe(stored[0].id);
		}
	};

	// Found by the attack on issue 16's fixes. A 2xx that does not say what was created is unclear for a create: a
	// JSON array (`typeof [] === 'object'`) or an object without an id passed through as a customer without an id.
	test('create answered 200 with a JSON array after it landed: the customer or "may or may not", never a success without it', async () => {
		const run = await createAnswered({ status: 200, body: [] }, 'attack16-array');
		expectItsCustomerOrMayOrMayNot(run, 'attack16-array');
	});

	test('create answered 200 {} after it landed: the customer or "may or may not", never a success without an id', async () => {
		const run = await createAnswered({ status: 200, body: {} }, 'attack16-empty');
		expectItsCustomerOrMayOrMayNot(run, 'attack16-empty');
	});

	// A create is never sent twice while the first may still land: a same-origin 307 used to re-send it, freshly
	// signed (two customers from one item).
	test('create answered 307 (same origin) after it landed: not sent again, one customer', async () => {
		const run = await createAnswered(
			{ status: 307, body: {}, headers: { Location: '/api/v1/customer-purse/customer/create' } },
			'attack16-redirect',
		);
		const creates = server.emulator.requests.filter((r) => r.path.endsWith('customer/create'));
		expect({
			creates: creates.length,
			customers: customersWith('attack16-redirect').length,
			out: run.items.length,
		}).toEqual({
			creates: 1,
			customers: 1,
			out: 1,
		});
	});

	// Only Calypso's documented refusals are plain errors: a redirect to another origin after the create landed used
	// to be one (no recovery look-up, so a re-run created a second customer).
	test('create answered 302 to another origin after it landed: recovered or "may or may not", not a plain error', async () => {
		const run = await createAnswered(
			{ status: 302, body: {}, headers: { Location: 'http://127.0.0.2:9/elsewhere' } },
			'attack16-302',
		);
		expectItsCustomerOrMayOrMayNot(run, 'attack16-302');
	});

	// A Location that is not a URL made `new URL` throw a bare TypeError: the item's error was "".
	test('create answered 302 with an unreadable Location after it landed: a message saying it may have been created', async () => {
		const run = await createAnswered(
			{ status: 302, body: {}, headers: { Location: 'http://[bad' } },
			'attack16-badlocation',
		);
		expectItsCustomerOrMayOrMayNot(run, 'attack16-badlocation');
	});
});
