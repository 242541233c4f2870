/** The pagination function against data that changes while it pages, and against servers that page oddly. */
import type { INodeParameters } from 'n8n-workflow';

import { useEmulator } from '../helpers/calypso';
import { runNode } from '../helpers/engine';
import type { RecordedRequest, Transaction } from '../emulator';

const server = useEmulator();

const pageNumberOf = (request: RecordedRequest): unknown => request.body?.payload?.pageNumber;
const pagesAsked = (): unknown[] => server.emulator.requests.map(pageNumberOf);
const byDate = (transactions: Transaction[], direction: 'ASC' | 'DESC'): string[] =>
	[...transactions]
		.sort((a, b) => (direction === 'ASC' ? 1 : -1) * a.createdDate.localeCompare(b.createdDate))
		.map((t) => t.id);

function getMany(customerId: string, extra: INodeParameters): INodeParameters {
	return { resource: 'transaction', operation: 'getMany', customerId, ...extra };
}

describe('findAll: pages after the first', () => {
	test('Return All over 10 pages: pages 2..10 are all in flight at once (one wave), one request per page', async () => {
		server.emulator.options.maxPageSize = 10;
		// The emulator holds its answers to pages 2.. until 9 requests are in flight (or 2 s pass): a client
		// that sends fewer at once is seen by the counts below, whatever the machine's speed.
		server.emulator.findFaults.holdUntilInFlight = 9;
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 100);
		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(100);
		const requests = server.emulator.requests;
		expect(requests.map((request) => request.body?.payload?.pageSize)).toEqual(Array(10).fill(1000));
		expect(requests.map(pageNumberOf).sort((a, b) => Number(a) - Number(b))).toEqual([
			1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		]);
		expect(requests[0].inFlight).toBe(1);
		expect(Math.max(...requests.map((request) => request.inFlight))).toBe(9);
	});
});

describe('findAll while a deposit arrives', () => {
	test.each([
		[15, [1, 2]],
		[20, [1, 2, 3]],
	])(
		'oldest first (the sweep example), %i transactions: the row that arrived is returned too, no error',
		async (count, pages) => {
			server.emulator.options.maxPageSize = 10;
			const customer = server.emulator.seedCustomer();
			const seeded = server.emulator.seedTransactions(customer.id, count);
			server.emulator.findFaults.depositAfterPage = 1;
			const run = await runNode(
				server.credentials,
				getMany(customer.id, { returnAll: true, options: { sortDirection: 'ASC' } }),
			);
			expect(run.error?.message).toBeUndefined();
			expect(run.status).toBe('success');
			const ids = run.items.map((item) => item.json.id);
			expect(ids).toHaveLength(count + 1);
			expect(new Set(ids).size).toBe(count + 1);
			expect(ids.slice(0, count)).toEqual(byDate(seeded, 'ASC'));
			expect(run.items[count].json.amount).toBe(1.5);
			// A last page that was full while a later answer reports one page more: that page is read too.
			expect(pagesAsked()).toEqual(pages);
		},
	);

	test('newest first, Return All: every row pushed past the pages planned is still fetched, none twice', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 30);
		server.emulator.findFaults.depositAfterPage = 1;
		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.error?.message).toBeUndefined();
		// The deposit went on top of page 1, already read: the 30 that were there when paging started.
		expect(run.items.map((item) => item.json.id)).toEqual(byDate(seeded, 'DESC'));
		expect(pagesAsked()).toEqual([1, 2, 3, 4]);
	});

	test.each([15, 20])(
		'newest first, Limit %i: de-duplication does not leave the result short while more rows exist',
		async (limit) => {
			server.emulator.options.maxPageSize = 10;
			const customer = server.emulator.seedCustomer();
			const seeded = server.emulator.seedTransactions(customer.id, 40);
			server.emulator.findFaults.depositAfterPage = 1;
			const run = await runNode(server.credentials, getMany(customer.id, { limit }));
			expect(run.items.map((item) => item.json.id)).toEqual(byDate(seeded, 'DESC').slice(0, limit));
			expect(pagesAsked()).toEqual(limit === 15 ? [1, 2] : [1, 2, 3]);
		},
	);

	test('Return All that comes back short of totalElements is an error, not a short list', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 20);
		let removed = false;
		server.emulator.injectFault({
			path: 'transaction/find',
			match: (request) => {
				if (!removed && (request.body?.payload as { pageNumber?: number })?.pageNumber === 2) {
					// A transaction on page 1 disappears before page 2 is read: one row slides onto page 1 unseen.
					server.emulator.state.transactions.delete(seeded[seeded.length - 1].id);
					removed = true;
				}
				return false;
			},
		});
		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso reported 20 transactions but 19 different ones came back');
		expect(run.items).toHaveLength(0);
	});
});

describe('findAll against a server without a page count', () => {
	test.each([
		[25, [1, 2, 3], 'stops on the short page 3'],
		[30, [1, 2, 3, 4], 'stops at page 4, which repeats page 3 and brings no new row'],
	])('no total, last page repeated, %i transactions: %j (%s)', async (count, pages) => {
		server.emulator.options.maxPageSize = 10;
		server.emulator.findFaults.noTotal = true;
		server.emulator.findFaults.repeatLastPage = true;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, count);
		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json.id)).toEqual(byDate(seeded, 'DESC'));
		expect(pagesAsked()).toEqual(pages);
	});

	test('no total, last page repeated, a Limit above the total: stops too', async () => {
		server.emulator.options.maxPageSize = 10;
		server.emulator.findFaults.noTotal = true;
		server.emulator.findFaults.repeatLastPage = true;
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 20);
		const run = await runNode(server.credentials, getMany(customer.id, { limit: 500 }));
		expect(run.items).toHaveLength(20);
		expect(pagesAsked()).toEqual([1, 2, 3]);
	});
});
