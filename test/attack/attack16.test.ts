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
			expect(`${run.error?.message}`).toMatch(/changed while they were being fetched|different ones came back/);
			return;
		}
		const ids = run.items.map((item) => String(item.json.id));
		// Every seeded transaction matched throughout the run.
		expect(ids).toEqual(expect.arrayContaining(seeded.map((t) => t.id)));
	});
});
