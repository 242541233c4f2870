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

	test('keeps a base URL given by the request and normalises the credential one', () => {
		expect(normalizeBaseUrl('https://api.calypso.money/')).toBe('https://api.calypso.money');
		expect(normalizeBaseUrl(' http://127.0.0.1:9/ ')).toBe('http://127.0.0.1:9');
		const options: IHttpRequestOptions = { url: '/x', baseURL: 'http://proxy' };
		signRequest({ ...credentials, baseUrl: 'http://other' }, options);
		expect(options.baseURL).toBe('http://proxy');
	});

	test.each([
		['https://api.calypso.money/api/v1', 'has the path "/api/v1"'],
		['https://api.calypso.money/api/v1/customer-purse/', 'has the path "/api/v1/customer-purse"'],
		['api.calypso.money', 'is not a URL'],
		['ftp://api.calypso.money', 'has the scheme "ftp" (http or https expected)'],
		['https://api.calypso .money', 'contains a space'],
		['https://user:pw@api.calypso.money', 'contains a user name or password'],
		['https://api.calypso.money?x=1', 'has a query or fragment'],
	])('refuses the Base URL %j, naming the field, the form and what is wrong', (baseUrl, problem) => {
		const message = `Calypso credential: "Base URL" must be the scheme and host of the Calypso API only, such as https://api.calypso.money (no path such as /api/v1); "${baseUrl}" ${problem}`;
		expect(() => normalizeBaseUrl(baseUrl)).toThrow(message);
		expect(() => signRequest({ ...credentials, baseUrl }, { url: '/x' })).toThrow(message);
	});

	test('accepts a scheme and host with a port, and the default for an empty Base URL', () => {
		expect(normalizeBaseUrl('http://127.0.0.1:4010')).toBe('http://127.0.0.1:4010');
		expect(normalizeBaseUrl('HTTPS://API.Calypso.Finance//')).toBe('HTTPS://API.Calypso.Finance');
		expect(normalizeBaseUrl('  ')).toBe('https://api.calypso.money');
	});
});
