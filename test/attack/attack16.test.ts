/**
 * Attack on issue 16's fixes (helper attack16): each test here states a promise of the README / CHANGELOG and FAILS
 * on the code it was written against. They are left as plain failing tests for the lead to fix.
 */
import { WorkflowExecute } from 'n8n-core';
import { Workflow, createRunExecutionData } from 'n8n-workflow';
import type { INode, INodeType, INodeTypes } from 'n8n-workflow';

import { useEmulator } from '../helpers/calypso';
import { createAdditionalData, runNode } from '../helpers/engine';
import { startEndpoint } from '../helpers/http-endpoint';
import { HttpRequestLike } from './http-request-like';

const server = useEmulator();

describe('attack16: Get Many', () => {
	// Promise (README, Get Many; CHANGELOG): "the transaction count every page reports is compared: a page answered
	// before a change that an earlier page saw is read again"; Return All gives every transaction that matched the
	// filters throughout the run. Break: one page's answer (page 2) omits `total`/`totalElements` (a proxy, an older
	// Calypso build); `firstStalePage` then skips the comparison for ALL pages, and the issue-16 §2.1 loss is back:
	// page 3 answered before a deposit, page 2 after it, Sort By Amount (the new row takes the lost one's place, so the
	// final count check passes). Fix idea: compare the pages that do carry a count (ignore the missing ones rather
	// than all), or treat a page without a count as possibly stale and read it and the pages after it again in order.
	test('Return All by amount, page 2 answer without counts, page 3 answered first, a deposit meanwhile: nothing lost', async () => {
		const emulator = server.emulator;
		emulator.options.maxPageSize = 1;
		const customer = emulator.seedCustomer();
		const start = new Date(Date.now() - 3_600_000);
		const amounts = [10, 8, 6, 4];
		const seeded = amounts.map(
			(amount, i) =>
				emulator.seedTransactions(customer.id, 1, {
					startDate: new Date(start.getTime() + i * 60_000),
					amount,
				})[0],
		);
		// Page 1 first (sequential), then the wave 2, 3, 4: page 3 is answered first, then a deposit of 9 lands, then
		// page 2 (which omits its counts) and page 4.
		emulator.findFaults.answerOrder = [3, 2, 4];
		emulator.findFaults.beforeAnswer = ({ page, index }) => {
			emulator.findFaults.noTotal = page === 2;
			if (index === 2) emulator.seedTransactions(customer.id, 1, { startDate: new Date(), amount: 9 });
		};
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'getMany',
			customerId: customer.id,
			returnAll: true,
			options: { pageSize: 1, sortBy: 'amount', sortDirection: 'DESC' },
		});
		if (run.status !== 'success') {
			// Failing with the "changed while they were being fetched" error would keep the promise.
			expect(`${run.error?.message}`).toMatch(
				/changed while they were being fetched|different ones came back/,
			);
			return;
		}
		const ids = run.items.map((item) => String(item.json.id));
		// Every seeded transaction matched throughout the run.
		expect(ids).toEqual(expect.arrayContaining(seeded.map((t) => t.id)));
	});
	// Promise (CHANGELOG: "Get Many ... stops on a server that repeats its last page"; README: "A server that reports
	// no page count is followed page by page until a short page or a page with no new transaction"). Break: rows
	// without an `id` are always counted as new (`tally`), so against a server without page counts that repeats its
	// last page, a Find of 4 transactions (2 full pages) reads on until MAX_PAGES (10,000 requests). The test lets the server stop
	// repeating after 40 answers so it ends quickly, and counts the requests. Fix idea: when rows have no id, compare
	// a page with the one before it by content (JSON of the rows), or stop when a page equals the previous page.
	test('no page count, last page repeated, rows without ids: stops after a few pages, not 10,000', async () => {
		const emulator = server.emulator;
		emulator.options.maxPageSize = 2;
		const customer = emulator.seedCustomer();
		for (const t of emulator.seedTransactions(customer.id, 4)) {
			delete (emulator.state.transactions.get(t.id) as { id?: string }).id;
		}
		emulator.findFaults.noTotal = true;
		emulator.findFaults.repeatLastPage = true;
		emulator.findFaults.beforeAnswer = ({ index }) => {
			if (index >= 40) emulator.findFaults.repeatLastPage = false;
		};
		await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'getMany',
			customerId: customer.id,
			returnAll: true,
			options: { pageSize: 2 },
		});
		const finds = emulator.requests.filter((r) => r.path.endsWith('transaction/find'));
		expect(finds.length).toBeLessThanOrEqual(5);
	});
	// Promise (CHANGELOG: Get Many "fills a Limit"; README: "reads the page size Calypso really used (it may cap the
	// size asked for) and the page count"). The API notes leave open whether Calypso caps silently; a server that
	// caps the rows but echoes the size asked for in `size` (page 1: 10 rows, size 20, total 3 pages) makes findAll
	// plan one page for Limit 20 and stop there, as page 1 looks "short": 10 of 20 come back, no error.
	// Fix idea: take the page size as min(size, rows on page 1) when page 1 is not the last page by `total`, or do not
	// treat a short page as the end while `total` says more pages follow.
	test('Limit 20, server caps at 10 but page 1 reports size 20 and 3 pages: 20 come back', async () => {
		const emulator = server.emulator;
		emulator.options.maxPageSize = 10;
		const customer = emulator.seedCustomer();
		emulator.seedTransactions(customer.id, 25);
		const newestFirst = [...emulator.state.transactions.values()]
			.filter((t) => t.customerId === customer.id)
			.sort((a, b) => (a.createdDate < b.createdDate ? 1 : a.createdDate > b.createdDate ? -1 : 0))
			.map((t) => Object.fromEntries(Object.entries(t).filter(([key]) => key !== 'customerId')));
		emulator.injectFault({
			path: 'transaction/find',
			match: ({ body }) => (body?.payload as { pageNumber?: number } | undefined)?.pageNumber === 1,
			status: 200,
			body: { result: newestFirst.slice(0, 10), page: 1, size: 20, total: 3, totalElements: 25 },
		});
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'getMany',
			customerId: customer.id,
			returnAll: false,
			limit: 20,
		});
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json.id)).toEqual(newestFirst.slice(0, 20).map((t) => t.id));
	});
});

describe('attack16: Create', () => {
	const customersWith = (externalId: string) =>
		[...server.emulator.state.customers.values()].filter((c) => c.externalId === externalId);

	// Promise (CHANGELOG "Create after unclear answers"; README Errors): "a 2xx answer of the wrong shape is an
	// error"; for a create, a 2xx that does not say what was created is unclear ("may or may not have been created",
	// or the recovered customer). Break: a 2xx whose body is valid JSON but an array is passed through `call()` as the
	// customer (`typeof [] === 'object'`): the item succeeds with no customer id, the create having landed.
	// Fix idea: in `call()`, accept only a plain object (not an array) as a 2xx body; for create, also require an `id`
	// (otherwise markAmbiguous(unreadableAnswerError)).
	test('create answered 200 with a JSON array after it landed: the customer or "may or may not", never a success without it', async () => {
		server.emulator.injectFault({ path: 'customer/create', afterProcessing: true, status: 200, body: [] });
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { email: 'ada@example.com', externalId: 'attack16-array' },
			},
			[{}],
			{ continueOnFail: true },
		);
		const stored = customersWith('attack16-array');
		expect(stored).toHaveLength(1);
		const json = run.items[0]?.json ?? {};
		if (json.error !== undefined) {
			expect(String(json.error)).toMatch(/may or may not have been created/);
		} else {
			expect(json.id).toBe(stored[0].id);
		}
	});

	// Same promise, a 2xx JSON object that is not a customer (an empty object: a proxy's "OK", a cut body re-framed
	// as {}): the item reports success with no id, so the workflow goes on as if the customer were known.
	// Fix idea: a create's 2xx must carry an `id` string; otherwise treat it as unclear (recovery look-up).
	test('create answered 200 {} after it landed: the customer or "may or may not", never a success without an id', async () => {
		server.emulator.injectFault({ path: 'customer/create', afterProcessing: true, status: 200, body: {} });
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { email: 'ada@example.com', externalId: 'attack16-empty' },
			},
			[{}],
			{ continueOnFail: true },
		);
		const stored = customersWith('attack16-empty');
		expect(stored).toHaveLength(1);
		const json = run.items[0]?.json ?? {};
		if (json.error !== undefined) {
			expect(String(json.error)).toMatch(/may or may not have been created/);
		} else {
			expect(json.id).toBe(stored[0].id);
		}
	});

	// Promise (README Options): "A customer create is never sent twice while the first may still land. It is
	// re-sent only when Calypso certainly did not process it (429, connection refused)." Break: a same-origin 3xx
	// (a proxy or load balancer that processed the request and then redirects, e.g. 307 to the same path) makes
	// `call()` re-send the create to the Location, freshly signed: two customers from one create item.
	// Fix idea: for a non-idempotent request, do not follow a redirect: throw it marked ambiguous (recovery look-up).
	test('create answered 307 (same origin) after it landed: not sent again, one customer', async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			afterProcessing: true,
			status: 307,
			body: {},
			headers: { Location: '/api/v1/customer-purse/customer/create' },
		});
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { email: 'ada@example.com', externalId: 'attack16-redirect' },
			},
			[{}],
			{ continueOnFail: true },
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
	// Promise (README Options): "Only a refusal Calypso documents (an HTTP 4xx with an error code other than 000) is
	// reported as a plain error; every other failure is treated as unclear" (recovery look-up, or "may or may not").
	// Break: a create that landed and was then answered with a redirect to another origin (a misconfigured proxy or
	// load balancer) fails with the plain "redirected the request to ..." error: no recovery look-up, no "may or may
	// not", so a re-run creates a second customer. Fix idea: for a non-idempotent request, mark the redirect error
	// ambiguous (markAmbiguous on a NodeApiError) so createOnce recovers.
	test('create answered 302 to another origin after it landed: recovered or "may or may not", not a plain error', async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			afterProcessing: true,
			status: 302,
			body: {},
			headers: { Location: 'http://127.0.0.2:9/elsewhere' },
		});
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { email: 'ada@example.com', externalId: 'attack16-302' },
			},
			[{}],
			{ continueOnFail: true },
		);
		const stored = customersWith('attack16-302');
		expect(stored).toHaveLength(1);
		const json = run.items[0]?.json ?? {};
		if (json.error !== undefined) {
			expect(String(json.error)).toMatch(/may or may not have been created/);
		} else {
			expect(json.id).toBe(stored[0].id);
		}
	});
	// Same promise, and "failed items ... become an output item {error, description, ...}" with a message: a create
	// that landed, then answered 302 with a Location that is not a URL ("http://[bad"), makes `redirectTarget`'s
	// `new URL(...)` throw a bare TypeError out of `call()`: the item's error is the empty string "", with no
	// recovery and no "may or may not". Fix idea: catch the parse failure in `redirectTarget` and treat it as a
	// redirect that is not followed (an error naming the Location), marked ambiguous for a create.
	test('create answered 302 with an unreadable Location after it landed: a message saying it may have been created', async () => {
		server.emulator.injectFault({
			path: 'customer/create',
			afterProcessing: true,
			status: 302,
			body: {},
			headers: { Location: 'http://[bad' },
		});
		const run = await runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'create',
				additionalFields: { email: 'ada@example.com', externalId: 'attack16-badlocation' },
			},
			[{}],
			{ continueOnFail: true },
		);
		const stored = customersWith('attack16-badlocation');
		expect(stored).toHaveLength(1);
		const json = run.items[0]?.json ?? {};
		if (json.error !== undefined) {
			expect(String(json.error)).toMatch(/may or may not have been created/);
		} else {
			expect(json.id).toBe(stored[0].id);
		}
	});
});

describe('attack16: the credential used from an HTTP Request node', () => {
	// Promise (README, Credentials): "The credential signs only for its Base URL ... Calypso's signature covers the
	// body, not the URL, so a signed request sent elsewhere would hand that host the API key and a body it could
	// replay." (the Custom API Call route: an HTTP Request node with this credential). Break: the request goes to the
	// Base URL, which answers 307 to another origin; the HTTP Request node follows redirects by default and n8n strips
	// only Authorization on a cross-origin redirect, so the Key and Sign headers and the signed body reach the other
	// host. Fix idea: in `signRequest`, when the request is not the node's own, turn redirects off
	// (`disableFollowRedirect = true`; legacy `followRedirect = followAllRedirects = false`), as the credential Test does.
	test('a 307 from the Base URL to another origin does not carry the Key, Sign or signed body there', async () => {
		const received: Array<{ headers: Record<string, unknown>; body: string }> = [];
		const other = await startEndpoint((req, res) => {
			received.push({ headers: req.headers, body: req.rawBody.toString() });
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('{}');
		});
		try {
			server.emulator.injectFault({
				path: 'customer/get',
				status: 307,
				body: {},
				headers: { Location: `${other.url}/steal` },
			});
			const node: INode = {
				id: 'h',
				name: 'HTTP',
				type: 'test.httpRequestLike',
				typeVersion: 1,
				position: [0, 0],
				parameters: {
					url: `${server.credentials.baseUrl}/api/v1/customer-purse/customer/get`,
					payload: '{"customerId": "00000000-0000-4000-8000-000000000000"}',
				},
				credentials: { calypsoPayApi: { id: '1', name: 'Calypso' } },
			};
			const types: Record<string, INodeType> = { 'test.httpRequestLike': new HttpRequestLike() };
			const nodeTypes: INodeTypes = {
				getByName: (type) => types[type],
				getByNameAndVersion: (type) => types[type],
				getKnownTypes: () => ({}),
			};
			const workflow = new Workflow({
				id: 'wf',
				name: 'attack',
				nodes: [node],
				connections: {},
				nodeTypes,
				active: false,
				settings: {},
			});
			const workflowData = {
				id: 'wf',
				name: 'attack',
				nodes: [node],
				connections: {},
				active: false,
				settings: {},
			};
			const additionalData = createAdditionalData(server.credentials, workflowData as never);
			const runData = createRunExecutionData({
				executionData: { nodeExecutionStack: [{ node, data: { main: [[{ json: {} }]] }, source: null }] },
			});
			await new WorkflowExecute(additionalData, 'manual', runData).processRunExecutionData(workflow);
			// The request did reach the Base URL (the redirect was answered there).
			expect(server.emulator.requests.some((r) => r.path.endsWith('customer/get'))).toBe(true);
			const leaked = received.filter(
				(r) => r.headers.key !== undefined || r.headers.sign !== undefined || r.body.includes('"payload"'),
			);
			expect(leaked.map((r) => ({ key: r.headers.key, sign: r.headers.sign, body: r.body }))).toEqual([]);
		} finally {
			await other.close();
		}
	});
});
