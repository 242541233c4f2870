import { testCredential } from '../helpers/credential-tester';
import { useEmulator } from '../helpers/calypso';
import { sign } from '../emulator';

const server = useEmulator();
const TEST_PATH = '/api/v1/customer-purse/customer/external/get';

describe('credential test (n8n "Test credential" button)', () => {
	test('correct credentials: one signed request to customer/external/get, no rule fires', async () => {
		const result = await testCredential(server.credentials);
		expect(result).toMatchObject({ status: 'OK', message: 'Connection successful!' });

		expect(server.emulator.requests).toHaveLength(1);
		const [request] = server.emulator.requests;
		expect(request.method).toBe('POST');
		expect(request.path).toBe(TEST_PATH);
		expect(request.status).toBe(200);
		expect(request.headers.key).toBe(server.credentials.apiKey);
		expect(request.headers['content-type']).toMatch(/^application\/json/);
		expect(request.headers.sign).toBe(sign(server.credentials.apiSecret, request.rawBody));
		expect(request.body).toEqual({
			account: server.credentials.account,
			timestamp: expect.any(Number),
			payload: { externalId: 'n8n-credential-test' },
		});
		expect(Math.abs((request.body?.timestamp ?? 0) - request.at)).toBeLessThan(10_000);
		// What RoutingNode handed to the rules: Calypso's answer, parsed.
		expect(result.response?.[0][0].json).toEqual({ customers: [] });
	});

	test('a wrong Secret Key makes the 003 rule fire with its message', async () => {
		const result = await testCredential({ ...server.credentials, apiSecret: 'wrong-secret-value' });
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/^Calypso error 003: wrong sign\. /);
		expect(result.message).toContain('Secret Key');
		expect(server.emulator.requests).toHaveLength(1);
		expect(server.emulator.requests[0].response).toMatchObject({ errorCode: '003' });
		expect(JSON.stringify(result)).not.toContain('wrong-secret-value');
	});

	test('a wrong API Key makes the 002 rule fire with its message', async () => {
		const result = await testCredential({
			...server.credentials,
			apiKey: `${server.credentials.apiKey}-revoked`,
		});
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/^Calypso error 002: invalid API key\. /);
		expect(result.message).toContain('API Key');
		expect(server.emulator.requests[0].response).toMatchObject({ errorCode: '002' });
	});

	test('a host clock Calypso rejects makes the 011 rule fire', async () => {
		server.emulator.options.clockOffsetMs = 10 * 60_000;
		const result = await testCredential(server.credentials);
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/^Calypso error 011: invalid timestamp\. /);
		expect(result.message).toContain('clock');
	});

	test("a Merchant Account that is not the API key's makes the 001 rule fire", async () => {
		const result = await testCredential({
			...server.credentials,
			account: '0x2222222222222222222222222222222222222222',
		});
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/^Calypso error 001: bad request\. /);
		expect(result.message).toContain('Merchant Account');
	});

	test('a malformed Merchant Account is reported by name and nothing is sent', async () => {
		const result = await testCredential({ ...server.credentials, account: '0x1234' });
		expect(result.status).toBe('Error');
		expect(result.message).toContain('Merchant Account');
		expect(server.emulator.requests).toHaveLength(0);
	});
});
