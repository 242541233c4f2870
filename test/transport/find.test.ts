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

	/** Before each of the first `times` requests for page 2, one transaction of page 1 goes away. */
	function removeBeforePage2(seeded: Transaction[], times: number): void {
		let removed = 0;
		server.emulator.injectFault({
			path: 'transaction/find',
			times: Infinity,
			match: (request) => {
				if (removed < times && (request.body?.payload as { pageNumber?: number })?.pageNumber === 2) {
					// A row of page 1 disappears before page 2 is read: one row slides onto page 1 unseen.
					server.emulator.state.transactions.delete(seeded[seeded.length - 1 - removed].id);
					removed++;
				}
				return false;
			},
		});
	}

	test('a transaction that goes away while paging: the pages are read again, in order, and the rest come back', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 20);
		removeBeforePage2(seeded, 1);
		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.error?.message).toBeUndefined();
		expect(run.items.map((item) => item.json.id)).toEqual(byDate(seeded, 'DESC').slice(1));
		// Page 2 reported 19 where page 1 had 20: both are read again.
		expect(pagesAsked()).toEqual([1, 2, 1, 2]);
	});

	test('Return All while transactions keep going away: an error after reading again twice, not a short list', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 20);
		removeBeforePage2(seeded, 3);
		const run = await runNode(server.credentials, getMany(customer.id, { returnAll: true }));
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe(
			'The transactions changed while they were being fetched: Calypso reported 17 to 18 of them across the pages, also after reading them again',
		);
		expect(run.error?.description).toMatch(/nothing was returned from this attempt/);
		expect(run.items).toHaveLength(0);
		expect(pagesAsked()).toEqual([1, 2, 1, 2, 1, 2]);
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

describe('findAll while pages are answered out of order and data change in between (issue 16)', () => {
	const idsOf = (items: Array<{ json: { id?: unknown } }>): unknown[] => items.map((item) => item.json.id);

	/** Page 3 is answered before page 2; `change` runs just before page 2's (first) answer is computed. */
	function page3ThenPage2(change: () => void): void {
		server.emulator.findFaults.answerOrder = [3, 2];
		let done = false;
		server.emulator.findFaults.beforeAnswer = ({ page }) => {
			if (page !== 2 || done) return;
			done = true;
			change();
		};
	}

	test('Sort By Amount, Return All: a deposit landing on page 2 after page 3 was read loses no row', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 30); // amounts 10.25, 20.5, … ascending
		let deposit: Transaction | undefined;
		// Its amount puts it in the middle of page 2: page 2's last row moves onto page 3, already read.
		page3ThenPage2(() => {
			[deposit] = server.emulator.seedTransactions(customer.id, 1, { amount: seeded[14].amount + 0.01 });
		});
		const run = await runNode(
			server.credentials,
			getMany(customer.id, { returnAll: true, options: { sortBy: 'amount', sortDirection: 'ASC' } }),
		);
		expect(run.error?.message).toBeUndefined();
		const ids = idsOf(run.items);
		expect(new Set(ids).size).toBe(ids.length);
		// Every transaction that was there throughout comes back (the old findAll lost seeded[19]).
		expect(ids.filter((id) => id !== deposit?.id)).toEqual(seeded.map((t) => t.id));
		// Page 3 (30 reported) after page 2 (31): page 3 is read again, then page 4, which now exists; nothing else.
		expect(pagesAsked().sort()).toEqual([1, 2, 3, 3, 4]);
	});

	test('Transaction States filter, Return All: a transaction entering the filter after page 3 was read loses no row', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 40, {
			state: ['CONFIRMED', 'CONFIRMED', 'CONFIRMED', 'MEM_POOL_FOUND'],
		});
		const confirmed = seeded.filter((t) => t.transactionState === 'CONFIRMED');
		const newest = byDate(confirmed, 'DESC');
		// A pending one whose date puts it in the middle of page 2 once it is confirmed.
		const pending = seeded.find(
			(t) =>
				t.transactionState === 'MEM_POOL_FOUND' &&
				t.createdDate < confirmed.find((c) => c.id === newest[12])!.createdDate &&
				t.createdDate > confirmed.find((c) => c.id === newest[18])!.createdDate,
		)!;
		page3ThenPage2(() => server.emulator.updateTransaction(pending.id, { transactionState: 'CONFIRMED' }));
		const run = await runNode(
			server.credentials,
			getMany(customer.id, { returnAll: true, filters: { transactionStates: ['CONFIRMED'] } }),
		);
		expect(run.error?.message).toBeUndefined();
		const ids = idsOf(run.items);
		expect(new Set(ids).size).toBe(ids.length);
		expect(ids.filter((id) => id !== pending.id)).toEqual(newest);
	});

	test('newest first, Limit 30: a deposit after page 3 was read skips no row; the result is one moment\'s first 30', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		const seeded = server.emulator.seedTransactions(customer.id, 50);
		let deposit: Transaction | undefined;
		page3ThenPage2(() => {
			[deposit] = server.emulator.seedTransactions(customer.id, 1, { startDate: new Date() });
		});
		const run = await runNode(server.credentials, getMany(customer.id, { limit: 30 }));
		expect(run.error?.message).toBeUndefined();
		const before = byDate(seeded, 'DESC');
		const after = [deposit!.id, ...before];
		expect([before.slice(0, 30), after.slice(0, 30)]).toContainEqual(idsOf(run.items));
	});
});

describe('findAll against answers that omit counts, repeat pages or cap the size silently (attack16)', () => {
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
