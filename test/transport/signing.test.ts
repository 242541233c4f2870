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
});
