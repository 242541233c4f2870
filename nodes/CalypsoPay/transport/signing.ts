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

/** Why a Base URL (trimmed, trailing slashes dropped) is not a scheme and host, if it is not; else the parsed URL. */
function parseBaseUrl(url: string): { problem: string } | { parsed: URL } {
	if (/\s/.test(url)) return { problem: 'contains a space' };
	// WHATWG URL parsing (n8n's and Node's) reads a backslash as a slash: "https://evil.example\@host" goes to
	// evil.example. Refused outright rather than guessed at.
	if (url.includes('\\')) return { problem: 'contains a backslash (\\)' };
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return { problem: 'is not a URL' };
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
		return { problem: `has the scheme "${parsed.protocol.slice(0, -1)}" (http or https expected)` };
	}
	if (!parsed.hostname) return { problem: 'has no host' };
	if (parsed.username || parsed.password) return { problem: 'contains a user name or password' };
	if (parsed.port === '0') return { problem: 'has the port 0 (nothing can answer there)' };
	if (parsed.pathname !== '/') return { problem: `has the path "${parsed.pathname}"` };
	if (parsed.search || parsed.hash || url.includes('?') || url.includes('#'))
		return { problem: 'has a query or fragment' };
	return { parsed };
}

/**
 * The credential's Base URL, checked and normalised: surrounding spaces and trailing slashes are dropped, empty
 * means the default, and anything but an http(s) scheme and a host (a path such as /api/v1, a query, a user name,
 * a backslash, a space inside) is refused with an error naming the field. The check is on the parsed URL, the way
 * the request will be sent, and the result is that URL's origin.
 */
export function normalizeBaseUrl(value: unknown): string {
	const text = typeof value === 'string' && value.trim() !== '' ? value.trim() : DEFAULT_BASE_URL;
	const url = text.replace(/\/+$/, '');
	const result = parseBaseUrl(url);
	if ('problem' in result) {
		throw new Error(
			`Calypso credential: "Base URL" must be the scheme and host of the Calypso API only, such as ${DEFAULT_BASE_URL} (no path such as /api/v1); "${text}" ${result.problem}`,
		);
	}
	return result.parsed.origin;
}

/**
 * Where a request goes, resolved the way n8n resolves it (WHATWG URL of `url`, or the legacy `uri` of n8n's
 * HTTP Request node, against `baseURL`): undefined when it cannot be parsed.
 */
function destinationOf(options: IHttpRequestOptions, baseURL: string): URL | undefined {
	const target = options.url ?? (options as { uri?: unknown }).uri;
	const base = options.baseURL ? String(options.baseURL) : baseURL;
	try {
		return target === undefined || target === null || String(target) === ''
			? new URL(base)
			: new URL(String(target), base);
	} catch {
		return undefined;
	}
}

/**
 * Refuses a request that would leave the Base URL's origin (scheme, host and port). Calypso's signature covers the
 * body, not the URL, so a signed request sent elsewhere (an HTTP Request node's URL, an AI agent's tool URL) hands
 * that host the API key and a body it could replay to Calypso within minutes.
 */
function checkDestination(options: IHttpRequestOptions, baseURL: string): void {
	const destination = destinationOf(options, baseURL);
	if (destination?.origin === baseURL) return;
	const where = destination ? `goes to ${destination.origin}` : 'has a URL that cannot be read';
	throw new Error(
		`Calypso credential: this request ${where}, but the credential signs only requests to its Base URL (${baseURL}). Use a URL on ${baseURL} (or a path such as /api/v1/customer-purse/customer/get), or a credential whose Base URL is that host.`,
	);
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
 * signed over exactly those bytes and sent as that string, with redirects turned off. Idempotent: n8n may run it twice on one
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
	checkDestination(options, baseURL);
	const payload = payloadOf(options.body);
	const body = JSON.stringify(
		payload === undefined ? { account, timestamp: now } : { account, timestamp: now, payload },
	);
	options.baseURL = options.baseURL || baseURL;
	options.body = body;
	// A redirect would carry the Key header and the signed body wherever it points (n8n strips only Authorization on
	// a redirect to another host): no signed request follows one, an HTTP Request node's included. The legacy options
	// of n8n's request helper (`followRedirect`, `followAllRedirects`) are turned off as well.
	options.disableFollowRedirect = true;
	Object.assign(options, { followRedirect: false, followAllRedirects: false });
	options.headers = {
		...options.headers,
		'Content-Type': 'application/json',
		Key: String(credentials.apiKey ?? '').trim(),
		Sign: sign(String(credentials.apiSecret ?? '').trim(), body),
	};
	return options;
}
