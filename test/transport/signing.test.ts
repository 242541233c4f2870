import type { IHttpRequestOptions } from 'n8n-workflow';

import { normalizeBaseUrl, sign, signRequest } from '../../nodes/CalypsoPay/transport/signing';
import vector from './vendor-vector.json';

const ACCOUNT = '0xAbCdEf0123456789abcdef0123456789ABCDEF01';
const credentials = { ...vector, account: ACCOUNT, baseUrl: '' };

describe('sign', () => {
	test("matches the vendor's documented vector", () => {
		expect(sign(vector.apiSecret, vector.body)).toBe(vector.sign);
	});

	test('changes with a single byte of the body', () => {
		expect(sign('s', '{"timestamp":1}')).not.toBe(sign('s', '{"timestamp": 1}'));
	});
});

describe('signRequest', () => {
	test('builds the envelope, signs exactly the string it sends, and sets the headers', () => {
		const options: IHttpRequestOptions = {
			url: '/x',
			method: 'POST',
			body: { payload: { customerId: 'c' } },
		};
		signRequest(credentials, options, 1700000000000);
		expect(options.body).toBe(
			`{"account":"${ACCOUNT}","timestamp":1700000000000,"payload":{"customerId":"c"}}`,
		);
		expect(options.headers).toMatchObject({
			'Content-Type': 'application/json',
			Key: credentials.apiKey,
			Sign: sign(credentials.apiSecret, options.body as string),
		});
		expect(options.baseURL).toBe('https://api.calypso.money');
	});

	test('is idempotent when n8n runs it twice on one request, taking a fresh timestamp', () => {
		const options: IHttpRequestOptions = { url: '/x', body: { payload: { a: 1 } } };
		signRequest(credentials, options, 1);
		signRequest(credentials, options, 2);
		expect(JSON.parse(options.body as string)).toEqual({ account: ACCOUNT, timestamp: 2, payload: { a: 1 } });
		expect(options.headers?.Sign).toBe(sign(credentials.apiSecret, options.body as string));
	});

	test('omits the payload for requests that have none', () => {
		const options: IHttpRequestOptions = { url: '/x' };
		signRequest(credentials, options, 5);
		expect(options.body).toBe(`{"account":"${ACCOUNT}","timestamp":5}`);
	});

	test('an empty body object carries no payload either (the webhook subscription list), also when signed twice', () => {
		const options: IHttpRequestOptions = { url: '/x', body: {} };
		signRequest(credentials, options, 5);
		expect(options.body).toBe(`{"account":"${ACCOUNT}","timestamp":5}`);
		signRequest(credentials, options, 6);
		expect(options.body).toBe(`{"account":"${ACCOUNT}","timestamp":6}`);
	});

	test('a JSON string body {"payload": …} (as a node may pass it) is signed like the object', () => {
		const options: IHttpRequestOptions = { url: '/x', body: '{"payload":{"requestId":"r"}}' };
		signRequest(credentials, options, 7);
		expect(options.body).toBe(`{"account":"${ACCOUNT}","timestamp":7,"payload":{"requestId":"r"}}`);
	});

	test.each([
		['an object without payload', { customerId: 'c' }, /it has "customerId" at the top level/],
		[
			'payload beside other fields',
			{ payload: { a: 1 }, currency: 'BTC' },
			/it has "currency" at the top level/,
		],
		['a JSON string without payload', '{"externalId":"e"}', /it has "externalId" at the top level/],
		['a string that is not JSON', 'customerId=c', /it is not a JSON object/],
		['a JSON array', [{ payload: {} }], /it is not a JSON object/],
	])('refuses a body that is %s instead of sending only {account, timestamp}', (_, body, found) => {
		const options = { url: '/x', body } as IHttpRequestOptions;
		expect(() => signRequest(credentials, options, 1)).toThrow(
			/the request body must be \{"payload": \{…\}\} with the API fields inside "payload"/,
		);
		expect(() => signRequest(credentials, { url: '/x', body } as IHttpRequestOptions, 1)).toThrow(found);
		expect(options.headers).toBeUndefined();
	});

	test('rejects a malformed merchant account, naming the field and the form', () => {
		expect(() => signRequest({ ...credentials, account: '0x123' }, { url: '/x' })).toThrow(
			/"Merchant Account" must be 0x followed by 40 hexadecimal characters/,
		);
	});

	test('keeps a base URL given by the request on the same origin and normalises the credential one', () => {
		expect(normalizeBaseUrl('https://api.calypso.money/')).toBe('https://api.calypso.money');
		expect(normalizeBaseUrl(' http://127.0.0.1:9/ ')).toBe('http://127.0.0.1:9');
		const options: IHttpRequestOptions = { url: '/x', baseURL: 'http://other:80/' };
		signRequest({ ...credentials, baseUrl: 'http://other' }, options);
		expect(options.baseURL).toBe('http://other:80/');
	});

	describe('signs only requests to the Base URL origin', () => {
		const base = { ...credentials, baseUrl: 'https://api.calypso.money' };
		const refused =
			/^Calypso credential: this request goes to (\S+), but the credential signs only requests to its Base URL \(https:\/\/api\.calypso\.money\)/;

		test.each([
			['a relative path (our nodes, the credential Test)', { url: '/api/v1/customer-purse/customer/get' }],
			['a relative path without the leading slash', { url: 'api/v1/x' }],
			['an absolute URL on the Base URL (HTTP Request node)', { url: 'https://api.calypso.money/api/v1/x' }],
			['the default port written out', { url: 'https://API.calypso.money:443/api/v1/x' }],
			['a legacy uri on the Base URL (HTTP Request node v3)', { uri: 'https://api.calypso.money/api/v1/x' }],
			['a relative url with the Base URL as baseURL', { url: '/x', baseURL: 'https://api.calypso.money' }],
		])('accepts %s', (_, request) => {
			const options = { method: 'POST', ...request } as IHttpRequestOptions;
			signRequest(base, options, 1);
			expect(options.headers?.Key).toBe(credentials.apiKey);
		});

		test.each([
			['an absolute URL on another host', { url: 'https://evil.example/api/v1/x' }, 'https://evil.example'],
			['a legacy uri on another host', { uri: 'https://evil.example/api/v1/x' }, 'https://evil.example'],
			['another scheme', { url: 'http://api.calypso.money/api/v1/x' }, 'http://api.calypso.money'],
			['another port', { url: 'https://api.calypso.money:8443/x' }, 'https://api.calypso.money:8443'],
			['a protocol-relative URL', { url: '//evil.example/x' }, 'https://evil.example'],
			['a backslash host', { url: '\\\\evil.example\\x' }, 'https://evil.example'],
			['a user name trick', { url: 'https://api.calypso.money@evil.example/x' }, 'https://evil.example'],
			['a relative url with another baseURL', { url: '/x', baseURL: 'https://evil.example' }, 'https://evil.example'],
		])('refuses %s, naming the Base URL, before anything is signed', (_, request, origin) => {
			const options = { method: 'POST', body: { payload: { a: 1 } }, ...request } as IHttpRequestOptions;
			let message = '';
			try {
				signRequest(base, options, 1);
			} catch (error) {
				message = (error as Error).message;
			}
			expect(message).toMatch(refused);
			expect(refused.exec(message)?.[1]).toBe(origin);
			expect(options.headers).toBeUndefined();
			expect(options.body).toEqual({ payload: { a: 1 } });
		});
	});

	test.each([
		['https://api.calypso.money/api/v1', 'has the path "/api/v1"'],
		['https://api.calypso.money/api/v1/customer-purse/', 'has the path "/api/v1/customer-purse"'],
		['api.calypso.money', 'is not a URL'],
		['ftp://api.calypso.money', 'has the scheme "ftp" (http or https expected)'],
		['https://api.calypso .money', 'contains a space'],
		['https://user:pw@api.calypso.money', 'contains a user name or password'],
		['https://api.calypso.money?x=1', 'has a query or fragment'],
		['https://api.calypso.money#top', 'has a query or fragment'],
		['https://evil.example\\@api.calypso.money', 'contains a backslash (\\)'],
		['https://api.calypso.money\\api\\v1', 'contains a backslash (\\)'],
		['https://evil.example%5C@api.calypso.money', 'contains a user name or password'],
		['https://api.calypso.money/./api', 'has the path "/api"'],
		['https://api.calypso.money/%61pi', 'has the path "/%61pi"'],
		['https://api.calypso.money:0', 'has the port 0 (nothing can answer there)'],
		['http://127.0.0.1:00', 'has the port 0 (nothing can answer there)'],
	])('refuses the Base URL %j, naming the field, the form and what is wrong', (baseUrl, problem) => {
		const message = `Calypso credential: "Base URL" must be the scheme and host of the Calypso API only, such as https://api.calypso.money (no path such as /api/v1); "${baseUrl}" ${problem}`;
		expect(() => normalizeBaseUrl(baseUrl)).toThrow(message);
		expect(() => signRequest({ ...credentials, baseUrl }, { url: '/x' })).toThrow(message);
	});

	test('accepts a scheme and host with a port, and the default for an empty Base URL', () => {
		expect(normalizeBaseUrl('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010');
		expect(normalizeBaseUrl('HTTPS://API.Calypso.Finance//')).toBe('https://api.calypso.finance');
		expect(normalizeBaseUrl('https://api.calypso.money:443')).toBe('https://api.calypso.money');
		expect(normalizeBaseUrl('  ')).toBe('https://api.calypso.money');
	});
});
