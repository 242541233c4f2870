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

/** Why a Base URL (trimmed, trailing slashes dropped) is not a scheme and host, if it is not. */
function baseUrlProblem(url: string): string | undefined {
	if (/\s/.test(url)) return 'contains a space';
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return 'is not a URL';
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
		return `has the scheme "${parsed.protocol.slice(0, -1)}" (http or https expected)`;
	}
	if (!parsed.hostname) return 'has no host';
	if (parsed.username || parsed.password) return 'contains a user name or password';
	const path = /^[a-z]+:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url)?.[1];
	if (path) return `has the path "${path}"`;
	if (parsed.search || parsed.hash) return 'has a query or fragment';
	return undefined;
}

/**
 * The credential's Base URL, checked and normalised: surrounding spaces and trailing slashes are dropped, empty
 * means the default, and anything but an http(s) scheme and a host (a path such as /api/v1, a query, a space
 * inside) is refused with an error naming the field.
 */
export function normalizeBaseUrl(value: unknown): string {
	const text = typeof value === 'string' && value.trim() !== '' ? value.trim() : DEFAULT_BASE_URL;
	const url = text.replace(/\/+$/, '');
	const problem = baseUrlProblem(url);
	if (problem) {
		throw new Error(
			`Calypso credential: "Base URL" must be the scheme and host of the Calypso API only, such as ${DEFAULT_BASE_URL} (no path such as /api/v1); "${text}" ${problem}`,
		);
	}
	return url;
}

/** The keys of the envelope the credential builds; a body may carry them when n8n signs a request twice. */
const ENVELOPE_KEYS = new Set(['payload', 'account', 'timestamp']);

const isPlainObject = (value: unknown): value is IDataObject =>
	!!value &&
	typeof value === 'object' &&
	[Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);

/**
 * The payload a request carries, whether the body is still the caller's object or already the signed string.
 * No body, or an empty object, carries none (the webhook subscription list is signed that way). A body that is
 * not `{"payload": …}` is refused rather than signed and sent without its fields.
 */
function payloadOf(body: IHttpRequestOptions['body']): unknown {
	if (body === undefined || body === null || body === '') return undefined;
	let value: unknown = body;
	if (typeof body === 'string') {
		try {
			value = JSON.parse(body);
		} catch {
			value = undefined;
		}
	}
	const refuse = (found: string) =>
		new Error(
			`Calypso credential: the request body must be {"payload": {…}} with the API fields inside "payload"; ${found}. The credential adds account and timestamp and signs the body.`,
		);
	if (!isPlainObject(value)) throw refuse('it is not a JSON object');
	const extra = Object.keys(value).filter((key) => !ENVELOPE_KEYS.has(key));
	if (extra.length > 0) {
		const names = extra.slice(0, 5).map((key) => `"${key}"`);
		throw refuse(`it has ${names.join(', ')} at the top level`);
	}
	return value.payload;
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
	const baseURL = normalizeBaseUrl(credentials.baseUrl);
	const payload = payloadOf(options.body);
	const body = JSON.stringify(
		payload === undefined ? { account, timestamp: now } : { account, timestamp: now, payload },
	);
	options.baseURL = options.baseURL || baseURL;
	options.body = body;
	options.headers = {
		...options.headers,
		'Content-Type': 'application/json',
		Key: String(credentials.apiKey ?? '').trim(),
		Sign: sign(String(credentials.apiSecret ?? '').trim(), body),
	};
	return options;
}
