/**
 * Attacks on the credential Test (transport/credentialTest.ts, the nodes' `testedBy`): raw servers that answer with
 * exactly the bytes each case needs. Each test states the promise it checks.
 */
import { testCredential, testCredentialWithin } from '../helpers/credential-tester';
import { shutdownEngine } from '../helpers/engine';
import { gzip, startRawEndpoint, trickle, type RawRequest, type RawSocket } from '../helpers/raw-endpoint';
import { startSelfSignedEndpoint } from '../helpers/tls-endpoint';

const FIXTURE = { k: 'attack17-api-key-0123456789', s: 'attack17-secret-abcdefghij' };
const CREDS = {
	apiKey: FIXTURE.k,
	apiSecret: FIXTURE.s,
	account: '0x1111111111111111111111111111111111111111',
};

/** The request's header value (lower-case name). */
const header = (request: RawRequest, name: string) =>
	new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(request.head)?.[1]?.trim() ?? '';

function answer(socket: RawSocket, status: string, headers: Record<string, string>, body: string | Buffer) {
	const bytes = typeof body === 'string' ? Buffer.from(body) : body;
	const lines = Object.entries({ 'Content-Length': String(bytes.length), Connection: 'close', ...headers })
		.map(([k, v]) => `${k}: ${v}`)
		.join('\r\n');
	socket.write(`HTTP/1.1 ${status}\r\n${lines}\r\n\r\n`);
	socket.end(bytes);
}

afterAll(() => shutdownEngine());

type Respond = Parameters<typeof startRawEndpoint>[0];

async function against(respond: Respond, timeoutMs?: number) {
	const raw = await startRawEndpoint(respond);
	try {
		const data = { ...CREDS, baseUrl: raw.url };
		const result =
			timeoutMs === undefined ? await testCredential(data) : await testCredentialWithin(data, timeoutMs);
		return { result, received: raw.received, raw };
	} finally {
		await raw.close();
	}
}

/** Every secret of the test, including the Sign the server saw: none may be in the message. */
function expectNoSecret(message: string, received: RawRequest[]) {
	const signs = received.map((r) => header(r, 'sign')).filter(Boolean);
	// A secret's first 12 characters are as good as leaked too.
	for (const secret of [CREDS.apiKey, CREDS.apiSecret, ...signs])
		expect(message).not.toContain(secret.slice(0, 12));
}

describe('attack17: the Test passes only on Calypso success', () => {
	// Promise: the Test passes only on Calypso's success; a 2xx that carries an errorCode is an error, not success.
	test('a 200 with "customers" AND an unlisted errorCode (004) is not "Connection successful!"', async () => {
		const { result } = await against((_, s) =>
			answer(
				s,
				'200 OK',
				{ 'Content-Type': 'application/json' },
				'{"customers":[],"errorCode":"004","message":"x"}',
			),
		);
		expect(result.status).toBe('Error');
	});

	test.each([
		['204 No Content', '204 No Content', ''],
		['a 200 with customers as a string', '200 OK', '{"customers":"[]"}'],
		['a 200 with a top-level array', '200 OK', '[{"customers":[]}]'],
		['a 500 with a customers list', '500 Internal Server Error', '{"customers":[]}'],
		['a 302 with a customers list', '302 Found', '{"customers":[]}'],
	])('%s fails', async (_, status, body) => {
		const { result, received } = await against((_r, s) =>
			answer(s, status, { 'Content-Type': 'application/json' }, body),
		);
		expect(result.status).toBe('Error');
		expect(received).toHaveLength(1);
	});

	test.each([
		[
			'gzip-encoded',
			{ 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' },
			gzip('{"customers":[]}'),
		],
		['text/plain', { 'Content-Type': 'text/plain' }, '{"customers":[]}'],
		['no content type', {}, '{"customers":[]}'],
	] as Array<[string, Record<string, string>, string | Buffer]>)(
		'a %s success answer passes',
		async (_, headers, body) => {
			const { result } = await against((_r, s) => answer(s, '200 OK', headers, body));
			expect(result).toEqual({ status: 'OK', message: 'Connection successful!' });
		},
	);

	test('a chunked success answer, one byte per chunk, passes', async () => {
		const { result } = await against((_r, s) => {
			s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
			for (const c of '{"customers":[]}') s.write(`1\r\n${c}\r\n`);
			s.end('0\r\n\r\n');
		});
		expect(result.status).toBe('OK');
	});

	test('an HTTP/1.0 close-delimited success answer passes', async () => {
		const { result } = await against((_r, s) => {
			s.write('HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n');
			s.end('{"customers":[]}');
		});
		expect(result.status).toBe('OK');
	});

	test('a 1xx (102 Processing) before the success answer passes', async () => {
		const { result } = await against((_r, s) => {
			s.write('HTTP/1.1 102 Processing\r\n\r\n');
			answer(s, '200 OK', { 'Content-Type': 'application/json' }, '{"customers":[]}');
		});
		expect(result.status).toBe('OK');
	});

	test('a JSON success answer with a UTF-8 BOM passes', async () => {
		const { result } = await against((_r, s) =>
			answer(s, '200 OK', { 'Content-Type': 'application/json' }, '\ufeff{"customers":[]}'),
		);
		expect(result.status).toBe('OK');
	});

	// Promise: each failure is named; a server that answered (non-HTTP bytes) is not "could not reach".
	test('a non-HTTP answer (garbage bytes) is not reported as "Could not reach"', async () => {
		const { result, received } = await against((_r, s) => s.end('SSH-2.0-OpenSSH_9.6\r\n'));
		expect(result.status).toBe('Error');
		expect(received).toHaveLength(1);
		expect(result.message).not.toMatch(/^Could not reach/);
	});
});

describe('attack17: secrets never appear in a Test message', () => {
	// Promise: secrets (API Key, Secret Key, Sign) never appear in any Test message, even when the server echoes them.
	test('a server that echoes the Key header as the errorCode does not get the API Key into the message', async () => {
		const { result, received } = await against((r, s) =>
			answer(
				s,
				'401 Unauthorized',
				{ 'Content-Type': 'application/json' },
				JSON.stringify({ errorCode: header(r, 'key') }),
			),
		);
		expect(result.status).toBe('Error');
		expectNoSecret(result.message, received);
	});

	// Promise: the Sign never appears in a Test message, even in a redirect's Location.
	test('a redirect whose Location path carries the Sign does not get the Sign into the message', async () => {
		const { result, received } = await against((r, s) =>
			answer(s, '302 Found', { Location: `/login/${header(r, 'sign')}` }, ''),
		);
		expect(result.status).toBe('Error');
		expectNoSecret(result.message, received);
	});

	// Promise: the API Key never appears in a Test message, even in an unreadable redirect Location.
	test('an unreadable Location carrying the API Key does not get it into the message', async () => {
		const { result, received } = await against((r, s) =>
			answer(s, '307 Temporary Redirect', { Location: `http://[bad/${header(r, 'key')}` }, ''),
		);
		expect(result.status).toBe('Error');
		expect(result.message).toContain('not followed');
		expectNoSecret(result.message, received);
	});

	test('an HTML error page echoing the request does not get secrets into the message', async () => {
		const { result, received } = await against((r, s) =>
			answer(
				s,
				'400 Bad Request',
				{ 'Content-Type': 'text/html' },
				`<html><pre>${r.head}\n${r.body}</pre></html>`,
			),
		);
		expect(result.status).toBe('Error');
		expectNoSecret(result.message, received);
	});
});

describe('attack17: redirects are never followed', () => {
	test.each([
		'301 Moved Permanently',
		'302 Found',
		'303 See Other',
		'307 Temporary Redirect',
		'308 Permanent Redirect',
	])(
		'%s to the same origin, to another origin and protocol-relative: nothing followed, Key sent once',
		async (status) => {
			const other = await startRawEndpoint((_r, s) =>
				answer(s, '200 OK', { 'Content-Type': 'application/json' }, '{"customers":[]}'),
			);
			try {
				for (const location of ['/again', `${other.url}/steal`, `//${other.url.slice(7)}/steal`]) {
					const { result, received } = await against((_r, s) =>
						answer(s, status, { Location: location }, '{}'),
					);
					expect(result.status).toBe('Error');
					expect(result.message).toContain(`redirect (HTTP ${status.slice(0, 3)})`);
					expect(received).toHaveLength(1);
				}
				expect(other.received).toEqual([]);
			} finally {
				await other.close();
			}
		},
	);
});

describe('attack17: the Test is bounded in time', () => {
	test('a server that accepts and never answers: the timeout message', async () => {
		const { result } = await against(() => {}, 300);
		expect(result.message).toMatch(
			/^No complete answer from the Base URL \(127\.0\.0\.1:\d+\) within 300 ms/,
		);
	});

	test('a server that trickles its headers: the timeout message', async () => {
		const { result } = await against((_r, s) => {
			trickle(s, 'HTTP/1.1 200 OK\r\nX-Slow: ' + 'a'.repeat(200), 50);
		}, 400);
		expect(result.message).toMatch(/^No complete answer from the Base URL .* within 400 ms/);
	});

	test('a TLS handshake that stalls (https to a silent server): the timeout message', async () => {
		const raw = await startRawEndpoint(() => {});
		try {
			const result = await testCredentialWithin(
				{ ...CREDS, baseUrl: raw.url.replace('http:', 'https:') },
				300,
			);
			expect(result.message).toMatch(/^No complete answer from the Base URL .* within 300 ms/);
		} finally {
			await raw.close();
		}
	});
});

describe('attack17: each network failure is named', () => {
	test('http to an https port: closed before an answer, check the scheme', async () => {
		const tls = await startSelfSignedEndpoint();
		try {
			const result = await testCredential({ ...CREDS, baseUrl: tls.url.replace('https:', 'http:') });
			expect(result.message).toMatch(/check that the Base URL's scheme is right|HTTPS|https/);
			expect(result.message).not.toMatch(/^Could not reach/);
		} finally {
			await tls.close();
		}
	});

	test('a reset right after the request: closed before an answer', async () => {
		const { result } = await against((_r, s) => (s.resetAndDestroy ? s.resetAndDestroy() : s.destroy()));
		expect(result.message).toMatch(
			/^The connection to the Base URL \(127\.0\.0\.1:\d+\) was closed before an answer \(ECONNRESET\)/,
		);
	});

	test('an IPv6 literal Base URL: success, and a closed IPv6 port names [::1]:port', async () => {
		let raw;
		try {
			raw = await startRawEndpoint(
				(_r, s) => answer(s, '200 OK', { 'Content-Type': 'application/json' }, '{"customers":[]}'),
				{ host: '::1' },
			);
		} catch {
			return; // no IPv6 loopback on this machine
		}
		const ok = await testCredential({ ...CREDS, baseUrl: raw.url });
		await raw.close();
		expect(ok.status).toBe('OK');
		const closed = await testCredential({ ...CREDS, baseUrl: raw.url });
		expect(closed.message).toBe(
			`Nothing answered at the Base URL: [::1]:${raw.port} refused the connection (ECONNREFUSED). Check the Base URL (host, port, and http or https) and that the Calypso API, or your proxy or emulator, is running there and reachable from the n8n host.`,
		);
	});

	test('a Base URL with an explicit default port (https://host:443) is accepted and named host:443', async () => {
		const result = await testCredential({ ...CREDS, baseUrl: 'https://calypso-credential-test.invalid:443' });
		expect(result.message).toMatch(/calypso-credential-test\.invalid (was not found|could not be looked up)/);
	});
});
