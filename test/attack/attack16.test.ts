/**
 * Attack on issue 16's fixes (helper attack16): each test here states a promise of the README / CHANGELOG and FAILS
 * on the code it was written against. They are left as plain failing tests for the lead to fix.
 */
import { useEmulator } from '../helpers/calypso';
import { runNode } from '../helpers/engine';

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
