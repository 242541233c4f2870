import { createHmac } from 'node:crypto';
import type { ICredentialDataDecryptedObject, IDataObject, IHttpRequestOptions } from 'n8n-workflow';

export const DEFAULT_BASE_URL = 'https://api.calypso.money';
export const ACCOUNT_PATTERN = /^0x[0-9a-fA-F]{40}$/;

/**
 * Lowercase hex HMAC-SHA512 of the exact body, keyed with the secret. The only signing code in the package: it signs
 * requests (a string, as UTF-8) and verifies webhook deliveries (the raw bytes received, as a Buffer).
 */
export function sign(secret: string, body: string | Buffer): string {
	const hmac = createHmac('sha512', secret);
	return (typeof body === 'string' ? hmac.update(body, 'utf8') : hmac.update(body)).digest('hex');
}

export function normalizeBaseUrl(value: unknown): string {
	const url = typeof value === 'string' && value.trim() !== '' ? value.trim() : DEFAULT_BASE_URL;
	return url.replace(/\/+$/, '');
}

/** The payload a request carries, whether the body is still the node's object or already the signed string. */
function payloadOf(body: IHttpRequestOptions['body']): unknown {
	if (typeof body === 'string') return body === '' ? undefined : (JSON.parse(body) as IDataObject).payload;
	if (body && typeof body === 'object') return (body as IDataObject).payload;
	return undefined;
}

/**
 * Turns `{ payload }` into Calypso's signed envelope: `{account, timestamp, payload}` serialised once,
 * signed over exactly those bytes and sent as that string. Idempotent: n8n may run it twice on one
 * request, and each run takes a fresh timestamp.
 */
export function signRequest(
	credentials: ICredentialDataDecryptedObject,
	options: IHttpRequestOptions,
	now: number = Date.now(),
): IHttpRequestOptions {
	const account = String(credentials.account ?? '').trim();
	if (!ACCOUNT_PATTERN.test(account)) {
		throw new Error(
			'Calypso credential: "Merchant Account" must be 0x followed by 40 hexadecimal characters (the account id shown in the Calypso dashboard)',
		);
	}
	const payload = payloadOf(options.body);
	const body = JSON.stringify(
		payload === undefined ? { account, timestamp: now } : { account, timestamp: now, payload },
	);
	options.baseURL = options.baseURL || normalizeBaseUrl(credentials.baseUrl);
	options.body = body;
	options.headers = {
		...options.headers,
		'Content-Type': 'application/json',
		Key: String(credentials.apiKey ?? '').trim(),
		Sign: sign(String(credentials.apiSecret ?? '').trim(), body),
	};
	return options;
}
