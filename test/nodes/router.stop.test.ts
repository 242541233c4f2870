/**
 * The run stopping (Continue On Fail off): what the error's description says about the other items must be true of
 * what reached Calypso.
 */
import { useEmulator } from '../helpers/calypso';
import { sleep } from 'n8n-workflow';

import { runChain, runNode } from '../helpers/engine';

const server = useEmulator();

const ofCustomer = (id: string) => (request: { body?: Record<string, unknown> }) =>
	(request.body?.payload as { customerId?: string } | undefined)?.customerId === id;

const blocks = () => server.emulator.requests.filter((r) => r.path.endsWith('customer/block'));
/** Customer → Block, one item per customer ID. */
const blockEach = (ids: string[]) =>
	runNode(
		server.credentials,
		{ resource: 'customer', operation: 'block', customerId: '={{ $json.id }}' },
		ids.map((id) => ({ id })),
	);

/** Calypso's refusal (error 004) the tests answer with. */
const rejected = {
	status: 400,
	body: { errorCode: '004', message: 'Rejected for the test', traceId: 'trace-test' },
};
/** A request of this path and customer is refused after 300 ms: its item stops the run while another waits. */
const refuseLater = (path: string, customerId: string) =>
	server.emulator.injectFault({ path, match: ofCustomer(customerId), delayMs: 300, ...rejected });

describe('router: a stopped run', () => {
	test('an item whose change Calypso did not confirm (a 503, to be retried) is not said to have sent nothing when the stop cancels its retry', async () => {
		const [first, second] = [server.emulator.seedCustomer(), server.emulator.seedCustomer()];
		// Item 0's Block lands, but a gateway answers 503 and asks for a retry in 2 s.
		server.emulator.injectFault({
			path: 'customer/block',
			match: ofCustomer(first.id),
			afterProcessing: true,
			status: 503,
			headers: { 'retry-after': '2' },
		});
		// Item 1's Block is refused meanwhile: the run stops, and item 0's retry is not sent.
		refuseLater('customer/block', second.id);
		const run = await blockEach([first.id, second.id]);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		// The retry was not sent; the first Block did reach Calypso, and landed.
		expect(blocks()).toHaveLength(2);
		expect(server.emulator.state.customers.get(first.id)?.blocked).toBe(true);
		expect(run.error?.description).not.toContain('did not (item 0)');
		expect(run.error?.description).toContain(
			'1 other item(s) had sent a change that Calypso did not confirm, and it was not sent again as the run had stopped: it may have been carried out (item 0).',
		);
	});

	test('a change waiting out a long Retry-After does not hold the stopped run until then', async () => {
		const [first, second] = [server.emulator.seedCustomer(), server.emulator.seedCustomer()];
		// Item 0's Block is answered 503 with a retry asked for in 40 s: longer than this test's own 20 s limit.
		server.emulator.injectFault({
			path: 'customer/block',
			match: ofCustomer(first.id),
			status: 503,
			headers: { 'retry-after': '40' },
		});
		refuseLater('customer/block', second.id);
		const run = await blockEach([first.id, second.id]);
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		expect(blocks()).toHaveLength(2);
		expect(run.error?.description).toContain('did not confirm');
	}, 20_000);

	const withExternalId = (externalId: string) => (request: { body?: Record<string, unknown> }) =>
		(request.body?.payload as { externalId?: string } | undefined)?.externalId === externalId;
	const withDescription = (description: string) => (request: { body?: Record<string, unknown> }) =>
		(request.body?.payload as { description?: string } | undefined)?.description === description;

	test('a create under way when the run stops, left unconfirmed, is still checked, found and named as sent', async () => {
		// Item 0's create lands, but its answer (a 503, given late) does not confirm it; item 1's create is refused first.
		server.emulator.injectFault({
			path: 'customer/create',
			match: withDescription('zero'),
			afterProcessing: true,
			delayMs: 300,
			status: 503,
		});
		server.emulator.injectFault({ path: 'customer/create', match: withDescription('one'), ...rejected });
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { externalId: '={{ $json.ext }}', description: '={{ $json.description }}' },
			},
			[
				{ ext: 'user-0', description: 'zero' },
				{ ext: 'user-1', description: 'one' },
			],
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		expect(server.emulator.state.customers.size).toBe(1);
		// The look-ups after the unconfirmed create ran, and found it: item 0 is named as sent, not as held.
		expect(run.error?.description).toContain('1 other item(s) had already been sent successfully (item 0)');
		expect(run.error?.description).not.toContain('did not');
	});

	test('a same-origin redirect of a change answered after the run stopped is not followed', async () => {
		const [first, second] = [server.emulator.seedCustomer(), server.emulator.seedCustomer()];
		server.emulator.injectFault({
			path: 'customer/block',
			match: ofCustomer(first.id),
			delayMs: 300,
			status: 307,
			body: '',
			headers: { Location: '/api/v1/customer-purse/customer/block?moved=1' },
		});
		server.emulator.injectFault({ path: 'customer/block', match: ofCustomer(second.id), ...rejected });
		const run = await blockEach([first.id, second.id]);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		// Two requests in all: the redirect target was never asked.
		expect(server.emulator.requests).toHaveLength(2);
		expect(server.emulator.state.customers.get(first.id)?.blocked).toBe(false);
		expect(run.error?.description).toContain('(item 0)');
	});

	test('Get or Create: items sharing one look-up-or-create whose create the stop held back are named, and nothing is created', async () => {
		// Items 0 and 1 share External ID "shared"; its look-up is answered late, after item 2's look-up was refused.
		server.emulator.injectFault({
			path: 'customer/external/get',
			match: withExternalId('shared'),
			landAfterMs: 300,
		});
		server.emulator.injectFault({ path: 'customer/external/get', match: withExternalId('bad'), ...rejected });
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'getOrCreate', externalId: '={{ $json.ext }}' },
			[{ ext: 'shared' }, { ext: 'shared' }, { ext: 'bad' }],
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe(
			'Calypso error 004: Rejected for the test (looking up the External ID before creating; no customer was created)',
		);
		expect(run.error?.description).toContain(
			'2 other item(s) were about to send a change and did not (item 0, 1)',
		);
		expect(server.emulator.requests.filter((r) => r.path.endsWith('customer/create'))).toHaveLength(0);
		expect(server.emulator.state.customers.size).toBe(0);
	});

	test("n8n's Retry On Fail runs the node again: the items the stop held back are sent then", async () => {
		server.emulator.injectFault({ path: 'customer/create', match: withDescription('one'), ...rejected });
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { externalId: 'same', description: '={{ $json.description }}' },
			},
			[{ description: 'one' }, { description: 'two' }],
			{ settings: { retryOnFail: true, maxTries: 2, waitBetweenTries: 0 } },
		);
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json.description)).toEqual(['one', 'two']);
		// First try: item 0 refused, item 1 held (creates sharing an External ID go one at a time); second try: both.
		expect(server.emulator.requests.filter((r) => r.path.endsWith('customer/create'))).toHaveLength(3);
		expect(server.emulator.state.customers.size).toBe(2);
	});

	test('a create rate-limited (429, certainly not processed) and waiting out its Retry-After when the run stops: named as not sent, not as unconfirmed', async () => {
		// Item 0's create is refused with a 429 and a retry asked for in 40 s: longer than this test's own 20 s limit.
		server.emulator.injectFault({
			path: 'customer/create',
			match: withDescription('zero'),
			status: 429,
			headers: { 'retry-after': '40' },
		});
		server.emulator.injectFault({
			path: 'customer/create',
			match: withDescription('one'),
			delayMs: 300,
			...rejected,
		});
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { description: '={{ $json.description }}' },
			},
			[{ description: 'zero' }, { description: 'one' }],
		);
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		expect(server.emulator.requests.filter((r) => r.path.endsWith('customer/create'))).toHaveLength(2);
		expect(server.emulator.state.customers.size).toBe(0);
		expect(run.error?.description).toContain(
			'1 other item(s) were about to send a change and did not (item 0).',
		);
		expect(run.error?.description).not.toContain('did not confirm');
	}, 20_000);

	test('a change answered 503 only after the run stopped is not retried and does not wait out its Retry-After', async () => {
		const [first, second] = [server.emulator.seedCustomer(), server.emulator.seedCustomer()];
		// Item 1's Block is refused at once; item 0's lands, and its 503 (retry in 40 s) comes back after the stop.
		server.emulator.injectFault({ path: 'customer/block', match: ofCustomer(second.id), ...rejected });
		server.emulator.injectFault({
			path: 'customer/block',
			match: ofCustomer(first.id),
			afterProcessing: true,
			delayMs: 600,
			status: 503,
			headers: { 'retry-after': '40' },
		});
		const run = await blockEach([first.id, second.id]);
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		expect(blocks()).toHaveLength(2);
		expect(server.emulator.state.customers.get(first.id)?.blocked).toBe(true);
		expect(run.error?.description).toContain(
			'did not confirm, and it was not sent again as the run had stopped',
		);
	}, 20_000);

	/** Customer → Get, one item per customer ID; cancelled once a Get of `cancelOn` has been answered, if given. */
	const getEach = async (ids: string[], cancelOn?: string) =>
		await runChain(
			server.credentials,
			[
				{
					name: 'Calypso',
					parameters: { resource: 'customer', operation: 'get', customerId: '={{ $json.id }}' },
				},
			],
			ids.map((id) => ({ id })),
			{
				onStart: (cancel: () => void) => {
					if (cancelOn === undefined) return;
					void (async () => {
						while (!server.emulator.requests.some((r) => ofCustomer(cancelOn)(r) && r.status > 0))
							await sleep(5);
						cancel();
					})();
				},
			},
		);
	const gets = () => server.emulator.requests.filter((r) => r.path.endsWith('customer/get'));

	test('a look-up waiting out a retry when the run stops is not woken: it still waits and is retried', async () => {
		const [first, second] = [server.emulator.seedCustomer(), server.emulator.seedCustomer()];
		server.emulator.injectFault({
			path: 'customer/get',
			match: ofCustomer(first.id),
			status: 503,
			headers: { 'retry-after': '1' },
		});
		refuseLater('customer/get', second.id);
		const run = await getEach([first.id, second.id]);
		expect(run.error?.message).toBe('Calypso error 004: Rejected for the test');
		// Item 0's retry went out after the stop, and was answered.
		expect(gets().filter(ofCustomer(first.id))).toHaveLength(2);
		expect(run.error?.description).toContain('1 other item(s) had already been sent successfully (item 0)');
	});

	test('a look-up still waiting out a long Retry-After in a stopped run ends at once when the execution is cancelled', async () => {
		const [first, second] = [server.emulator.seedCustomer(), server.emulator.seedCustomer()];
		// Item 0's Get is answered 503 with a retry asked for in 40 s: longer than this test's own 20 s limit.
		server.emulator.injectFault({
			path: 'customer/get',
			match: ofCustomer(first.id),
			status: 503,
			headers: { 'retry-after': '40' },
		});
		refuseLater('customer/get', second.id);
		const run = await getEach([first.id, second.id], second.id);
		expect(run.status).toBe('error');
		// Item 0's retry was never sent.
		expect(gets()).toHaveLength(2);
	}, 20_000);
});
