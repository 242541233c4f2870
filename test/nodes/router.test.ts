/** The item loop: concurrency keeps order and pairing; concurrency 1 is sequential. */
import type { INodeParameters } from 'n8n-workflow';

import { useEmulator } from '../helpers/calypso';
import { runNode } from '../helpers/engine';

const server = useEmulator();

function getCustomers(ids: string[], options: INodeParameters = {}) {
	return runNode(
		server.credentials,
		{ resource: 'customer', operation: 'get', customerId: '={{ $json.id }}', options },
		ids.map((id) => ({ id })),
	);
}

describe('router', () => {
	test('items sent concurrently come out in input order, paired, even when the first answers last', async () => {
		const customers = Array.from({ length: 12 }, (_, i) =>
			server.emulator.seedCustomer({ email: `c${i}@example.com` }),
		);
		const slow = customers[0];
		const isSlow = (request: { body: Record<string, unknown> | undefined }) =>
			(request.body?.payload as { customerId?: string } | undefined)?.customerId === slow.id;
		// Every answer waits until all twelve requests are in flight; the first item's then comes last.
		server.emulator.injectFault({ path: 'customer/get', match: isSlow, holdUntilInFlight: 12, delayMs: 100 });
		server.emulator.injectFault({ path: 'customer/get', times: 11, holdUntilInFlight: 12 });
		const run = await getCustomers(customers.map((c) => c.id));
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json.email)).toEqual(customers.map((c) => c.email));
		expect(run.items.map((item) => item.pairedItem)).toEqual(customers.map((_, i) => ({ item: i })));
		const { requests } = server.emulator;
		expect(Math.max(...requests.map((request) => request.inFlight))).toBe(12);
		expect(requests.find(isSlow)?.response).toMatchObject({ id: slow.id });
	});

	test('Concurrency 1 sends one item after another', async () => {
		server.emulator.options.latencyMs = 25;
		const customers = Array.from({ length: 5 }, () => server.emulator.seedCustomer());
		const run = await getCustomers(
			customers.map((c) => c.id),
			{ concurrency: 1 },
		);
		expect(run.items.map((item) => item.json.id)).toEqual(customers.map((c) => c.id));
		// Each request arrived when nothing else was in flight.
		expect(server.emulator.requests.map((request) => request.inFlight)).toEqual([1, 1, 1, 1, 1]);
	});

	test('a bounded pool: never more items in flight than Concurrency', async () => {
		const customers = Array.from({ length: 12 }, () => server.emulator.seedCustomer());
		// The first four answers wait until four are in flight: the pool fills up to its bound, and no further.
		server.emulator.injectFault({ path: 'customer/get', times: 4, holdUntilInFlight: 4 });
		server.emulator.options.latencyMs = 20;
		const run = await getCustomers(
			customers.map((c) => c.id),
			{ concurrency: 4 },
		);
		expect(run.items.map((item) => item.json.id)).toEqual(customers.map((c) => c.id));
		const inFlight = server.emulator.requests.map((request) => request.inFlight);
		expect(inFlight).toHaveLength(12);
		expect(inFlight.slice(0, 4)).toEqual([1, 2, 3, 4]);
		expect(Math.max(...inFlight)).toBe(4);
	});

	test('a Concurrency outside 1..100 is refused before anything is sent', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await getCustomers([customer.id], { concurrency: 0 });
		expect(run.error?.message).toBe('Concurrency must be a whole number from 1 to 100, got "0"');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('when an item stops the run, the error says which other items had already gone through', async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			match: (request) =>
				(request.body?.payload as { externalId?: string } | undefined)?.externalId === 'user-c',
			status: 400,
			body: { errorCode: '001', message: 'Rejected for the test', traceId: 'trace-test' },
		});
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { externalId: '={{ $json.userId }}' },
				options: { concurrency: 1 },
			},
			[{ userId: 'user-a' }, { userId: 'user-b' }, { userId: 'user-c' }, { userId: 'user-d' }],
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 001: Rejected for the test');
		expect(run.error?.description).toContain(
			'2 other item(s) had already been sent successfully (item 0, 1); their results are not passed on',
		);
		expect(server.emulator.state.customers.size).toBe(2);
	});

	const creates = () => server.emulator.requests.filter((r) => r.path.endsWith('customer/create'));
	const lookupOf = (externalId: string) => (request: { body?: Record<string, unknown> }) =>
		(request.body?.payload as { externalId?: string } | undefined)?.externalId === externalId;
	/** Calypso refuses the External ID look-up for this value: the item fails (Calypso error 004). */
	const rejectLookupOf = (externalId: string) =>
		server.emulator.injectFault({
			path: 'customer/external/get',
			match: lookupOf(externalId),
			status: 400,
			body: { errorCode: '004', message: 'Rejected for the test', traceId: 'trace-test' },
		});
	const blockByExternalId = (userIds: string[], options: { continueOnFail?: boolean } = {}) =>
		runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'block',
				customerId: { __rl: true, mode: 'externalId', value: '={{ $json.userId }}' },
			},
			userIds.map((userId) => ({ userId })),
			options,
		);

	test('a create queued behind a sibling with the same External ID is not sent once that sibling stopped the run', async () => {
		// Creates sharing an External ID go one at a time: item 1 waits for item 0, whose create is refused.
		server.emulator.injectFault({
			path: 'customer/create',
			status: 400,
			body: { errorCode: '001', message: 'Rejected for the test', traceId: 'trace-test' },
		});
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'create', additionalFields: { externalId: 'user-a' } },
			[{}, {}],
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 001: Rejected for the test');
		expect(run.error?.description).toContain(
			'1 other item(s) were about to send a change and did not (item 1)',
		);
		expect(creates()).toHaveLength(1);
		expect(server.emulator.state.customers.size).toBe(0);
	});

	test('an item whose look-up was still under way when another item stopped the run sends no change after it', async () => {
		const late = server.emulator.seedCustomer({ externalId: 'user-late' });
		// A slow backend answers item 1's look-up a second later, long after item 0's look-up failed and stopped the
		// run: item 1's Block would be sent after that.
		server.emulator.injectFault({
			path: 'customer/external/get',
			match: lookupOf('user-late'),
			landAfterMs: 1000,
		});
		rejectLookupOf('user-bad');
		const run = await blockByExternalId(['user-bad', 'user-late']);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		expect(run.error?.description).toContain('were about to send a change and did not (item 1)');
		expect(server.emulator.requests.map((r) => r.path.replace('/api/v1/customer-purse/', '')).sort()).toEqual(
			['customer/external/get', 'customer/external/get'],
		);
		expect(server.emulator.state.customers.get(late.id)?.blocked).toBe(false);
	});

	test('with Continue On Fail, the other items still send their changes', async () => {
		const customer = server.emulator.seedCustomer({ externalId: 'user-ok' });
		rejectLookupOf('user-bad');
		const run = await blockByExternalId(['user-bad', 'user-ok'], { continueOnFail: true });
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json.error ?? item.json.blocked)).toEqual([
			'Calypso error 004: Rejected for the test',
			true,
		]);
		expect(server.emulator.state.customers.get(customer.id)?.blocked).toBe(true);
	});
});
