import { runNode } from '../helpers/engine';
import type { RunResult } from '../helpers/engine';
import { useEmulator } from '../helpers/calypso';
import { startEndpoint } from '../helpers/http-endpoint';
import { version as engineVersion } from 'n8n-core/package.json';

const server = useEmulator();
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const WRONG_SECRET = 'wrong-secret-value';
/** Retries (if any) must not turn these faults into a success; they are also turned off where the node allows. */
const NO_RETRY = { retry: 'off' };

/** Everything a run holds, errors included (JSON.stringify alone drops an Error's message and stack). */
function dump(run: RunResult): string {
	return JSON.stringify(run.run, (_key, value: unknown) =>
		value instanceof Error
			? {
					...value,
					message: value.message,
					stack: value.stack,
					description: (value as { description?: unknown }).description,
				}
			: value,
	);
}

const itemIndexOf = (run: RunResult) =>
	(run.error as { context?: { itemIndex?: number } }).context?.itemIndex;

describe('validation happens before anything is sent', () => {
	test('a Customer ID that is not a UUID is named in the error, and no request is sent', async () => {
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: 'abc',
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toContain('Customer ID');
		expect(run.error?.message).toContain('UUID');
		expect(run.error?.message).toContain('"abc"');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('one invalid item in a batch stops the run before any item is sent, naming that item', async () => {
		const a = server.emulator.seedCustomer();
		const c = server.emulator.seedCustomer();
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'block', customerId: '={{ $json.id }}' },
			[{ id: a.id }, { id: 'not-a-uuid' }, { id: c.id }],
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toContain('Customer ID');
		expect(itemIndexOf(run)).toBe(1);
		expect(server.emulator.requests).toHaveLength(0);
		expect(server.emulator.state.customers.get(a.id)?.blocked).toBe(false);
		expect(server.emulator.state.customers.get(c.id)?.blocked).toBe(false);
	});

	test('update without any update field is refused, and nothing is sent', async () => {
		const customer = server.emulator.seedCustomer({ email: 'keep@example.com' });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'update',
			customerId: customer.id,
			updateFields: {},
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/Nothing to update/);
		expect(run.error?.message).toContain('Email');
		expect(run.error?.message).toContain('Description');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('a Description longer than 1000 characters is refused on create and update, and nothing is sent', async () => {
		const customer = server.emulator.seedCustomer();
		const long = 'x'.repeat(1001);
		const create = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { description: long },
		});
		expect(create.status).toBe('error');
		expect(create.error?.message).toContain('Description');
		expect(create.error?.message).toContain('1000');

		const update = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'update',
			customerId: customer.id,
			updateFields: { description: long },
		});
		expect(update.status).toBe('error');
		expect(update.error?.message).toContain('Description');
		expect(update.error?.message).toContain('1000');

		expect(server.emulator.requests).toHaveLength(0);
		expect(server.emulator.state.customers.size).toBe(1);
	});

	test('a Description of exactly 1000 characters is accepted', async () => {
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { description: 'y'.repeat(1000) },
		});
		expect(run.status).toBe('success');
		expect(server.emulator.requests[0].body?.payload).toEqual({ description: 'y'.repeat(1000) });
	});

	test('lengths count characters (Unicode code points) as the API does: 1000 emoji pass, 1001 are refused as 1001', async () => {
		// 😀 is one character but two UTF-16 units: a check on String.length refused 600 of them as "got 1200".
		const emoji = (n: number) => '😀'.repeat(n);
		const ok = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { description: emoji(1000), externalId: `é${emoji(254)}` },
		});
		expect(ok.status).toBe('success');
		expect(ok.items[0].json).toMatchObject({ description: emoji(1000), externalId: `é${emoji(254)}` });
		const sent = server.emulator.requests.length;

		const tooLong = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'create',
			additionalFields: { description: emoji(1001) },
		});
		expect(tooLong.status).toBe('error');
		expect(tooLong.error?.message).toBe('Description must be at most 1000 characters, got 1001');
		expect(server.emulator.requests).toHaveLength(sent);
	});
});

describe('On Error: Continue (using error output)', () => {
	// n8n 2.36+ routes an item whose json keys are only error/message/details to the error output (and merges the
	// input item's fields into it); older engines leave it on the regular output. `npm test` runs the pinned n8n's.
	const [major, minor] = engineVersion.split('.').map(Number);
	const routes = major > 2 || (major === 2 && minor >= 36);

	test(`failed items carry errorCode, traceId and httpCode under details, and ${routes ? 'leave by' : 'on n8n-core ' + engineVersion + ' stay off'} the error output`, async () => {
		const known = server.emulator.seedCustomer({ email: 'known@example.com' });
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: '={{ $json.id }}' },
			[{ id: known.id }, { id: UNKNOWN }, { id: 'abc' }],
			{ onError: 'continueErrorOutput' },
		);
		expect(run.status).toBe('success');
		const [regular, errorOutput = []] = run.outputs;
		const failed = routes ? errorOutput : regular.slice(1);
		expect((routes ? regular : regular.slice(0, 1)).map((item) => item.json)).toEqual([known]);
		expect(failed.map((item) => item.pairedItem)).toEqual([{ item: 1 }, { item: 2 }]);
		for (const item of failed) {
			// The node's own fields; with routing, n8n adds the input item's (`id`) beside them.
			const own = Object.keys(item.json).filter((key) => !(routes && key === 'id'));
			expect(own.every((key) => ['error', 'message', 'details'].includes(key))).toBe(true);
			expect(item.error).toBeUndefined();
		}
		expect(failed[0].json).toMatchObject({
			error: 'Calypso error 004: Customer not found',
			details: {
				description: expect.stringContaining('Trace ID'),
				errorCode: '004',
				httpCode: 400,
				traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
			},
		});
		expect(failed[1].json.error).toMatch(/Customer ID must be a UUID/);
	});

	test('Continue (regular output) is as it was: error items in place, fields side by side', async () => {
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: UNKNOWN },
			[{}],
			{ continueOnFail: true },
		);
		expect(run.outputs).toHaveLength(1);
		expect(run.items[0].json).toMatchObject({
			error: 'Calypso error 004: Customer not found',
			errorCode: '004',
			httpCode: 400,
		});
		expect(typeof run.items[0].json.httpCode).toBe('number');
	});

	test("n8n's Error code detail is Calypso's own code, not the bare HTTP status", async () => {
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: UNKNOWN,
		});
		expect((run.error as { httpCode?: string }).httpCode).toBe('004');
	});
});

describe('redirects', () => {
	test('a redirect to another origin is an error naming it, and nothing signed is sent there', async () => {
		const seen: string[] = [];
		const other = await startEndpoint((req, res) => {
			seen.push(`${req.method} ${req.url} key=${String(req.headers.key)}`);
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"customers":[]}');
		});
		try {
			server.emulator.injectFault({
				path: 'customer/external/get',
				status: 307,
				body: '',
				headers: { Location: `${other.url}/steal` },
			});
			const run = await runNode(server.credentials, {
				resource: 'customer',
				operation: 'getByExternalId',
				externalId: 'r-1',
			});
			expect(run.status).toBe('error');
			expect(run.error?.message).toBe(
				`Calypso's answer redirected the request to ${other.url}/steal: another origin than the Base URL (${server.credentials.baseUrl})`,
			);
			expect(seen).toEqual([]);
		} finally {
			await other.close();
		}
	});

	test('a redirect on the same origin is followed, freshly signed', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({
			path: 'customer/get',
			status: 308,
			body: '',
			headers: { Location: '/api/v1/customer-purse/customer/get' },
		});
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
		});
		expect(run.status).toBe('success');
		expect(run.items[0].json.id).toBe(customer.id);
		const signs = server.emulator.requests.map((request) => request.headers.sign);
		expect(signs).toHaveLength(2);
		expect(new Set(signs).size).toBe(2);
	});
});

describe('Continue On Fail', () => {
	test('failed items become error items in place; the others go on', async () => {
		const first = server.emulator.seedCustomer({ email: 'first@example.com' });
		const last = server.emulator.seedCustomer({ email: 'last@example.com' });
		const run = await runNode(
			server.credentials,
			{ resource: 'customer', operation: 'get', customerId: '={{ $json.id }}' },
			[{ id: first.id }, { id: 'abc' }, { id: UNKNOWN }, { id: last.id }],
			{ continueOnFail: true },
		);
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(4);
		expect(run.items.map((item) => item.pairedItem)).toEqual([
			{ item: 0 },
			{ item: 1 },
			{ item: 2 },
			{ item: 3 },
		]);
		expect(run.items[0].json).toEqual(first);
		expect(run.items[3].json).toEqual(last);

		expect(run.items[1].json.error).toMatch(/Customer ID must be a UUID/);
		expect(run.items[1].json.errorCode).toBeUndefined();

		expect(run.items[2].json).toMatchObject({
			error: 'Calypso error 004: Customer not found',
			errorCode: '004',
			traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
		});
		// The trace ID is the one Calypso sent.
		const notFound = server.emulator.requests.find((r) => r.body?.payload?.customerId === UNKNOWN);
		expect(run.items[2].json.traceId).toBe((notFound?.response as { traceId: string }).traceId);

		// The invalid item was never sent.
		expect(server.emulator.requests).toHaveLength(3);
		expect(server.emulator.requests.map((r) => r.body?.payload?.customerId).sort()).toEqual(
			[first.id, UNKNOWN, last.id].sort(),
		);
	});
});

describe('credential problems', () => {
	test('a wrong Secret Key is error 003 with a hint, and no secret shows up in the run', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(
			{ ...server.credentials, apiSecret: WRONG_SECRET },
			{ resource: 'customer', operation: 'get', customerId: customer.id },
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toContain('Calypso error 003');
		expect(run.error?.description).toContain('Secret Key');
		expect(itemIndexOf(run)).toBe(0);
		const everything = dump(run);
		expect(everything).toContain('Calypso error 003');
		expect(everything).not.toContain(WRONG_SECRET);
		expect(everything).not.toContain(server.credentials.apiSecret);
		for (const request of server.emulator.requests) expect(everything).not.toContain(request.headers.sign);
	});

	test('a wrong API Key is error 002 with a hint about the API Key', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(
			{ ...server.credentials, apiKey: `${server.credentials.apiKey}-revoked` },
			{ resource: 'customer', operation: 'get', customerId: customer.id },
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 002: Invalid API key');
		expect(run.error?.description).toContain('API Key');
		expect(server.emulator.requests).toHaveLength(1);
	});

	test('a malformed Merchant Account is a clear error naming it, and no request reaches Calypso', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(
			{ ...server.credentials, account: '0x1234' },
			{ resource: 'customer', operation: 'get', customerId: customer.id, options: NO_RETRY },
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toContain('Merchant Account');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('a host clock 10 minutes behind Calypso is error 011 with an estimate of the skew', async () => {
		server.emulator.options.clockOffsetMs = 600_000;
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 011: Invalid timestamp');
		expect(run.error?.description).toContain('check the clock of the n8n host');
		// The Date header has whole seconds, so the estimate may be a second short.
		expect(run.error?.description).toMatch(/The n8n host's clock looks (599|600|601) s behind Calypso's\./);
	});
});

describe('transport failures', () => {
	test('an HTML 502 page gives a clear error naming HTTP 502', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({
			path: 'customer/get',
			status: 502,
			body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
			times: 10,
		});
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
			options: NO_RETRY,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toContain('HTTP 502');
		expect(run.error?.description).toContain('502 Bad Gateway');
		expect(run.error?.description).not.toContain('<');
		expect(server.emulator.requests.length).toBeGreaterThanOrEqual(1);
		expect(server.emulator.requests.every((r) => r.status === 502)).toBe(true);
	}, 30_000);

	test('a dropped connection is "Could not reach Calypso"', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.injectFault({ path: 'customer/get', drop: true, times: 10 });
		const run = await runNode(server.credentials, {
			resource: 'customer',
			operation: 'get',
			customerId: customer.id,
			options: NO_RETRY,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^Could not reach Calypso/);
		expect(run.error?.description).toContain('Base URL');
		expect(server.emulator.requests.length).toBeGreaterThanOrEqual(1);
		expect(dump(run)).not.toContain(server.credentials.apiSecret);
	}, 30_000);
});
