/** The pagination function against data that changes while it pages. */
import { useEmulator } from '../helpers/calypso';
import { runNode } from '../helpers/engine';

const server = useEmulator();

function pageNumberOf(request: { body?: { payload?: Record<string, unknown> } }): unknown {
	return request.body?.payload?.pageNumber;
}

describe('findAll', () => {
	test('Return All: pages after the first are fetched concurrently, in as many requests as pages', async () => {
		server.emulator.options.latencyMs = 30;
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 60);
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'getMany',
			customerId: customer.id,
			returnAll: true,
		});
		expect(run.items).toHaveLength(60);
		const requests = server.emulator.requests;
		expect(requests).toHaveLength(6);
		expect(requests.map((request) => request.body?.payload?.pageSize)).toEqual(Array(6).fill(1000));
		// Pages 2..6 all left before page 2 could have been answered.
		expect(requests.slice(2).every((request) => request.at < requests[1].at + 30)).toBe(true);
	});

	test('a row that moves onto the next page while paging is returned once (limit)', async () => {
		server.emulator.options.maxPageSize = 10;
		const customer = server.emulator.seedCustomer();
		server.emulator.seedTransactions(customer.id, 30);
		let inserted = false;
		server.emulator.injectFault({
			path: 'transaction/find',
			match: (request) => {
				if (!inserted && (request.body?.payload as { pageNumber?: number })?.pageNumber === 2) {
					// A new deposit arrives between page 1 and page 2: newest first, everything shifts down by one.
					server.emulator.seedTransactions(customer.id, 1, { startDate: new Date(Date.now() + 60_000) });
					inserted = true;
				}
				return false;
			},
		});
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'getMany',
			customerId: customer.id,
			limit: 15,
		});
		const ids = run.items.map((item) => item.json.id);
		expect(ids).toHaveLength(15);
		expect(new Set(ids).size).toBe(15);
		expect(server.emulator.requests.map(pageNumberOf)).toEqual([1, 2]);
	});

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
		const run = await runNode(server.credentials, {
			resource: 'transaction',
			operation: 'getMany',
			customerId: customer.id,
			returnAll: true,
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso reported 20 transactions but 19 different ones came back');
		expect(run.items).toHaveLength(0);
	});
});
