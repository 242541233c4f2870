#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * End-to-end check of the credential in a real n8n (scripts/n8n-local.js), against the Calypso emulator:
 *   1. the credential's Test, through n8n's own REST endpoint (POST /rest/credentials/test) of a running
 *      `n8n start` with a logged-in owner: OK for Calypso, an error for another server at the Base URL (the
 *      emulator's `impersonate` switch), for a Base URL with a path, for a wrong secret, for a closed port and an
 *      unknown host (said in words, not as n8n's bare ECONNREFUSED), and for a redirect to another origin;
 *   2. "Custom API call": the example examples/custom-api-call-webhook-cleanup.json (HTTP Request nodes with the
 *      predefined "Calypso Pay API" credential on the webhook subscription endpoints, outside the Customer Purse
 *      API) run with `n8n execute`; an HTTP Request body without "payload" is refused before anything is sent;
 *      an HTTP Request to another origin than the Base URL is refused by the credential before anything is signed;
 *      the Calypso node's "Custom API Call" operation says what to use instead.
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 * Options: --no-build (use the existing dist/), --verbose (print n8n's output of failed executions in full).
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { ROOT, tally, say, secs, check, runScript, cleanUpUserFolder } = require('./checks');
const { ensureN8n, createUserFolder, ownerEnv, restClient } = require('../../scripts/n8n-local');
const { createEmulator, sign } = require('../emulator');
const {
	credentialFor,
	nodeOutput: out,
	describeFailure,
	CREDENTIAL_ID,
	CREDENTIAL_NAME,
} = require('../../scripts/examples');

const args = new Set(process.argv.slice(2));
const VERBOSE = args.has('--verbose');
const TIMEOUT_MS = 10 * 60 * 1000;
const OWNER = { email: 'e2e@calypso.local', password: 'CalypsoE2e-2026' };
const EXAMPLE_FILE = path.join(ROOT, 'examples', 'custom-api-call-webhook-cleanup.json');
const SUBSCRIPTIONS = '/api/v1/subscription/webhook';
/** @type {import('../emulator').ForeignServer[]} */
const FOREIGN = ['not-found-json', 'not-found-html', 'welcome-page', 'unauthorized-json'];

/** @param {string} requestId @param {string} url */
const subscription = (requestId, url) => ({
	requestId,
	notificationEventTypes: ['CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE'],
	notificationServiceTypes: ['CUSTOMER_PURSE'],
	url,
	publicKey: `pk-${requestId.slice(0, 8)}`,
	secretKey: `sk-${requestId.slice(0, 8)}`,
	createdDate: '2026-11-01T10:00:00',
});
const LEFT_BEHIND = [
	subscription('a1111111-1111-4111-8111-111111111111', 'https://old-n8n.example.com/webhook/a/calypso'),
	subscription('a2222222-2222-4222-8222-222222222222', 'https://old-n8n.example.com/webhook/b/calypso'),
];
const KEPT = subscription(
	'b3333333-3333-4333-8333-333333333333',
	'https://n8n.example.com/webhook/c/calypso',
);

/** The example, calling the emulator instead of api.calypso.money. @param {string} baseUrl */
function exampleFor(baseUrl) {
	const workflow = JSON.parse(fs.readFileSync(EXAMPLE_FILE, 'utf8'));
	for (const node of workflow.nodes) {
		if (typeof node.parameters.url === 'string')
			node.parameters.url = node.parameters.url.replace('https://api.calypso.money', baseUrl);
	}
	return workflow;
}

/** Start → one node. @param {string} id @param {any} node */
function oneNode(id, node) {
	const start = {
		id: `${id}-s`,
		name: 'Start',
		type: 'n8n-nodes-base.manualTrigger',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	return {
		id,
		name: `e2e: ${node.name}`,
		active: false,
		settings: { executionOrder: 'v1' },
		nodes: [
			start,
			{
				id: `${id}-n`,
				position: [220, 0],
				credentials: { calypsoPayApi: { id: CREDENTIAL_ID, name: CREDENTIAL_NAME } },
				...node,
			},
		],
		connections: { Start: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
		pinData: {},
	};
}

/** An HTTP Request node whose JSON body has the API fields at the top level instead of inside "payload". @param {string} baseUrl */
const noPayloadWorkflow = (baseUrl) =>
	oneNode('e2eCustomNoPay1', {
		name: 'Body without payload',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		parameters: {
			method: 'DELETE',
			url: `${baseUrl}${SUBSCRIPTIONS}`,
			authentication: 'predefinedCredentialType',
			nodeCredentialType: 'calypsoPayApi',
			sendBody: true,
			specifyBody: 'json',
			jsonBody: `{ "requestId": "${KEPT.requestId}" }`,
			options: {},
		},
	});

/**
 * An HTTP Request node with the Calypso credential sent to another origin than the Base URL (the same emulator,
 * named "localhost" instead of 127.0.0.1): the credential must refuse to sign it. @param {string} baseUrl
 */
const otherOriginWorkflow = (baseUrl) =>
	oneNode('e2eCustomOrigin', {
		name: 'Other origin',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		parameters: {
			method: 'POST',
			url: `${baseUrl.replace('127.0.0.1', 'localhost')}${SUBSCRIPTIONS}`,
			authentication: 'predefinedCredentialType',
			nodeCredentialType: 'calypsoPayApi',
			options: {},
		},
	});

const customApiCallWorkflow = oneNode('e2eCustomOp0001', {
	name: 'Calypso custom API call',
	type: 'n8n-nodes-calypso-pay.calypsoPay',
	typeVersion: 1,
	parameters: { resource: 'customer', operation: '__CUSTOM_API_CALL__' },
});

/** n8n's output of an execution whose checks failed (the last lines, or all with --verbose). @param {any} x @param {number} failedBefore */
function showOutput(x, failedBefore) {
	if (tally.failed === failedBefore) return;
	const lines = (x.stdout + x.stderr).trim().split('\n');
	say(`    n8n output:\n${lines.slice(VERBOSE ? 0 : -20).join('\n')}`);
}

/** @param {any} x */
function assertOk(x) {
	if (!x.ok) assert.fail(`execution failed: ${describeFailure(x)}`);
}

/**
 * @param {import('../emulator').Emulator} emu @param {Awaited<ReturnType<typeof createUserFolder>>} uf
 */
async function customApiCall(emu, uf) {
	for (const s of [...LEFT_BEHIND, KEPT]) emu.state.subscriptions.set(s.requestId, s);
	const { account, apiKey, apiSecret } = emu.credentials;

	let failedBefore = tally.failed;
	let start = emu.requests.length;
	let x = await uf.execute('calypsoExCustom01');
	let requests = emu.requests.slice(start);
	say(`example: remove webhook subscriptions left behind [${secs(x.ms)}, ${requests.length} requests]`);
	check('the workflow succeeds', () => assertOk(x));
	check(
		'HTTP Request + predefined credential: the list call is signed with no payload ({account, timestamp})',
		() => {
			const [list] = requests;
			assert.equal(list?.method, 'POST');
			assert.equal(list?.path, SUBSCRIPTIONS);
			assert.equal(list?.status, 200);
			assert.deepEqual(Object.keys(list?.body ?? {}), ['account', 'timestamp']);
			assert.equal(list?.body?.account, account);
			assert.equal(list?.headers.key, apiKey);
			assert.equal(list?.headers.sign, sign(apiSecret, list?.rawBody ?? ''));
			assert.equal(out(x.runData, 'List webhook subscriptions')?.[0]?.subscriptions?.length, 3);
		},
	);
	check(
		'each {"payload": {requestId}} body is signed as {account, timestamp, payload}; only the left-behind ones go',
		() => {
			const deletes = requests.slice(1);
			assert.deepEqual(
				deletes.map((r) => [r.method, r.path, r.status]),
				LEFT_BEHIND.map(() => ['DELETE', SUBSCRIPTIONS, 200]),
			);
			assert.deepEqual(
				deletes.map((r) => r.body),
				LEFT_BEHIND.map((s, i) => ({
					account,
					timestamp: deletes[i].body?.timestamp,
					payload: { requestId: s.requestId },
				})),
			);
			assert.ok(deletes.every((r) => r.headers.sign === sign(apiSecret, r.rawBody)));
			assert.deepEqual([...emu.state.subscriptions.keys()], [KEPT.requestId]);
			assert.deepEqual(
				out(x.runData, 'Delete subscription')?.map((r) => r.requestId),
				LEFT_BEHIND.map((s) => s.requestId),
			);
		},
	);
	showOutput(x, failedBefore);

	failedBefore = tally.failed;
	start = emu.requests.length;
	x = await uf.execute('e2eCustomNoPay1');
	requests = emu.requests.slice(start);
	say(`HTTP Request with a body without "payload" [${secs(x.ms)}, ${requests.length} requests]`);
	check('fails with the credential\'s error naming "payload" and the stray field; nothing is sent', () => {
		assert.equal(x.ok, false);
		const message = JSON.stringify(x.error ?? {}) + x.stdout;
		assert.match(
			message,
			/the request body must be \{\\?"payload\\?": \{…\}\} with the API fields inside \\?"payload\\?"/,
		);
		assert.match(message, /it has \\?"requestId\\?" at the top level/);
		assert.equal(requests.length, 0);
		assert.ok(emu.state.subscriptions.has(KEPT.requestId));
	});
	showOutput(x, failedBefore);

	failedBefore = tally.failed;
	start = emu.requests.length;
	x = await uf.execute('e2eCustomOrigin');
	requests = emu.requests.slice(start);
	say(`HTTP Request with the credential to another origin [${secs(x.ms)}, ${requests.length} requests]`);
	check('fails with the credential\'s error naming the Base URL; nothing is signed or sent', () => {
		assert.equal(x.ok, false);
		const message = JSON.stringify(x.error ?? {}) + x.stdout;
		assert.match(message, /this request goes to http:\/\/localhost:\d+, but the credential signs only requests to its Base URL \(http:\/\/127\.0\.0\.1:\d+\)/);
		assert.equal(requests.length, 0);
	});
	showOutput(x, failedBefore);

	failedBefore = tally.failed;
	start = emu.requests.length;
	x = await uf.execute('e2eCustomOp0001');
	requests = emu.requests.slice(start);
	say(`Calypso node, operation "Custom API Call" [${secs(x.ms)}, ${requests.length} requests]`);
	check(
		'fails saying to use an HTTP Request node with the Calypso Pay API credential; nothing is sent',
		() => {
			assert.equal(x.ok, false);
			assert.equal(
				x.error?.message,
				'Custom API calls go through an HTTP Request node with the "Calypso Pay API" credential',
			);
			assert.match(String(x.error?.description), /Predefined Credential Type.*\{"payload": \{…\}\}/);
			assert.equal(requests.length, 0);
		},
	);
	showOutput(x, failedBefore);
}

/**
 * The editor's "Test" button on the saved credential, with the data as edited, as the logged-in owner.
 * @param {string} url
 */
async function ownerSession(url) {
	const rest = await restClient(url, OWNER);
	return async (/** @type {object} */ data) => {
		const credentials = { id: CREDENTIAL_ID, name: CREDENTIAL_NAME, type: 'calypsoPayApi', data };
		const res = await rest('POST', '/rest/credentials/test', { credentials });
		if (res.status !== 200)
			throw new Error(`POST /rest/credentials/test answered ${res.status}: ${JSON.stringify(res.json).slice(0, 300)}`);
		return /** @type {{ status: string, message: string }} */ (res.json.data);
	};
}

/**
 * @param {import('../emulator').Emulator} emu @param {Awaited<ReturnType<typeof createUserFolder>>} uf
 */
async function credentialTest(emu, uf) {
	const started = Date.now();
	const server = await uf.start({ timeoutMs: 180000, extraEnv: ownerEnv(OWNER) });
	const other = await otherOrigin();
	try {
		const test = await ownerSession(server.url);
		const good = emu.credentials;
		/** @typedef {{ status: string, message: string }} Result */
		const closedPort = await closedLoopbackPort();
		/** @type {{ name: string, data: object, impersonate?: import('../emulator').ForeignServer, fault?: import('../emulator').Fault, sent: number, verify: (r: Result) => void }[]} */
		const cases = [
			{
				name: 'Calypso answers the signed call: "Connection successful!"',
				data: good,
				sent: 1,
				verify: (r) => assert.deepEqual(r, { status: 'OK', message: 'Connection successful!' }),
			},
			...FOREIGN.map((kind) => ({
				name: `another server at the Base URL (${kind}): an error naming the Base URL`,
				data: good,
				impersonate: kind,
				sent: 1,
				verify: (/** @type {Result} */ r) => {
					assert.equal(r.status, 'Error');
					assert.match(r.message, /^The Base URL did not answer like Calypso/);
				},
			})),
			{
				name: 'a Base URL with a path (/api/v1): refused naming the field, nothing sent',
				data: { ...good, baseUrl: `${good.baseUrl}/api/v1` },
				sent: 0,
				verify: (r) => {
					assert.equal(r.status, 'Error');
					assert.match(
						r.message,
						/"Base URL" must be the scheme and host of the Calypso API only.*has the path "\/api\/v1"/,
					);
				},
			},
			{
				name: 'a Base URL with a trailing slash and spaces: tolerated, "Connection successful!"',
				data: { ...good, baseUrl: ` ${good.baseUrl}/ ` },
				sent: 1,
				verify: (r) => assert.equal(r.status, 'OK'),
			},
			{
				name: 'a closed port at the Base URL: "Nothing answered at the Base URL", naming host:port and what to check',
				data: { ...good, baseUrl: `http://127.0.0.1:${closedPort}` },
				sent: 0,
				verify: (r) => {
					assert.equal(r.status, 'Error');
					assert.equal(
						r.message,
						`Nothing answered at the Base URL: 127.0.0.1:${closedPort} refused the connection (ECONNREFUSED). Check the Base URL (host, port, and http or https) and that the Calypso API, or your proxy or emulator, is running there and reachable from the n8n host.`,
					);
				},
			},
			{
				name: 'an unknown host: its name was not found (or could not be looked up), and what to check',
				data: { ...good, baseUrl: 'https://calypso-credential-test.invalid' },
				sent: 0,
				verify: (r) => {
					assert.equal(r.status, 'Error');
					// .invalid never resolves (RFC 6761); without any DNS the lookup fails as EAI_AGAIN instead.
					assert.match(
						r.message,
						/^The Base URL's host calypso-credential-test\.invalid (was not found \(ENOTFOUND\): check its spelling in the Base URL|could not be looked up \(EAI_AGAIN, the DNS did not answer\): check the n8n host's DNS)/,
					);
				},
			},
			{
				name: 'a redirect to another origin: not followed (nothing reaches it), the message says where it pointed',
				data: good,
				fault: { path: 'customer/external/get', status: 307, body: {}, headers: { Location: `${other.url}/steal` } },
				sent: 1,
				verify: (r) => {
					assert.equal(r.status, 'Error');
					assert.match(r.message, /^The Base URL did not answer like Calypso: .* got a redirect \(HTTP 307\) to http:\/\/127\.0\.0\.1:\d+, not followed/);
					assert.deepEqual(other.received, []);
				},
			},
			{
				name: 'a wrong Secret Key: Calypso error 003 with its hint',
				data: { ...good, apiSecret: 'not-the-secret' },
				sent: 1,
				verify: (r) => {
					assert.equal(r.status, 'Error');
					assert.match(r.message, /^Calypso error 003: wrong sign\. .*Secret Key/);
				},
			},
		];
		say(
			`credential Test through POST /rest/credentials/test (n8n start, logged-in owner) [start ${secs(Date.now() - started)}]`,
		);
		for (const { name, data, impersonate = 'none', fault, sent, verify } of cases) {
			emu.options.impersonate = impersonate;
			if (fault) emu.injectFault(fault);
			const start = emu.requests.length;
			try {
				const result = await test(data);
				const requests = emu.requests.slice(start);
				check(`${name} (${requests.length} request${requests.length === 1 ? '' : 's'})`, () => {
					verify(result);
					assert.equal(requests.length, sent, `requests: ${requests.map((r) => r.path).join(', ')}`);
					if (sent) assert.equal(requests[0].path, '/api/v1/customer-purse/customer/external/get');
				});
			} finally {
				emu.options.impersonate = 'none';
			}
		}
	} finally {
		await other.close();
		await server.stop();
	}
}

/** A loopback port where nothing listens: one the system just gave out and that was closed again. */
async function closedLoopbackPort() {
	const probe = net.createServer();
	await new Promise((resolve) => probe.listen(0, '127.0.0.1', () => resolve(undefined)));
	const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
	await new Promise((resolve) => probe.close(() => resolve(undefined)));
	return port;
}

/** Another origin a redirect may point at: it records what reaches it. */
async function otherOrigin() {
	/** @type {string[]} */
	const received = [];
	const server = http.createServer((req, res) => {
		received.push(`${req.method} ${req.url} key=${req.headers.key ?? ''}`);
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end('{"customers": []}');
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
	const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
	return {
		url: `http://127.0.0.1:${port}`,
		received,
		close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
	};
}

async function main() {
	await ensureN8n({ log: (line) => say(`[n8n install] ${line}`) });
	const emu = createEmulator();
	await emu.start(0);
	/** @type {string | undefined} */ let userFolder;
	try {
		const uf = await createUserFolder({ name: `e2e-credential-${process.pid}`, packageDir: ROOT });
		userFolder = uf.userFolder;
		await uf.importCredentials(credentialFor(emu));
		await uf.importWorkflows([
			exampleFor(emu.baseUrl),
			noPayloadWorkflow(emu.baseUrl),
			otherOriginWorkflow(emu.baseUrl),
			customApiCallWorkflow,
		]);
		await customApiCall(emu, uf);
		await credentialTest(emu, uf);
	} catch (error) {
		tally.failed++;
		say(`✘ credential e2e could not run: ${error instanceof Error ? error.stack : error}`);
	} finally {
		await emu.stop();
		cleanUpUserFolder(userFolder);
	}
}

runScript('credential e2e', TIMEOUT_MS, main);
