import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { runNode } from '../../helpers/engine';
import { useEmulator } from '../../helpers/calypso';
import { sign } from '../../emulator';
import type { RecordedRequest, Transaction } from '../../emulator';

const server = useEmulator();
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const FIND_PATH = '/api/v1/customer-purse/transaction/find';

function getMany(customerId: string, extra: INodeParameters = {}): INodeParameters {
	return { resource: 'transaction', operation: 'getMany', customerId, ...extra };
}

const payloadOf = (request: RecordedRequest): Record<string, unknown> => request.body?.payload ?? {};
const newestFirst = (transactions: Transaction[]): Transaction[] =>
	[...transactions].sort((a, b) => b.createdDate.localeCompare(a.createdDate));
const ids = (items: Array<{ json: IDataObject }>): unknown[] => items.map((item) => item.json.id);

describe('transaction.get', () => {
	test('returns the transaction', async () => {
		const customer = server.emulator.seedCustomer();
		const [, second] = server.emulator.seedTransactions(customer.id, 3, { currency: 'BTC' });
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'get',
			transactionId: second.id,
		});
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json)).toEqual([second]);
		expect(run.items[0].pairedItem).toEqual({ item: 0 });
		expect(server.emulator.requests).toHaveLength(1);
		expect(server.emulator.requests[0].path).toBe('/api/v1/customer-purse/transaction/get');
		expect(payloadOf(server.emulator.requests[0])).toEqual({ transactionId: second.id });
	});

	test('an unknown transaction is Calypso error 004', async () => {
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'get',
			transactionId: UNKNOWN,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 004: Transaction not found');
		expect(run.error?.description).toMatch(/Trace ID \(for Calypso support\): [0-9a-f]{32}/);
	});

	test('a Transaction ID that is not a UUID is refused before anything is sent', async () => {
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'get',
			transactionId: 'tx-1',
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^Transaction ID must be a UUID/);
		expect(server.emulator.requests).toHaveLength(0);
	});
});

describe('transaction.getMany pagination', () => {
	test('returnAll follows the page size the server applies, signing each page with its own timestamp', async () => {
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 250);
		server.emulator.options.maxPageSize = 30;

		const run = await runNode(
			server.credentials,
			getMany(customer.id, { returnAll: true, options: { pageSize: 100 } }),
		);
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(250);
		expect(ids(run.items)).toEqual(newestFirst(seeded).map((t) => t.id));
		expect(run.items.every((item) => JSON.stringify(item.pairedItem) === '{"item":0}')).toBe(true);

		const requests = server.emulator.requests;
		expect(requests).toHaveLength(Math.ceil(250 / 30));
		expect(requests.map((r) => payloadOf(r).pageNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
		for (const request of requests) {
			expect(request.path).toBe(FIND_PATH);
			expect(request.status).toBe(200);
			expect(payloadOf(request)).toMatchObject({ customerId: customer.id, pageSize: 100 });
			expect(request.body?.account).toBe(server.credentials.account);
			expect(request.headers.key).toBe(server.credentials.apiKey);
			expect(request.headers.sign).toBe(sign(server.credentials.apiSecret, request.rawBody));
			expect(Math.abs((request.body?.timestamp ?? 0) - request.at)).toBeLessThan(10_000);
		}
		expect(new Set(requests.map((r) => r.headers.sign)).size).toBe(9);
		// Pages 2.. are fetched concurrently, so timestamps may tie; each is still taken as its own page is sent.
		for (const request of requests) expect(request.at - (request.body?.timestamp ?? 0)).toBeLessThan(1000);
	});

	test('with a limit it stops as soon as the limit is in hand (45 items, pages of 20 → 3 requests)', async () => {
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 100);
		server.emulator.options.maxPageSize = 20;

		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: false, limit: 45 }));
		expect(run.status).toBe('success');
		expect(ids(run.items)).toEqual(
			newestFirst(seeded)
				.slice(0, 45)
				.map((t) => t.id),
		);
		expect(server.emulator.requests.map((r) => payloadOf(r).pageNumber)).toEqual([1, 2, 3]);
	});

	test('the default limit is 50', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 80);
		const run = await runNode(server.credentials, getMany(customer.id));
		expect(run.items).toHaveLength(50);
		expect(server.emulator.requests).toHaveLength(1);
	});

	test('a limit above the total returns everything and stops at the last page', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 120);
		server.emulator.options.maxPageSize = 50;

		const run = await runNode(server.credentials, getMany(customer.id, { limit: 500 }));
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(120);
		expect(new Set(ids(run.items)).size).toBe(120);
		expect(server.emulator.requests.map((r) => payloadOf(r).pageNumber)).toEqual([1, 2, 3]);
	});

	test('a total that fills whole pages needs no extra request for an empty page', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 60);
		server.emulator.options.maxPageSize = 30;

		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.items).toHaveLength(60);
		expect(server.emulator.requests).toHaveLength(2);
	});

	test('no transactions: no items, success, one request', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(server.emulator.seedCustomer().id, 5);

		const all = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(all.status).toBe('success');
		expect(all.items).toEqual([]);
		expect(server.emulator.requests).toHaveLength(1);
		expect(server.emulator.requests[0].response).toMatchObject({ result: [], total: 0 });
	});

	test('a server that omits the page count is followed until a short page', async () => {
		const customer = server.emulator.seedCustomer();
		const page = (pageNumber: number, result: IDataObject[]) =>
			server.emulator.injectFault({
				path: 'transaction/find',
				match: ({ body }) => (body?.payload as IDataObject | undefined)?.pageNumber === pageNumber,
				status: 200,
				body: { result, page: pageNumber, size: 2 },
			});
		page(1, [{ id: 'a' }, { id: 'b' }]);
		page(2, [{ id: 'c' }, { id: 'd' }]);
		page(3, [{ id: 'e' }]);

		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.status).toBe('success');
		expect(ids(run.items)).toEqual(['a', 'b', 'c', 'd', 'e']);
		expect(server.emulator.requests.map((r) => payloadOf(r).pageNumber)).toEqual([1, 2, 3]);
	});

	test.each([
		[
			'no result',
			1,
			{ page: 1, size: 10, total: 2, totalElements: 15 },
			'"page", "size", "total", "totalElements"',
		],
		['result null on page 2', 2, { result: null, page: 2, size: 10 }, '"result", "page", "size"'],
		['an empty object', 1, {}, 'no fields'],
	])(
		'a 2xx answer of the wrong shape (%s) is an error naming the operation, never an empty list',
		async (_, pageNumber, body, fields) => {
			const customer = server.emulator.seedCustomer();
			server.emulator.seedTransactions(customer.id, 15);
			server.emulator.options.maxPageSize = 10;
			server.emulator.injectFault({
				path: 'transaction/find',
				match: ({ body: sent }) => (sent?.payload as IDataObject | undefined)?.pageNumber === pageNumber,
				status: 200,
				body,
			});

			const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
			expect(run.status).toBe('error');
			expect(run.items).toEqual([]);
			const where = pageNumber === 1 ? 'page 1' : 'page 2 of 2';
			expect(run.error?.message).toBe(`Calypso's answer to transaction/find has no "result" list (${where})`);
			expect(run.error?.description).toContain(
				`the answer had ${fields === 'no fields' ? fields : `only ${fields}`}`,
			);
		},
	);

	test('a server that always answers "page 1" still gets pages 1, 2, 3 asked and the loop ends at its total', async () => {
		const customer = server.emulator.seedCustomer();
		for (const pageNumber of [1, 2, 3]) {
			server.emulator.injectFault({
				path: 'transaction/find',
				match: ({ body }) => (body?.payload as IDataObject | undefined)?.pageNumber === pageNumber,
				status: 200,
				body: { result: [{ id: `t${pageNumber}` }], page: 1, size: 1, total: 3 },
			});
		}

		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.status).toBe('success');
		expect(ids(run.items)).toEqual(['t1', 't2', 't3']);
		expect(server.emulator.requests.map((r) => payloadOf(r).pageNumber)).toEqual([1, 2, 3]);
	});

	test('several input items: each item gets its own transactions, in input order, paired with it', async () => {
		const first = server.emulator.seedCustomer();
		const second = server.emulator.seedCustomer();
		const firstTx = server.emulator.seedTransactions(first.id, 7, { currency: 'BTC' });
		const secondTx = server.emulator.seedTransactions(second.id, 4, { currency: 'ETH' });
		server.emulator.options.maxPageSize = 3;

		const run = await runNode(server.credentials, getMany('={{ $json.id }}', { returnAll: true }), [
			{ id: first.id },
			{ id: second.id },
		]);
		expect(run.status).toBe('success');
		expect(ids(run.items)).toEqual([
			...newestFirst(firstTx).map((t) => t.id),
			...newestFirst(secondTx).map((t) => t.id),
		]);
		expect(run.items.map((item) => item.pairedItem)).toEqual([
			...Array.from({ length: 7 }, () => ({ item: 0 })),
			...Array.from({ length: 4 }, () => ({ item: 1 })),
		]);

		const pagesOf = (customerId: string) =>
			server.emulator.requests
				.filter((r) => payloadOf(r).customerId === customerId)
				.map((r) => payloadOf(r).pageNumber);
		expect(pagesOf(first.id)).toEqual([1, 2, 3]);
		expect(pagesOf(second.id)).toEqual([1, 2]);
		expect(server.emulator.requests).toHaveLength(5);
	});
});

describe('transaction.getMany filters and sorting', () => {
	test('a comma-separated currency filter is sent as "in" and only those currencies come back', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 40, { currency: ['USDT_TRX', 'BTC', 'ETH', 'LTC'] });

		const run = await runNode(
			server.credentials,
			getMany(customer.id, { returnAll: true, filters: { currency: 'USDT_TRX, BTC' } }),
		);
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(20);
		expect(new Set(run.items.map((item) => item.json.currency))).toEqual(new Set(['USDT_TRX', 'BTC']));
		expect(payloadOf(server.emulator.requests[0]).currencyFilter).toEqual({ in: ['USDT_TRX', 'BTC'] });
	});

	test('a single lower-case currency is upper-cased', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 6, { currency: ['USDT_TRX', 'BTC'] });
		const run = await runNode(server.credentials, getMany(customer.id, { filters: { currency: 'btc' } }));
		expect(run.items.map((item) => item.json.currency)).toEqual(['BTC', 'BTC', 'BTC']);
		expect(payloadOf(server.emulator.requests[0]).currencyFilter).toEqual({ in: ['BTC'] });
	});

	test('a malformed currency in the filter is refused before anything is sent', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(
			server.credentials,
			getMany(customer.id, { filters: { currency: 'BTC, USDT-TRC20' } }),
		);
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^Currency filter must be a Calypso currency ticker/);
		expect(run.error?.message).toContain('USDT-TRC20');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('a transaction state filter returns only those states', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 40, {
			state: ['CONFIRMED', 'DECLINED', 'MEM_POOL_FOUND', 'PENDING_COMPLIANCE_CHECK'],
		});

		const run = await runNode(
			server.credentials,
			getMany(customer.id, { returnAll: true, filters: { transactionStates: ['CONFIRMED'] } }),
		);
		expect(run.items).toHaveLength(10);
		expect(run.items.every((item) => item.json.transactionState === 'CONFIRMED')).toBe(true);
		expect(payloadOf(server.emulator.requests[0]).transactionStateFilter).toEqual({ in: ['CONFIRMED'] });
		expect(payloadOf(server.emulator.requests[0]).currencyFilter).toBeUndefined();
	});

	test('sort by amount ascending returns non-decreasing amounts', async () => {
		const customer = server.emulator.seedCustomer();
		const base = Date.now() - 3_600_000;
		// Amounts that do not follow creation order.
		server.emulator.seedTransactions(customer.id, 4, { amount: 50, startDate: new Date(base) });
		server.emulator.seedTransactions(customer.id, 4, { amount: 5, startDate: new Date(base + 600_000) });
		server.emulator.seedTransactions(customer.id, 4, { amount: 20, startDate: new Date(base + 1_200_000) });
		server.emulator.options.maxPageSize = 5;

		const run = await runNode(
			server.credentials,
			getMany(customer.id, { returnAll: true, options: { sortBy: 'amount', sortDirection: 'ASC' } }),
		);
		const amounts = run.items.map((item) => item.json.amount as number);
		expect(amounts).toEqual([5, 5, 5, 5, 20, 20, 20, 20, 50, 50, 50, 50]);
		expect(new Set(ids(run.items)).size).toBe(12);
		for (const request of server.emulator.requests) {
			expect(payloadOf(request)).toMatchObject({ properties: 'amount', sort: 'ASC' });
		}
	});

	test('by default the newest transactions come first (createdDate, DESC)', async () => {
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 10, { stepMs: 1000 });
		const run = await runNode(server.credentials, getMany(customer.id, { limit: 3 }));
		expect(ids(run.items)).toEqual(
			newestFirst(seeded)
				.slice(0, 3)
				.map((t) => t.id),
		);
		const dates = run.items.map((item) => item.json.createdDate as string);
		expect([...dates].sort().reverse()).toEqual(dates);
		expect(payloadOf(server.emulator.requests[0])).toMatchObject({ properties: 'createdDate', sort: 'DESC' });
	});

	test('a limit below 1 is refused before anything is sent', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, getMany(customer.id, { limit: 0 }));
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^Limit must be a whole number from 1/);
		expect(server.emulator.requests).toHaveLength(0);
	});
});

describe('transaction inputs from expressions', () => {
	test('Transaction States as comma-separated text from an expression', async () => {
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 8, { state: ['CONFIRMED', 'DECLINED', 'MEM_POOL_FOUND'] });
		const run = await runNode(
			server.credentials,
			getMany(customer.id, { returnAll: true, filters: { transactionStates: '={{ $json.states }}' } }),
			[{ states: 'CONFIRMED, declined' }],
		);
		expect(run.status).toBe('success');
		expect(payloadOf(server.emulator.requests[0]).transactionStateFilter).toEqual({ in: ['CONFIRMED', 'DECLINED'] });
		expect(run.items.map((item) => item.json.transactionState).sort()).toEqual(
			['CONFIRMED', 'CONFIRMED', 'CONFIRMED', 'DECLINED', 'DECLINED', 'DECLINED'].sort(),
		);
	});
});
