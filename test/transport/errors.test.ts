import { runNode } from '../helpers/engine';
import { useEmulator } from '../helpers/calypso';

const server = useEmulator();
const NO_RETRY = { retry: 'off' };

/** A JSON error body without errorCode: the node passes on what it says, not a guess about proxies. */
describe('a JSON error body without errorCode keeps its own message', () => {
	afterEach(() => {
		server.emulator.options.impersonate = 'none';
	});

	const getCustomer = (options = {}) =>
		runNode(
			server.credentials,
			{
				resource: 'customer',
				operation: 'get',
				customerId: '0b7a3c1e-5d2f-4e8a-9c61-3f0d2b8e7a11',
				options: NO_RETRY,
			},
			[{}],
			options,
		);

	test('a JSON 401 {message}: the message is shown, with the status, and no proxy is blamed', async () => {
		server.emulator.options.impersonate = 'unauthorized-json';
		const run = await getCustomer();
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe(
			'Calypso answered HTTP 401: Unauthorized: missing or invalid credentials',
		);
		expect(run.error?.description).toContain('no Calypso error code');
		expect(run.error?.description).toContain('Base URL');
		expect(run.error?.description).not.toMatch(/proxy|outage/);
		expect(server.emulator.requests).toHaveLength(1);
	});

	test('a JSON 404 in another shape ({error: "Not Found"}) gives that message', async () => {
		server.emulator.options.impersonate = 'not-found-json';
		const run = await getCustomer();
		expect(run.error?.message).toBe('Calypso answered HTTP 404: Not Found');
	});

	test('with Continue On Fail the error item carries the message, the status and the trace ID', async () => {
		server.emulator.injectFault({
			path: 'customer/get',
			status: 400,
			body: { message: 'payload.customerId: unknown field', traceId: 'abc123' },
		});
		const run = await getCustomer({ continueOnFail: true });
		expect(run.status).toBe('success');
		expect(run.items[0].json).toMatchObject({
			error: 'Calypso answered HTTP 400: payload.customerId: unknown field',
			httpCode: 400,
			traceId: 'abc123',
		});
		expect(run.items[0].json.errorCode).toBeUndefined();
		expect(String(run.items[0].json.description)).toContain('Trace ID: abc123');
	});

	test('a JSON body with no message field is shown as its JSON', async () => {
		server.emulator.injectFault({ path: 'customer/get', status: 418, body: { code: 42, reason: 'teapot' } });
		const run = await getCustomer();
		expect(run.error?.message).toBe('Calypso answered HTTP 418: {"code":42,"reason":"teapot"}');
	});
});
