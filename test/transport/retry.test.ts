/**
 * The fault matrix (issue 4): transient failures are retried when that is safe, creates are never sent twice,
 * and every outcome is measured in requests made and customers created. Runs through n8n's engine.
 */
import { backoffMs, retryAfterMs, DEFAULT_RETRY } from '../../nodes/CalypsoPay/transport';
import { useEmulator } from '../helpers/calypso';
import { sleep } from 'n8n-workflow';

import { watchAbortListeners } from '../helpers/abort-listeners';
import { runChain, runNode } from '../helpers/engine';

const server = useEmulator();
const fastRetry = { retry: 'custom', maxRetries: 3, retryDelay: 5 };
const HTML_502 =
	'<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>';

const pageNumberOf = (request: { body?: { payload?: Record<string, unknown> } }): unknown =>
	request.body?.payload?.pageNumber;

/** A 12-page Return All (120 transactions, pages of 10) whose page 7 answers 503 `times` times. */
async function findWithPage7Failing(times: number) {
	const customer = server.emulator.seedCustomer();
	server.emulator.seedTransactions(customer.id, 120);
	server.emulator.injectFault({
		path: 'transaction/find',
		status: 503,
		times,
		match: (request) => pageNumberOf(request) === 7,
	});
	return await runNode(server.credentials, {
		resource: 'transaction',
		operation: 'getMany',
		customerId: customer.id,
		returnAll: true,
		options: { ...fastRetry, pageSize: 10 },
	});
}

function requestsTo(path: string): number {
	return server.emulator.requests.filter((request) => request.path.endsWith(path)).length;
}

describe('retry policy helpers', () => {
	test('Retry-After in seconds or as an HTTP date', () => {
		expect(retryAfterMs('2')).toBe(2000);
		expect(retryAfterMs('0.5')).toBe(500);
		expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
		expect(retryAfterMs('soon')).toBeUndefined();
		expect(retryAfterMs(undefined)).toBeUndefined();
	});

	test('backoff doubles per retry, is jittered into the upper half and capped', () => {
		const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 350 };
		expect(backoffMs(policy, 0, () => 0)).toBe(50);
		expect(backoffMs(policy, 0, () => 1)).toBe(100);
		expect(backoffMs(policy, 1, () => 1)).toBe(200);
		expect(backoffMs(policy, 5, () => 1)).toBe(350);
	});
});

describe('fault matrix', () => {
	test('429 with Retry-After is retried after the wait the server asked for', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 429, headers: { 'Retry-After': '1' } });
		const started = Date.now();
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json.id).toBe(customer.id);
		expect(requestsTo('customer/get')).toBe(2);
		expect(Date.now() - started).toBeGreaterThanOrEqual(950);
	});

	test('three 503s then success: four requests, freshly signed each time', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/block', status: 503, times: 3 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'block',
			customerId: customer.id,
			options: fastRetry,
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json.blocked).toBe(true);
		const attempts = server.emulator.requests.filter((request) => request.path.endsWith('customer/block'));
		expect(attempts).toHaveLength(4);
		expect(new Set(attempts.map((request) => request.headers.sign)).size).toBe(4);
	});

	test('a dropped connection is retried for an idempotent request', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'purse/get-all', drop: true });
		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAll',
			customerId: customer.id,
			options: fastRetry,
		});
		expect(run.status).toBe('success');
		expect(requestsTo('purse/get-all')).toBe(2);
	});

	test('an HTML 502 page that persists gives a clear error after the retries', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 502, body: HTML_502, times: 10 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
			options: fastRetry,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso answered HTTP 502 without an API error body');
		expect(run.error?.description).toContain('502 Bad Gateway');
		expect(run.error?.description).toContain('Gave up after 4 attempts');
		expect(requestsTo('customer/get')).toBe(4);
	});

	test('Custom Max Retries N gives exactly N + 1 attempts', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 503, times: 20 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
			options: { retry: 'custom', maxRetries: 5, retryDelay: 1 },
		});
		expect(run.status).toBe('error');
		expect(run.error?.description).toContain('Gave up after 6 attempts');
		expect(requestsTo('customer/get')).toBe(6);
	});

	test('node version 1.1: Retry Custom with Max Retries 2 below the Options gives 3 attempts', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 503, times: 20 });
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'get',
				customerId: customer.id,
				retry: 'custom',
				maxRetries: 2,
				retryDelay: 1,
			},
			[{}],
			{ typeVersion: 1.1 },
		);
		expect(run.error?.description).toContain('Gave up after 3 attempts');
		expect(requestsTo('customer/get')).toBe(3);
	});

	test('node version 1.1: Retry Off below the Options fails on the first transient error', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 503, times: 20 });
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: customer.id, retry: 'off' },
			[{}],
			{ typeVersion: 1.1 },
		);
		expect(run.status).toBe('error');
		expect(requestsTo('customer/get')).toBe(1);
	});

	test('a Retry Delay above the per-wait cap is refused, not silently shortened', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
			options: { retry: 'custom', retryDelay: 25_000 },
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Retry Delay (Ms) must be a whole number from 0 to 20000, got "25000"');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('Retry Off fails on the first transient error', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 503, times: 10 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
			options: { retry: 'off' },
		});
		expect(run.status).toBe('error');
		expect(requestsTo('customer/get')).toBe(1);
	});

	test('a Retry-After longer than the retry budget is not waited for', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 429, headers: { 'Retry-After': '3600' } });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
		});
		expect(run.status).toBe('error');
		expect(run.error?.description).toContain(
			'Stopped after 1 of 4 attempts: waiting 3600 s more would pass the retry time limit of 60 s',
		);
		expect(requestsTo('customer/get')).toBe(1);
	});

	test("with n8n's Retry On Fail, the default policy steps aside: attempts are not multiplied", async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 503, times: 10 });
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: customer.id },
			[{}],
			{ settings: { retryOnFail: true, maxTries: 2, waitBetweenTries: 0 } },
		);
		expect(run.status).toBe('error');
		expect(requestsTo('customer/get')).toBe(2);
	});

	test('create that times out after Calypso processed it, with an External ID: recovered, one customer', async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			afterProcessing: true,
			delayMs: 1500,
			drop: true,
		});
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'signup-77', email: 'x@example.com' },
			options: { ...fastRetry, timeout: 300 },
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({ externalId: 'signup-77', email: 'x@example.com' });
		expect(server.emulator.state.customers.size).toBe(1);
		expect(requestsTo('customer/create')).toBe(1);
		// One look-up before the create (who had the External ID), one after.
		expect(requestsTo('customer/external/get')).toBe(2);
	});

	test('a slow backend still working after the client gave up (held 4 s, timeout 1 s): its customer, never a second create', async () => {
		server.emulator.injectFault({ path: 'customer/create', landAfterMs: 4000 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'slow-1' },
			options: { ...fastRetry, timeout: 1000 },
		});
		expect(run.status).toBe('success');
		expect(requestsTo('customer/create')).toBe(1);
		expect(server.emulator.state.customers.size).toBe(1);
		expect(run.items[0].json.id).toBe([...server.emulator.state.customers.keys()][0]);
	}, 15_000);

	test('a gateway 504 at once while the create lands 1.5 s later: that customer, one create', async () => {
		server.emulator.injectFault({ path: 'customer/create', status: 504, landAfterMs: 1500 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'gateway-1', email: 'g@example.com' },
			options: { ...fastRetry, timeout: 1000 },
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({ externalId: 'gateway-1', email: 'g@example.com' });
		expect(requestsTo('customer/create')).toBe(1);
		expect(server.emulator.state.customers.size).toBe(1);
	}, 15_000);

	test('an unclear create when another customer already has the External ID: the old one is not passed off as new', async () => {
		const old = server.emulator.seedCustomer({ externalId: 'shared-1' });
		server.emulator.injectFault({ path: 'customer/create', status: 503 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'shared-1' },
			options: { ...fastRetry, timeout: 500 },
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^The customer may or may not have been created: Calypso error 000/);
		expect(run.error?.description).toContain('Get by External ID "shared-1"');
		expect(JSON.stringify(run.items)).not.toContain(old.id);
		expect(requestsTo('customer/create')).toBe(1);
		expect([...server.emulator.state.customers.keys()]).toEqual([old.id]);
	}, 15_000);

	test('Retry Off: an unclear create makes no recovery requests at all', async () => {
		server.emulator.injectFault({ path: 'customer/create', status: 503 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { externalId: 'off-1' },
			options: { retry: 'off' },
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^The customer may or may not have been created/);
		expect(run.error?.description).toContain('Retry is Off');
		expect(server.emulator.requests.map((request) => request.path.split('/').slice(-2).join('/'))).toEqual([
			'customer/create',
		]);
	});

	test('create that times out without an External ID: not re-sent, and the error says it may exist', async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			afterProcessing: true,
			delayMs: 1500,
			drop: true,
		});
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { email: 'y@example.com' },
			options: { ...fastRetry, timeout: 300 },
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(
			/^The customer may or may not have been created: Could not reach Calypso/,
		);
		expect(run.error?.description).toContain('without an External ID the node cannot check');
		expect(requestsTo('customer/create')).toBe(1);
		expect(server.emulator.state.customers.size).toBe(1);
	});

	test('create rate-limited with 429 is re-sent: the server did not process it', async () => {
		server.emulator.injectFault({ path: 'customer/create', status: 429, headers: { 'Retry-After': '0' } });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			options: fastRetry,
		});
		expect(run.status).toBe('success');
		expect(requestsTo('customer/create')).toBe(2);
		expect(server.emulator.state.customers.size).toBe(1);
	});

	test('a page that fails for a moment in a 12-page Find is retried and the list is whole', async () => {
		const run = await findWithPage7Failing(1);
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(120);
		expect(requestsTo('transaction/find')).toBe(13);
	});

	test('a page that keeps failing stops the Find and says which page and how much was fetched', async () => {
		const run = await findWithPage7Failing(10);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 000: Injected fault (page 7 of 12)');
		expect(run.error?.description).toMatch(/\d+ transactions had been fetched; none are returned/);
		expect(run.items).toHaveLength(0);
		const page7 = server.emulator.requests.filter((request) => pageNumberOf(request) === 7);
		expect(page7).toHaveLength(4);
	});
});

describe('Timeout (Ms) is a deadline for the whole exchange (issue 16, item 4)', () => {
	test('a server that answers 200 then trickles a byte every 200 ms: the item fails with the timeout while the body is still coming', async () => {
		const customer = server.emulator.seedCustomer({ description: 'x'.repeat(200) });
		server.emulator.injectFault({ path: 'customer/get', trickleMs: 200 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
			options: { retry: 'off', timeout: 1000 },
		});
		const [request] = server.emulator.requests;
		// Checked as the run returns: the answer was still being sent.
		expect(request.finished).toBe(false);
		expect(request.bodyBytesSent).toBeLessThan(request.bodyBytes ?? 0);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Could not reach Calypso: no complete answer within the timeout');
		expect(run.error?.description).toContain('Timeout (Ms)');
	}, 90_000);
});

/**
 * n8n reports a cancelled run at once and aborts the requests a node sends after; what these check is the node's
 * side: its own error says the run was cancelled, and no attempt follows. (That a backoff or recovery wait ends early
 * is not observable from the run's result, so it is not asserted.)
 */
describe('a cancelled execution (issue 16, item 4)', () => {
	/** Cancels the execution once `path` has had an answer. */
	const cancelAfterAnswer = (path: string) => ({
		onStart: (cancel: () => void) => {
			void (async () => {
				while (!server.emulator.requests.some((request) => request.path.endsWith(path) && request.status > 0))
					await sleep(5);
				cancel();
			})();
		},
	});

	test('during a request with retries left: the error says cancelled, no further attempt', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', status: 503, times: 10 });
		const run = await runChain(
			server.credentials,
			[
				{
					name: 'Calypso',
					parameters: {
						resource: 'customer',
						operation: 'get',
						customerId: customer.id,
						options: { retry: 'custom', maxRetries: 3, retryDelay: 20_000 },
					},
				},
			],
			[{}],
			cancelAfterAnswer('customer/get'),
		);
		expect(run.error?.message).toMatch(/cancelled/);
		expect(requestsTo('customer/get')).toBe(1);
	}, 120_000);

	test('during a create: the customer may or may not have been created, and the check says it was cancelled', async () => {
		server.emulator.injectFault({ path: 'customer/create', status: 503 });
		const run = await runChain(
			server.credentials,
			[
				{
					name: 'Calypso',
					parameters: {
						resource: 'customer',
						operation: 'create',
						additionalFields: { externalId: 'cancel-1' },
						options: { ...fastRetry, timeout: 20_000 },
					},
				},
			],
			[{}],
			cancelAfterAnswer('customer/create'),
		);
		expect(run.error?.message).toMatch(/^The customer may or may not have been created/);
		expect(run.error?.description).toMatch(/cancelled/);
		// The look-up before the create, and at most the first check after it.
		expect(requestsTo('customer/external/get')).toBeLessThanOrEqual(2);
	}, 120_000);
});

describe('getOrCreate', () => {
	test('returns the existing customer, or creates one, and says which', async () => {
		const existing = server.emulator.seedCustomer({ externalId: 'known' });
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'getOrCreate',
				externalId: '={{ $json.userId }}',
				additionalFields: { email: '={{ $json.email }}' },
			},
			[
				{ userId: 'known', email: 'k@example.com' },
				{ userId: 'new-1', email: 'n1@example.com' },
				{ userId: 'new-2', email: 'n2@example.com' },
			],
		);
		expect(run.status).toBe('success');
		expect(run.items.map((item) => [item.json.externalId, item.json.created])).toEqual([
			['known', false],
			['new-1', true],
			['new-2', true],
		]);
		expect(run.items[0].json.id).toBe(existing.id);
		expect(run.items[1].json.email).toBe('n1@example.com');
		expect(server.emulator.state.customers.size).toBe(3);
	});

	test('the same new external ID twice in one run creates one customer', async () => {
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'getOrCreate', externalId: '={{ $json.userId }}' },
			[{ userId: 'twice' }, { userId: 'twice' }],
		);
		expect(run.items.map((item) => item.json.created)).toEqual([true, false]);
		expect(run.items[0].json.id).toBe(run.items[1].json.id);
		expect(server.emulator.state.customers.size).toBe(1);
		expect(requestsTo('customer/create')).toBe(1);
	});
});

describe('getOrCreate under real timing', () => {
	test('several customers share the External ID: the first is returned, and the output says how many', async () => {
		const first = server.emulator.seedCustomer({ externalId: 'dup' });
		server.emulator.seedCustomer({ externalId: 'dup' });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'getOrCreate',
			externalId: 'dup',
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({ id: first.id, created: false, externalIdMatches: 2 });
		expect(run.hints.map((hint) => hint.message).join(' ')).toContain(
			`2 customers have External ID "dup"; the first Calypso listed (${first.id}) was returned`,
		);
		expect(requestsTo('customer/create')).toBe(0);
	});

	test('a look-up answered 200 without a customers list is an error, and nothing is created', async () => {
		server.emulator.injectFault({ path: 'customer/external/get', status: 200, body: { status: 'ok' } });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'getOrCreate',
			externalId: 'shape-1',
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso\'s answer to customer/external/get has no "customers" list');
		expect(run.error?.description).toContain('the answer had only "status"');
		expect(requestsTo('customer/create')).toBe(0);
	});

	test('a create that lands after the gateway gave up: created once, and returned as created', async () => {
		server.emulator.injectFault({ path: 'customer/create', status: 504, landAfterMs: 1000 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'getOrCreate',
			externalId: 'late-1',
			options: { ...fastRetry, timeout: 1000 },
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({ externalId: 'late-1', created: true, externalIdMatches: 1 });
		expect(requestsTo('customer/create')).toBe(1);
		expect(server.emulator.state.customers.size).toBe(1);
	}, 15_000);
});

describe('credentials', () => {
	test('wrong key, wrong secret and wrong account each give their own actionable message', async () => {
		const customer = server.emulator.seedCustomer();
		const params = { resource: 'customer', operation: 'get', customerId: customer.id };
		const mismatched = 'not-the-one-9f8e7d';
		const wrongKey = await runNode({ ...server.credentials, apiKey: 'not-the-key' }, params);
		const wrongSecret = await runNode({ ...server.credentials, apiSecret: mismatched }, params);
		const wrongAccount = await runNode(
			{ ...server.credentials, account: '0x2222222222222222222222222222222222222222' },
			params,
		);
		expect(wrongKey.error?.message).toMatch(/^Calypso error 002/);
		expect(wrongKey.error?.description).toContain('Check the API Key');
		expect(wrongSecret.error?.message).toMatch(/^Calypso error 003/);
		expect(wrongSecret.error?.description).toContain('Check the Secret Key');
		expect(wrongAccount.error?.message).toMatch(/^Calypso error 001: Account not found/);
		expect(wrongAccount.error?.description).toContain('Merchant Account');
		// The mismatched secret signed those requests: it must not appear in anything n8n keeps.
		expect(JSON.stringify([wrongKey.run, wrongSecret.run, wrongAccount.run])).not.toContain(mismatched);
	});
});

describe('many changes waiting out a retry at once', () => {
	test('twelve Blocks answered 503 wait together: no signal gets more abort listeners than Node allows it without a MaxListenersExceededWarning, and all land', async () => {
		const customers = Array.from({ length: 12 }, () => server.emulator.seedCustomer());
		// Every Block is answered 503 once, with a retry asked for in 1 s: the twelve retries wait at the same time.
		server.emulator.injectFault({
			path: 'customer/block',
			status: 503,
			times: customers.length,
			headers: { 'retry-after': '1' },
		});
		// Twelve waits at once must not pile twelve listeners on one signal (Node 20 warns past 10).
		const listeners = watchAbortListeners();
		try {
			const run = await runNode(
				server.credentials,
				{ resource: 'customer', operation: 'block', customerId: '={{ $json.id }}' },
				customers.map(({ id }) => ({ id })),
			);
			expect(run.status).toBe('success');
		} finally {
			listeners.restore();
		}
		expect(requestsTo('customer/block')).toBe(2 * customers.length);
		expect(customers.every(({ id }) => server.emulator.state.customers.get(id)?.blocked)).toBe(true);
		expect(listeners.over).toEqual([]);
	});
});
