import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	IHttpRequestOptions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { HINTS } from './errors';
import { parseBody } from './index';
import { DEFAULT_BASE_URL, signRequest } from './signing';

/**
 * The credential's Test (n8n's "Test" button), named by both nodes as `testedBy` so that n8n runs this function
 * instead of a declarative request: n8n answers a declarative test that fails at the socket with the bare error code
 * (`ECONNREFUSED`), and this one says what happened and what to check. It sends the one signed, read-only call
 * (customer/external/get, which Calypso answers `{customers: [...]}` whatever the external ID), never follows a
 * redirect, is bounded in time, and passes only on Calypso's successful answer.
 *
 * n8n gives a credential test only the request helper of its legacy `request` options (`helpers.request`, in n8n 1.x
 * and 2.x alike: n8n's own nodes' credential tests use it too); the request is signed by the one signing function,
 * `signRequest`, with the Base URL checked the way every request's is.
 */
export const CREDENTIAL_TEST_PATH = '/api/v1/customer-purse/customer/external/get';
export const CREDENTIAL_TEST_PAYLOAD = { externalId: 'n8n-credential-test' };
/** The most the Test waits for Calypso's whole answer. */
export const CREDENTIAL_TEST_TIMEOUT_MS = 20_000;

/** The Test's message for each Calypso error code it names. */
export const CREDENTIAL_TEST_ERRORS: Record<string, string> = {
	'002': `Calypso error 002: invalid API key. ${HINTS['002']}`,
	'003': `Calypso error 003: wrong sign. ${HINTS['003']}`,
	'011': `Calypso error 011: invalid timestamp. ${HINTS['011']}`,
	'001': 'Calypso error 001: bad request. Check that the Merchant Account belongs to this API key.',
	'000': 'Calypso error 000: internal error at Calypso. Try again later.',
};

/** The part of n8n's credential-test context the Test uses. */
export type CredentialTestContext = Pick<ICredentialTestFunctions, 'helpers'>;

interface LegacyResponse {
	statusCode?: number;
	headers?: Record<string, unknown>;
	body?: unknown;
}

type Outcome = { response: LegacyResponse } | { error: unknown } | { timedOut: true };

const OK: INodeCredentialTestResult = { status: 'OK', message: 'Connection successful!' };
const fail = (message: string): INodeCredentialTestResult => ({ status: 'Error', message });

const SEE_BASE_URL = `Check the Base URL: the scheme and host of the Calypso API, such as ${DEFAULT_BASE_URL}.`;

/** The Base URL's host and port, as a user would check them ("api.calypso.money:443"). */
function hostPort(base: URL): string {
	const port = base.port || (base.protocol === 'https:' ? '443' : '80');
	return `${base.hostname}:${port}`;
}

/** What the answer was, in a few words, for a Test that did not get Calypso's success. */
function describeAnswer(status: number, headers: Record<string, unknown>, body: unknown, base: URL): string {
	const location = headers.location;
	if (status >= 300 && status < 400 && typeof location === 'string') {
		// Only the origin: a Location's path or an unreadable one may carry what was sent (the Key, the Sign).
		let to = 'an unreadable Location';
		try {
			to = new URL(location, new URL(CREDENTIAL_TEST_PATH, base)).origin;
		} catch {
			// stays "an unreadable Location"
		}
		return `a redirect (HTTP ${status}) to ${to.slice(0, 200)}, not followed: it would take the API key and the signed request there`;
	}
	if (body && typeof body === 'object' && !Array.isArray(body)) {
		const { errorCode } = body as { errorCode?: unknown };
		// A code is named only in Calypso's form (three digits): anything else may be an echo of what was sent.
		if (typeof errorCode === 'string' && /^\d{3}$/.test(errorCode))
			return `HTTP ${status} with the error code ${errorCode}`;
		if (typeof errorCode === 'string') return `HTTP ${status} with an error code that is not Calypso's`;
		return `HTTP ${status} with a JSON answer without a "customers" list`;
	}
	if (body === undefined || body === null || body === '') return `HTTP ${status} with an empty body`;
	if (typeof body === 'string' && body.trimStart().startsWith('<')) return `HTTP ${status} with an HTML page`;
	return `HTTP ${status} with an answer that is not Calypso's JSON`;
}

/** Calypso's verdict on the credential, from its answer to the signed test call. */
function judge(response: LegacyResponse, base: URL): INodeCredentialTestResult {
	const status = Number(response.statusCode);
	const body = parseBody(response.body);
	const data = body && typeof body === 'object' ? (body as { errorCode?: unknown; customers?: unknown }) : {};
	if (typeof data.errorCode === 'string' && data.errorCode in CREDENTIAL_TEST_ERRORS)
		return fail(CREDENTIAL_TEST_ERRORS[data.errorCode]);
	if (status >= 200 && status < 300 && Array.isArray(data.customers) && data.errorCode === undefined) return OK;
	const answer = describeAnswer(status, response.headers ?? {}, body, base);
	return fail(
		`The Base URL did not answer like Calypso: the signed test call (POST ${CREDENTIAL_TEST_PATH}) got ${answer}, not Calypso's successful answer. ${SEE_BASE_URL}`,
	);
}

/** The socket-level code of an error or its causes (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED, …), if any. */
function errorCode(error: unknown): string | undefined {
	let current = error as { code?: unknown; cause?: unknown } | undefined;
	for (let depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
		if (typeof current.code === 'string' && current.code !== '') return current.code;
		current = current.cause as typeof current;
	}
	return undefined;
}

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN']);

/** What went wrong in a TLS handshake, by the code Node gives it; undefined when the code is not a TLS one. */
function tlsProblem(code: string, hostname: string): string | undefined {
	switch (code) {
		case 'CERT_HAS_EXPIRED':
			return 'its certificate has expired';
		case 'CERT_NOT_YET_VALID':
			return "its certificate is not valid yet (or the n8n host's clock is behind)";
		case 'DEPTH_ZERO_SELF_SIGNED_CERT':
		case 'SELF_SIGNED_CERT_IN_CHAIN':
			return 'its certificate is self-signed, and the n8n host does not trust it';
		case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
		case 'UNABLE_TO_GET_ISSUER_CERT':
		case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
			return 'its certificate is signed by an authority the n8n host does not trust';
		case 'ERR_TLS_CERT_ALTNAME_INVALID':
			return `its certificate is not for the host ${hostname}`;
		case 'CERT_REVOKED':
			return 'its certificate has been revoked';
		case 'EPROTO':
		case 'ERR_SSL_WRONG_VERSION_NUMBER':
			return 'the service there does not speak HTTPS (if it is plain HTTP, the Base URL must start with http://)';
		default:
			return /CERT|^ERR_TLS_|^ERR_SSL_/.test(code)
				? 'the certificate or the TLS handshake was refused'
				: undefined;
	}
}

/** Every secret of the credential, and anything derived from one, replaced: for text that did not come from us. */
function scrub(text: string, secrets: string[]): string {
	return secrets
		.filter((secret) => secret.length >= 4)
		.reduce((out, secret) => out.split(secret).join('…'), text);
}

/** No complete answer within the Test's time (`code`: the socket's own timeout code, if it was that). */
function timeoutMessage(base: URL, timeoutMs: number, code?: string): string {
	const within = timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`;
	return `No complete answer from the Base URL (${hostPort(base)}) within ${within}${code ? ` (${code})` : ''}: check the Base URL's host and port, that the Calypso API (or your proxy or emulator) there is up, and that the n8n host can reach it (firewall, outbound proxy).`;
}

/** The Test's message for a call that got no answer. Nothing of the request (headers, body) goes into it. */
function noAnswer(error: unknown, base: URL, timeoutMs: number, secrets: string[]): string {
	const where = hostPort(base);
	const code = errorCode(error);
	if (code === 'ECONNREFUSED')
		return `Nothing answered at the Base URL: ${where} refused the connection (ECONNREFUSED). Check the Base URL (host, port, and http or https) and that the Calypso API, or your proxy or emulator, is running there and reachable from the n8n host.`;
	if (code === 'ENOTFOUND')
		return `The Base URL's host ${base.hostname} was not found (ENOTFOUND): check its spelling in the Base URL (Calypso's is ${DEFAULT_BASE_URL}) and that the n8n host's DNS knows it.`;
	if (code === 'EAI_AGAIN')
		return `The Base URL's host ${base.hostname} could not be looked up (EAI_AGAIN, the DNS did not answer): check the n8n host's DNS and network, then test again.`;
	if (code !== undefined && TIMEOUT_CODES.has(code)) return timeoutMessage(base, timeoutMs, code);
	if (code !== undefined && CLOSED_CODES.has(code))
		return `The connection to the Base URL (${where}) was closed before an answer (${code}): check that the Base URL's scheme is right (https or http), and that no proxy or firewall cuts the connection.`;
	if (code !== undefined && UNREACHABLE_CODES.has(code))
		return `The Base URL's host (${where}) cannot be reached from the n8n host (${code}): check the Base URL and the n8n host's network (routes, firewall, outbound proxy).`;
	if (code !== undefined && code.startsWith('HPE_'))
		return `Something answered at the Base URL (${where}), but not in HTTP (${code}): it is not the Calypso API. ${SEE_BASE_URL}`;
	const tls = code === undefined ? undefined : tlsProblem(code, base.hostname);
	if (tls !== undefined)
		return `The secure (https) connection to the Base URL (${where}) failed: ${tls} (${code}). Check the Base URL's host; a proxy or emulator with its own certificate must have it trusted by the n8n host (NODE_EXTRA_CA_CERTS).`;
	const message = (error as { message?: unknown } | undefined)?.message;
	const said =
		typeof message === 'string' && message !== '' ? `: ${scrub(message, secrets).slice(0, 200)}` : '';
	return `Could not reach the Base URL (${where})${code ? ` (${code})` : ''}${said}. Check the Base URL and that the n8n host can reach it.`;
}

/**
 * Tests a Calypso Pay API credential: checks the Merchant Account and the Base URL (nothing is sent otherwise), then
 * sends the signed test call and judges the answer. `timeoutMs` bounds the whole exchange, answer included.
 */
export async function testCredential(
	ctx: CredentialTestContext,
	credential: ICredentialsDecrypted,
	timeoutMs: number = CREDENTIAL_TEST_TIMEOUT_MS,
): Promise<INodeCredentialTestResult> {
	const data: ICredentialDataDecryptedObject = credential.data ?? {};
	let signed: IHttpRequestOptions;
	try {
		signed = signRequest(data, {
			method: 'POST',
			url: CREDENTIAL_TEST_PATH,
			body: { payload: CREDENTIAL_TEST_PAYLOAD },
		});
	} catch (error) {
		return fail(error instanceof Error ? error.message : String(error));
	}
	const base = new URL(String(signed.baseURL));
	const headers = signed.headers ?? {};
	const secrets = [data.apiKey, data.apiSecret, headers.Sign].map((value) => String(value ?? '').trim());

	const deadline = AbortSignal.timeout(timeoutMs);
	const timedOut = new Promise<Outcome>((resolve) => {
		deadline.addEventListener('abort', () => resolve({ timedOut: true }), { once: true });
	});
	// The legacy request options: POST the signed bytes as they are, no redirect followed (a redirect's answer is
	// judged like any other), every status returned as an answer rather than thrown.
	const answered: Promise<Outcome> = ctx.helpers
		.request({
			method: 'POST',
			uri: `${base.origin}${CREDENTIAL_TEST_PATH}`,
			headers,
			body: signed.body,
			json: false,
			followRedirect: false,
			followAllRedirects: false,
			resolveWithFullResponse: true,
			simple: false,
			timeout: timeoutMs,
		})
		.then(
			(response: LegacyResponse) => ({ response }),
			(error: unknown) => ({ error }),
		);
	const outcome = await Promise.race([answered, timedOut]);
	if ('timedOut' in outcome) return fail(timeoutMessage(base, timeoutMs));
	if ('error' in outcome) return fail(noAnswer(outcome.error, base, timeoutMs, secrets));
	return judge(outcome.response, base);
}

/** The name both nodes give the Test as `testedBy`, and their `methods.credentialTest` entry. */
export const CREDENTIAL_TEST_NAME = 'calypsoPayApiTest';

/** `methods.credentialTest` of both nodes (n8n calls it with its credential-test context as `this`). */
export const credentialTest = {
	async calypsoPayApiTest(
		this: ICredentialTestFunctions,
		credential: ICredentialsDecrypted,
	): Promise<INodeCredentialTestResult> {
		return await testCredential(this, credential);
	},
};
