#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * End-to-end test of "try the trigger locally" (README, Trigger): what `npm run dev` starts (scripts/dev.js
 * startDev, in a user folder of its own, on free ports), then the documented `npm run send-event`
 * (test/emulator/cli.js send-event) against the published trigger example:
 *   node test/e2e/send-event.e2e.js [--no-build]
 *
 *   1. npm run dev imported the trigger example (with the package's trigger node).
 *   2. With no subscription at the emulator, send-event says what to do and exits 1.
 *   3. Published (n8n's REST API, as the editor's Publish does), the trigger subscribes; send-event then delivers a
 *      forged event (answered 401) and a signed one (answered 200), prints both answers and exits 0; n8n records
 *      exactly one execution, of the signed event.
 * (The other target, the editor's listening test webhook, is driven through the real editor by
 * `npm run screenshots`, which fails unless send-event exits 0 and the event shows in the trigger's panel.)
 *
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ROOT, say, secs, check, runScript } = require('./checks');
const { restClient } = require('../../scripts/n8n-local');
const { startDev, OWNER } = require('../../scripts/dev');
const { TRIGGER_EXAMPLE } = require('../../scripts/examples');

const TIMEOUT_MS = 5 * 60 * 1000;
const t0 = Date.now();

/** `node test/emulator/cli.js send-event …`: its exit code and output. @param {string[]} args */
function sendEvent(args) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(ROOT, 'test', 'emulator', 'cli.js'), 'send-event', ...args],
			{ stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (d) => (output += d));
		child.stderr.on('data', (d) => (output += d));
		child.on('error', reject);
		child.on('close', (code) => resolve({ code, output }));
	});
}

/** Polls `fn` (async) until it returns a truthy value or the time is up (then returns the last value). @template T */
async function waitFor(/** @type {() => Promise<T>} */ fn, timeoutMs = 30000) {
	const deadline = Date.now() + timeoutMs;
	let value = await fn();
	while (!value && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 200));
		value = await fn();
	}
	return value;
}

async function main() {
	const name = `e2e-send-event-${process.pid}`;
	const dev = await startDev({ port: 0, emulatorPort: 0, fresh: true, name, log: () => undefined });
	say(`npm run dev's set-up started: n8n ${dev.url}, emulator ${dev.emu.baseUrl} (${secs(Date.now() - t0)})`);
	const { emu } = dev;
	const id = TRIGGER_EXAMPLE.id;
	const emulatorArgs = ['--emulator', emu.baseUrl];
	try {
		const rest = await restClient(dev.url, OWNER);
		const imported = await rest('GET', `/rest/workflows/${id}`, undefined);
		check('npm run dev imported the trigger example, with the Calypso Pay Trigger node', () => {
			assert.equal(imported.status, 200, JSON.stringify(imported.json).slice(0, 300));
			const types = imported.json.data.nodes.map((/** @type {any} */ n) => n.type);
			assert.ok(types.includes('n8n-nodes-calypso-pay.calypsoPayTrigger'), String(types));
		});

		const none = /** @type {{ code: number, output: string }} */ (await sendEvent(emulatorArgs));
		check('with nothing subscribed, send-event says what to do and exits 1', () => {
			assert.equal(none.code, 1, none.output);
			assert.match(none.output, /No webhook subscription: click "Listen for test event".*or publish its workflow/);
		});

		const activated = await rest('POST', `/rest/workflows/${id}/activate`, { versionId: imported.json.data.versionId });
		const subscribed = await waitFor(async () => emu.subscriptions.find((s) => s.url.includes('/webhook/')));
		check('publishing the trigger example subscribes its production webhook URL at the emulator', () => {
			assert.equal(activated.status, 200, JSON.stringify(activated.json).slice(0, 300));
			assert.ok(subscribed, 'no subscription');
			const trigger = imported.json.data.nodes.find((/** @type {any} */ n) => n.type.endsWith('.calypsoPayTrigger'));
			assert.equal(subscribed.url, `${dev.url}/webhook/${trigger.webhookId}/webhook`);
		});

		const sent = /** @type {{ code: number, output: string }} */ (await sendEvent(emulatorArgs));
		const executions = await waitFor(async () => {
			const r = await rest('GET', `/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId: id }))}`, undefined);
			const results = r.json?.data?.results ?? [];
			return results.length > 0 && results.every((/** @type {any} */ x) => x.status !== 'running' && x.status !== 'new') ? results : undefined;
		});
		check('send-event delivers a forged event (401) then a signed one (200) to it, prints both answers, exits 0', () => {
			assert.equal(sent.code, 0, sent.output);
			assert.deepEqual(emu.deliveries.map((d) => [d.forged, d.status]), [[true, 401], [false, 200]]);
			assert.match(sent.output, /forged event \d+ CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE[^\n]*\n {2}-> [^\n]*\/webhook\/[^\n]*\n {2}<- 401 .*signature/);
			assert.match(sent.output, /signed event \d+ CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE[^\n]*\n {2}-> [^\n]*\n {2}<- 200/);
		});
		check('n8n ran the workflow once, for the signed event only', () => {
			assert.deepEqual((executions ?? []).map((/** @type {any} */ x) => x.status), ['success']);
		});
		await rest('POST', `/rest/workflows/${id}/deactivate`, {});
	} finally {
		await dev.stop();
		fs.rmSync(path.dirname(dev.logFile), { recursive: true, force: true });
	}
}

runScript('send-event e2e', TIMEOUT_MS, main);
