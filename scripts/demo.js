#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run demo`: builds the package, runs the three example workflows in examples/ through a real n8n
 * (scripts/n8n-local.js) against the Calypso emulator seeded with demo data, and prints what each one did.
 * Exits non-zero if any example fails. Options: --no-build (use the existing dist/).
 *
 * The first run installs n8n into .n8n-local/ (≈3 GB, a few minutes); later runs take seconds.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ensureN8n, createUserFolder, diedAfterNote, N8N_VERSION } = require('./n8n-local');
const { createEmulator } = require('../test/emulator');
const { EXAMPLES, loadExamples, seedDemo, credentialFor, summarize, describeFailure } = require('./examples');

const ROOT = path.resolve(__dirname, '..');
const t0 = Date.now();
const secs = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;
const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/** Runs `npm run build`, printing its output only when it fails. */
function build() {
	return new Promise((resolve, reject) => {
		const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (d) => { output += d; });
		child.stderr.on('data', (d) => { output += d; });
		child.on('error', reject);
		child.on('close', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`npm run build failed (exit ${code}):\n${output}`))));
	});
}

/**
 * "label … done (1.2 s)"; progress lines that fn logs go on lines of their own.
 * @template T @param {string} label @param {(log: (line: string) => void) => Promise<T>} fn @returns {Promise<T>}
 */
async function step(label, fn) {
	const t = Date.now();
	process.stdout.write(`${label} … `);
	let midLine = true;
	const value = await fn((line) => { say(`${midLine ? '\n' : ''}  ${line}`); midLine = false; });
	say(`${midLine ? '' : `${label} … `}done (${secs(Date.now() - t)})`);
	return value;
}

/** "3 requests: customer/external/get, customer/create, address/get" @param {any[]} requests */
function describeRequests(requests) {
	const counts = new Map();
	for (const r of requests) {
		const p = r.path.replace('/api/v1/customer-purse/', '');
		counts.set(p, (counts.get(p) ?? 0) + 1);
	}
	const list = [...counts].map(([p, n]) => (n > 1 ? `${p} ×${n}` : p)).join(', ');
	return `${requests.length} request${requests.length === 1 ? '' : 's'}${list ? `: ${list}` : ''}`;
}

async function main() {
	const args = new Set(process.argv.slice(2));
	if (!args.has('--no-build')) await step('Building the package (npm run build)', build);

	// ensureN8n logs its own progress; on a warm machine it returns at once.
	await step(`Checking n8n ${N8N_VERSION} in .n8n-local/`, (log) => ensureN8n({ log }));

	const emu = createEmulator();
	const { customer, transactions } = seedDemo(emu);
	const baseUrl = await emu.start(0);
	const confirmed = transactions.filter((t) => t.transactionState === 'CONFIRMED').length;
	say(`Calypso emulator on ${baseUrl}: customer demo-user-1 (${customer.id}), ${transactions.length} transactions, ${confirmed} CONFIRMED`);

	let failures = 0;
	/** @type {string | undefined} */ let userFolder;
	try {
		const uf = await step('Creating an n8n user folder with the package installed', (log) =>
			createUserFolder({ name: `demo-${process.pid}`, packageDir: ROOT, log }));
		userFolder = uf.userFolder;
		await step('Importing the credential "Calypso (emulator)"', () => uf.importCredentials(credentialFor(emu)));
		await step(`Importing ${EXAMPLES.length} example workflows`, () => uf.importWorkflows(loadExamples()));
		say('');

		// The sweep runs twice. Before the second run one pending deposit gets confirmed and a new one arrives:
		// only those two are new (the IDs swept by the first run are in the workflow's static data).
		const again = {
			...EXAMPLES[1],
			title: `${EXAMPLES[1].title}, again after 1 pending deposit was confirmed and 1 new one arrived`,
			before() {
				const pending = [...emu.state.transactions.values()].find((t) => t.customerId === customer.id && t.transactionState === 'MEM_POOL_FOUND');
				if (pending) Object.assign(pending, { transactionState: 'CONFIRMED', complianceState: 'CHECKED' });
				emu.seedTransactions(customer.id, 1, { state: 'CONFIRMED', currency: 'USDT_TRX', amount: 42 });
			},
		};
		/** @type {Array<typeof EXAMPLES[number] & { before?: () => void }>} */
		const runs = [EXAMPLES[0], EXAMPLES[1], again, EXAMPLES[2]];
		for (const example of runs) {
			example.before?.();
			const before = emu.requests.length;
			const execution = await uf.execute(example.id);
			const requests = emu.requests.slice(before);
			const summary = execution.ok ? summarize(example.key, execution.runData) : undefined;
			if (summary) {
				say(`✔ ${example.title}: ${summary}`);
			} else {
				failures++;
				say(`✘ ${example.title}: ${execution.ok ? 'unexpected output' : describeFailure(execution)}`);
				if (!execution.result) say(`  n8n said:\n${(execution.stdout + execution.stderr).trim().split('\n').slice(-15).join('\n')}`);
			}
			say(`    ${secs(execution.ms)} in n8n, ${describeRequests(requests)}`);
			if (execution.diedAfter) say(`    (${diedAfterNote(execution.diedAfter)})`);
		}
	} finally {
		await emu.stop();
		if (userFolder && !failures) fs.rmSync(userFolder, { recursive: true, force: true });
		else if (userFolder) say(`(n8n user folder kept for inspection: ${path.relative(ROOT, userFolder)})`);
	}
	say('');
	say(`${failures ? `${failures} example run(s) failed` : 'All examples passed'} — wall time ${secs(Date.now() - t0)}`);
	if (failures) process.exitCode = 1;
}

main().catch((error) => {
	process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.stack : error}\n`);
	process.exitCode = 1;
});
