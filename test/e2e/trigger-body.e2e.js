#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * The Calypso Pay Trigger's handling of the request body in a REAL n8n (the pinned n8n of scripts/n8n-local.js,
 * `n8n start`), for node version 1.1 (n8n reads and parses only JSON, text, form and XML bodies itself; the node reads
 * any other) and version 1 (n8n reads every body), side by side in one n8n:
 *   node test/e2e/trigger-body.e2e.js [--no-build]
 *
 * Two published workflows, Trigger (1.1 or 1) → an HTTP Request node that POSTs the trigger's item to a loopback
 * "sink" here (one sink hit = one execution that ran to the end). n8n runs with N8N_PAYLOAD_SIZE_MAX=1 (MB).
 *   1. Genuine signed deliveries under every Content-Type Calypso or a proxy may send (none, octet-stream, JSON with
 *      a charset, text, form, multipart/mixed, +json) and compressed (gzip, deflate): each answered 200, run once;
 *      the re-delivery of each, under another Content-Type, runs nothing.
 *   2. Junk: a wrong Key, a forged or missing signature, under the types n8n does not parse: 401, nothing runs.
 *   3. A body over n8n's size limit and an upload that breaks off: answered (413 / nothing), no execution of any kind
 *      (n8n's list of executions holds only the successful ones), and the genuine re-delivery of the broken-off
 *      event runs once.
 *
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 */
const assert = require('node:assert/strict');
const { ROOT, say, secs, check, runScript, cleanUpUserFolder, startSink } = require('./checks');
const { ensureN8n, createUserFolder, ownerEnv, restClient } = require('../../scripts/n8n-local');
const { createEmulator, sign } = require('../emulator');

const TRIGGER_TYPE = 'n8n-nodes-calypso-pay.calypsoPayTrigger';
const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const OWNER = { email: 'e2e-owner@example.com', password: 'E2e-owner-password-1' };
const TIMEOUT_MS = 5 * 60 * 1000;
const t0 = Date.now();
const VERSIONS = [1.1, 1];

/** Genuine deliveries: [Content-Type (null: none), Content-Encoding]. */
const GENUINE = /** @type {Array<[string | null, ('gzip' | 'deflate')?]>} */ ([
	[null],
	['application/octet-stream'],
	['application/json'],
	['application/json; charset=utf-8'],
	['Application/JSON'],
	['text/plain'],
	['text/plain; charset=utf-8'],
	['application/x-www-form-urlencoded'],
	['multipart/mixed'],
	['application/cloudevents+json'],
	['application/json', 'gzip'],
	['application/octet-stream', 'gzip'],
	[null, 'deflate'],
]);
const label = (/** @type {[string | null, string?]} */ [type, encoding]) =>
	`${type ?? '(none)'}${encoding ? ` + ${encoding}` : ''}`;

const pause = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(/** @type {() => boolean} */ fn, timeoutMs = 20000) {
	const deadline = Date.now() + timeoutMs;
	while (!fn() && Date.now() < deadline) await pause(100);
}


/** POSTs `body` with `headers` and reads the answer. @param {string} url @param {Record<string, string>} headers @param {string} body */
async function rawPost(url, headers, body) {
	const res = await fetch(url, { method: 'POST', headers, body });
	const text = await res.text();
	let parsed = text;
	try {
		parsed = JSON.parse(text);
	} catch {
		/* not JSON */
	}
	return { status: res.status, body: parsed };
}

/** Trigger of `version` → Sink. @param {number} version @param {string} sinkUrl */
function workflowOf(version, sinkUrl) {
	const tag = String(version).replace('.', '');
	return {
		id: `calypsoBodyV${tag}`.padEnd(16, '0'),
		name: `Trigger body v${version}`,
		settings: { executionOrder: 'v1' },
		nodes: [
			{
				id: `7b1c9a0e-0000-4000-8000-0000000001${tag.padStart(2, '0')}`,
				name: 'Calypso Pay Trigger',
				type: TRIGGER_TYPE,
				typeVersion: version,
				position: [0, 0],
				webhookId: `7b1c9a0e-0000-4000-8000-00000000b0${tag.padStart(2, '0')}`,
				parameters: { events: [FUNDS], confirmTransaction: false },
				credentials: { calypsoPayApi: { id: 'calypso-body', name: 'Calypso (emulator)' } },
			},
			{
				id: `7b1c9a0e-0000-4000-8000-0000000002${tag.padStart(2, '0')}`,
				name: 'Sink',
				type: 'n8n-nodes-base.httpRequest',
				typeVersion: 4.2,
				position: [260, 0],
				parameters: {
					method: 'POST',
					url: sinkUrl,
					sendBody: true,
					specifyBody: 'json',
					jsonBody: `={{ JSON.stringify({ version: ${version}, event: $json }) }}`,
					options: {},
				},
			},
		],
		connections: { 'Calypso Pay Trigger': { main: [[{ node: 'Sink', type: 'main', index: 0 }]] } },
	};
}

async function main() {
	await ensureN8n();
	const emu = createEmulator();
	const customer = emu.seedCustomer({ externalId: 'user-body', email: 'user-body@example.com' });
	const [deposit] = emu.seedTransactions(customer.id, 1, {
		currency: 'USDT_TRX',
		state: 'CONFIRMED',
		amount: 5,
	});
	await emu.start(0);
	const sink = await startSink();
	const uf = await createUserFolder({ name: `e2e-trigger-body-${process.pid}`, packageDir: ROOT });
	await uf.importCredentials([
		{ id: 'calypso-body', name: 'Calypso (emulator)', type: 'calypsoPayApi', data: { ...emu.credentials } },
	]);
	const workflows = VERSIONS.map((v) => workflowOf(v, sink.url));
	const ids = await uf.importWorkflows(workflows);
	for (const id of ids) await uf.publish(id);
	const n8n = await uf.start({ extraEnv: { ...ownerEnv(OWNER), N8N_PAYLOAD_SIZE_MAX: '1' } });
	say(`n8n started at ${n8n.url} (${secs(Date.now() - t0)})`);
	try {
		await waitFor(() => emu.subscriptions.length === VERSIONS.length);
		await pause(3000); // n8n saves the subscription keys a moment after activation
		const subscriptionOf = (/** @type {number} */ version) => {
			const hook = workflows[VERSIONS.indexOf(version)].nodes[0].webhookId;
			const sub = emu.subscriptions.find((s) => s.url.includes(hook));
			if (!sub) throw new Error(`no subscription for version ${version}`);
			return sub.requestId;
		};
		const hitsOf = (/** @type {number} */ version) => sink.hits.filter((h) => h.version === version);
		/** The event IDs the workflow of `version` ran since hit number `since`, sorted. */
		const ranSince = (/** @type {number} */ version, /** @type {number} */ since) =>
			hitsOf(version)
				.slice(since)
				.map((h) => h.event?.eventId)
				.sort();
		const event = { eventType: FUNDS, transactionId: deposit.id };
		/** @type {Record<string, number>} executions that ran to the end, per version */
		const ran = {};

		for (const version of VERSIONS) {
			const requestId = subscriptionOf(version);
			say(`version ${version}`);
			const before = hitsOf(version).length;
			const genuine = [];
			for (const [contentType, contentEncoding] of GENUINE) {
				genuine.push(await emu.deliverEvent(requestId, event, { contentType, contentEncoding }));
			}
			await waitFor(() => hitsOf(version).length >= before + genuine.length);
			// Each re-delivered under the next one's Content-Type.
			const again = [];
			for (const [i, d] of genuine.entries()) {
				const [contentType, contentEncoding] = GENUINE[(i + 1) % GENUINE.length];
				again.push(await emu.deliverEvent(requestId, {}, { redeliver: d.id, contentType, contentEncoding }));
			}
			await pause(1500);
			check(
				`v${version}: a genuine delivery under each Content-Type and encoding is answered 200 and runs once`,
				() => {
					assert.deepEqual(
						genuine.map((d, i) => `${label(GENUINE[i])}: ${d.status}`),
						genuine.map((d, i) => `${label(GENUINE[i])}: 200`),
						JSON.stringify(genuine.map((d) => d.body)),
					);
					assert.deepEqual(ranSince(version, before), genuine.map((d) => d.id).sort());
				},
			);
			check(
				`v${version}: their re-deliveries, each under another Content-Type, are answered 200 and run nothing`,
				() => {
					assert.deepEqual(
						again.map((d) => `${d.status} ${JSON.stringify(d.body)}`),
						genuine.map((d) => `200 {"message":"Event ${d.id} was already received; ignored"}`),
					);
					assert.equal(hitsOf(version).length, before + genuine.length);
				},
			);

			const junk = [];
			for (const contentType of [null, 'application/octet-stream', 'application/json']) {
				junk.push(await emu.deliverEvent(requestId, event, { contentType, forge: true }));
				junk.push(await emu.deliverEvent(requestId, event, { contentType, unsigned: true }));
				junk.push(await emu.deliverEvent(requestId, event, { contentType, key: 'not-the-key' }));
				junk.push(await emu.deliverEvent(requestId, event, { contentType, tamper: (b) => `${b} ` }));
			}
			await pause(1500);
			check(
				`v${version}: forged, unsigned, wrong-Key and tampered deliveries under any Content-Type: 401, nothing runs`,
				() => {
					assert.deepEqual(
						junk.map((d) => d.status),
						junk.map(() => 401),
						JSON.stringify(junk.map((d) => d.body)),
					);
					assert.equal(hitsOf(version).length, before + genuine.length);
				},
			);

			// Types whose parser in n8n fails on a JSON body, before the node sees it (n8n's answer, shown only: n8n's XML
			// parser, shared by all requests, answered 422 or let the body through depending on what it parsed before).
			const unparsable = [];
			for (const contentType of ['multipart/form-data', 'application/xml']) {
				const d = await emu.deliverEvent(requestId, event, { contentType });
				unparsable.push(`${contentType}: ${d.status} ${String(d.body?.message ?? d.body)}`);
			}
			say(`  (n8n's answer to a JSON body sent as ${unparsable.join('; as ')})`);
			await pause(1500);
			const baseline = hitsOf(version).length;

			// A signed body that is not JSON: the node acknowledges it (200, ignored) if n8n lets it through.
			const notJson = [];
			for (const contentType of ['application/octet-stream', 'text/plain', 'application/json']) {
				const d = await emu.deliverEvent(requestId, event, { contentType, serialize: () => 'not json' });
				notJson.push(`${contentType}: ${d.status} ${String(d.body?.message)}`);
			}
			check(`v${version}: a signed body that is not JSON: 200 ignored, but n8n's own 422 when sent as application/json`, () => {
				assert.deepEqual(notJson, [
					'application/octet-stream: 200 The body is not a JSON object; ignored',
					'text/plain: 200 The body is not a JSON object; ignored',
					'application/json: 422 Failed to parse request body',
				]);
			});

			// Over N8N_PAYLOAD_SIZE_MAX (1 MB): a signed body padded with whitespace.
			const huge = (/** @type {any} */ envelope) => `${JSON.stringify(envelope)}${' '.repeat(1100 * 1024)}`;
			const oversized = [];
			for (const contentType of ['application/octet-stream', null, 'application/json']) {
				const d = await emu.deliverEvent(requestId, event, { contentType, serialize: huge });
				oversized.push(`${contentType ?? '(none)'}: ${d.status} ${String(d.body?.message)}`);
			}
			// An upload that breaks off after the first 40 bytes.
			const broken = [];
			for (const contentType of ['application/octet-stream', null, 'application/json']) {
				const outcome = await emu
					.deliverEvent(requestId, event, { contentType, abortAfterBytes: 40, abortAfterMs: 1500 })
					.then(
						(d) => `answered ${d.status}`,
						(e) => String(e.message),
					);
				broken.push({ outcome, id: emu.deliveries[emu.deliveries.length - 1].id });
			}
			// With the subscription's Key (sent with every delivery), a body that says it is gzip and is not.
			const sub = emu.state.subscriptions.get(requestId);
			const notGzip = [];
			for (const contentType of ['application/octet-stream', 'application/json']) {
				const headers = {
					'Content-Type': contentType,
					'Content-Encoding': 'gzip',
					Key: sub.publicKey,
					Sign: 'x',
				};
				const d = await rawPost(sub.url, headers, 'not gzip');
				notGzip.push(`${contentType}: ${d.status} ${String(d.body?.message)}`);
			}
			// A well-formed multipart/form-data body, signed: n8n reads it as a form and keeps no raw bytes.
			const form = `--b0undary\r\nContent-Disposition: form-data; name="event"\r\n\r\n${JSON.stringify({ id: 1 })}\r\n--b0undary--\r\n`;
			const multipart = await rawPost(
				sub.url,
				{ 'Content-Type': 'multipart/form-data; boundary=b0undary', Key: sub.publicKey, Sign: sign(sub.secretKey, form) },
				form,
			);
			// Junk without the subscription's Key, over the size limit.
			const wrongKeyHuge = await emu.deliverEvent(requestId, event, {
				contentType: 'application/octet-stream',
				key: 'not-the-key',
				serialize: huge,
			});
			await pause(1500);
			const hitsAfterBroken = hitsOf(version).length;
			const retried = [];
			for (const b of broken) retried.push(await emu.deliverEvent(requestId, {}, { redeliver: b.id }));
			await waitFor(() => hitsOf(version).length >= hitsAfterBroken + retried.length);
			await pause(1500);
			// Version 1.1 reads the bodies n8n leaves unread itself: it answers those; n8n answers the others (500).
			const nodeReads = (/** @type {string} */ type) => version > 1 && !type.startsWith('application/json');
			const tooLarge = 'The body is larger than this n8n accepts (N8N_PAYLOAD_SIZE_MAX); not verified';
			check(
				`v${version}: a body over n8n's size limit: ${version > 1 ? '413 when the node reads it, else ' : ''}n8n's 500; nothing runs`,
				() => {
					assert.deepEqual(
						oversized,
						['application/octet-stream', '(none)', 'application/json'].map(
							(type) =>
								`${type}: ${nodeReads(type) ? `413 ${tooLarge}` : '500 There was a problem executing the workflow'}`,
						),
					);
					assert.equal(hitsAfterBroken, baseline);
				},
			);
			check(
				`v${version}: a body that says gzip and is not: ${version > 1 ? '400 when the node reads it, else ' : ''}n8n's 500`,
				() => {
					assert.deepEqual(
						notGzip,
						['application/octet-stream', 'application/json'].map((type) =>
							nodeReads(type)
								? `${type}: 400 The body could not be read (incorrect header check); not verified`
								: `${type}: 500 There was a problem executing the workflow`,
						),
					);
				},
			);
			check(`v${version}: a signed multipart/form-data body (n8n keeps no raw bytes of it) is answered 415, not 500`, () => {
				assert.equal(multipart.status, 415, JSON.stringify(multipart.body));
			});
			check(`v${version}: junk over the size limit without the Key: ${version > 1 ? '401 (the node never reads its body)' : "n8n's 500 (n8n reads it first)"}`, () => {
				assert.equal(wrongKeyHuge.status, version > 1 ? 401 : 500, JSON.stringify(wrongKeyHuge.body));
			});
			check(`v${version}: uploads that break off run nothing; their re-deliveries run once each`, () => {
				assert.deepEqual(
					broken.map((b) => b.outcome),
					broken.map(() => 'deliverEvent: upload aborted after 40 bytes'),
				);
				assert.deepEqual(
					retried.map((d) => d.status),
					retried.map(() => 200),
					JSON.stringify(retried.map((d) => d.body)),
				);
				assert.deepEqual(ranSince(version, hitsAfterBroken), broken.map((b) => b.id).sort());
			});
			ran[version] = hitsOf(version).length;
		}

		const rest = await restClient(n8n.url, OWNER);
		for (const [i, version] of VERSIONS.entries()) {
			const filter = encodeURIComponent(JSON.stringify({ workflowId: ids[i] }));
			const executions = await rest('GET', `/rest/executions?limit=100&filter=${filter}`, undefined);
			const statuses = (executions.json?.data?.results ?? []).map((/** @type {any} */ x) => x.status);
			check(
				`v${version}: n8n's executions are the ${ran[version]} that ran, all successful (junk started none)`,
				() => {
					assert.equal(executions.status, 200);
					assert.deepEqual(statuses, Array(ran[version]).fill('success'), JSON.stringify(statuses));
				},
			);
		}
	} finally {
		await n8n.stop();
		await emu.stop();
		await sink.close();
		cleanUpUserFolder(uf.userFolder);
	}
}

runScript('trigger body e2e', TIMEOUT_MS, main);
