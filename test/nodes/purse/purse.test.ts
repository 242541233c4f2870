import { runNode } from '../../helpers/engine';
import { useEmulator } from '../../helpers/calypso';

const server = useEmulator();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('purse.getAll', () => {
	test('returns one item per purse, each paired with the input item', async () => {
		const customer = server.emulator.seedCustomer();
		const tron = server.emulator.seedPurse(customer.id, 'USDT_TRX');
		const bitcoin = server.emulator.seedPurse(customer.id, 'BTC');
		const ethereum = server.emulator.seedPurse(customer.id, 'ETH');
		// Another customer's purse must not show up.
		server.emulator.seedPurse(server.emulator.seedCustomer().id, 'BTC');

		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAll',
			customerId: customer.id,
		});
		expect(run.status).toBe('success');
		expect(run.items.map((item) => item.json)).toEqual(expect.arrayContaining([tron, bitcoin, ethereum]));
		expect(run.items).toHaveLength(3);
		expect(run.items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 0 }, { item: 0 }]);

		expect(server.emulator.requests).toHaveLength(1);
		expect(server.emulator.requests[0].path).toBe('/api/v1/customer-purse/purse/get-all');
		expect(server.emulator.requests[0].body?.payload).toEqual({ customerId: customer.id });
	});

	test('a customer without purses gives no items, and the run succeeds', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAll',
			customerId: customer.id,
		});
		expect(run.status).toBe('success');
		expect(run.items).toEqual([]);
		expect(server.emulator.requests).toHaveLength(1);
		expect(server.emulator.requests[0].status).toBe(200);
	});
});

describe('purse.getAddress', () => {
	test('returns the deposit address with the customer ID and currency', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAddress',
			customerId: customer.id,
			currency: 'USDT_TRX',
		});
		expect(run.status).toBe('success');
		expect(run.items).toHaveLength(1);
		const purse = run.items[0].json;
		expect(purse).toMatchObject({ customerId: customer.id, currency: 'USDT_TRX' });
		expect(purse.id).toMatch(UUID);
		expect(purse.address).toMatch(/^T[1-9A-HJ-NP-Za-km-z]{33}$/);
		expect(run.items[0].pairedItem).toEqual({ item: 0 });

		const stored = server.emulator.state.purses.get(purse.id as string);
		expect(stored).toMatchObject({ customerId: customer.id, address: purse.address });
		expect(server.emulator.requests[0].path).toBe('/api/v1/customer-purse/address/get');
		expect(server.emulator.requests[0].body?.payload).toEqual({
			customerId: customer.id,
			currency: 'USDT_TRX',
		});
	});

	test('the same chain gives the same address on a second call (USDT_TRX, then TRX)', async () => {
		const customer = server.emulator.seedCustomer();
		const params = { resource: 'purse', operation: 'getAddress', customerId: customer.id };
		const first = await runNode(server.credentials, { ...params, currency: 'USDT_TRX' });
		const second = await runNode(server.credentials, { ...params, currency: 'TRX' });
		expect(second.items[0].json).toMatchObject({
			id: first.items[0].json.id,
			address: first.items[0].json.address,
			customerId: customer.id,
			currency: 'TRX',
		});
		expect(server.emulator.state.purses.size).toBe(1);
		expect(server.emulator.requests).toHaveLength(2);
	});

	test('a lower-case ticker is upper-cased before it is sent', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAddress',
			customerId: customer.id,
			currency: ' usdt_trx ',
		});
		expect(run.status).toBe('success');
		expect(server.emulator.requests).toHaveLength(1);
		expect(server.emulator.requests[0].body?.payload).toEqual({
			customerId: customer.id,
			currency: 'USDT_TRX',
		});
		expect(run.items[0].json.currency).toBe('USDT_TRX');
	});

	test('a well-formed but unknown currency is Calypso error 014 with a hint', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAddress',
			customerId: customer.id,
			currency: 'FOO',
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe('Calypso error 014: Invalid currency');
		expect(run.error?.description).toContain('upper-case ticker such as BTC, ETH, USDT or USDT_TRX');
		expect(run.error?.description).toMatch(/Trace ID \(for Calypso support\): [0-9a-f]{32}/);
		expect(server.emulator.requests).toHaveLength(1);
		expect(server.emulator.requests[0].body?.payload).toEqual({ customerId: customer.id, currency: 'FOO' });
		expect(server.emulator.state.purses.size).toBe(0);
	});

	test('a badly formed ticker (USDT-TRC20) is a validation error naming Currency, and nothing is sent', async () => {
		const customer = server.emulator.seedCustomer();
		const run = await runNode(server.credentials, {
			resource: 'purse',
			operation: 'getAddress',
			customerId: customer.id,
			currency: 'USDT-TRC20',
		});
		expect(run.status).toBe('error');
		expect(run.error?.message).toMatch(/^Currency must be a Calypso currency ticker/);
		expect(run.error?.message).toContain('"USDT-TRC20"');
		expect(run.error?.description).toContain('USDT_TRX');
		expect((run.error as { context?: { itemIndex?: number } }).context?.itemIndex).toBe(0);
		expect(server.emulator.requests).toHaveLength(0);
	});
});
