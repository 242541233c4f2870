#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run dev`: builds the package and starts, until Ctrl-C,
 *   - the Calypso emulator with the demo data on http://127.0.0.1:4010 (one log line per request), and
 *   - a real n8n (scripts/n8n-local.js) on http://127.0.0.1:5678 with this package installed, the credential
 *     "Calypso (emulator)" and the example workflows imported, and an owner account already set up.
 *
 * The n8n user folder (.n8n-local/users/dev) is kept between runs, so your own workflows survive a restart;
 * the examples and the credential are re-imported (overwritten) on every start, and the emulator starts
 * from the demo data every time.
 *
 * Options: --port N (n8n, default 5678), --emulator-port N (default 4010), --fresh (start from an empty
 * n8n user folder), --no-build (use the existing dist/). After changing the node, stop and run again.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ensureN8n, createUserFolder, N8N_VERSION } = require('./n8n-local');
const { createEmulator } = require('../test/emulator');
const { loadExamples, seedDemo, credentialFor, CREDENTIAL_NAME, EXAMPLES } = require('./examples');

const ROOT = path.resolve(__dirname, '..');
const OWNER = { email: 'dev@calypso.local', firstName: 'Calypso', lastName: 'Developer', password: 'CalypsoDev-2026' };
const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

/** @param {string[]} argv */
function parseArgs(argv) {
	const opts = { port: 5678, emulatorPort: 4010, fresh: false, build: true };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => {
			const v = Number(argv[++i]);
			if (!Number.isInteger(v) || v <= 0 || v > 65535) throw new Error(`${a} needs a port number`);
			return v;
		};
		if (a === '--port') opts.port = value();
		else if (a === '--emulator-port') opts.emulatorPort = value();
		else if (a === '--fresh') opts.fresh = true;
		else if (a === '--no-build') opts.build = false;
		else throw new Error(`Unknown option ${a} (see the comment at the top of scripts/dev.js)`);
	}
	return opts;
}

function build() {
	return new Promise((resolve, reject) => {
		const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
		child.on('error', reject);
		child.on('close', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`npm run build failed (exit ${code})`))));
	});
}

/**
 * Creates the owner account through the same REST call as the setup screen, so the editor opens on a login
 * page instead. @returns {Promise<'created' | 'exists'>}
 */
async function setupOwner(/** @type {string} */ url) {
	const res = await fetch(`${url}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', 'browser-id': 'n8n-nodes-calypso-dev' },
		body: JSON.stringify(OWNER),
	});
	if (res.ok) return 'created';
	const text = await res.text();
	if (res.status === 400 && /already setup/i.test(text)) return 'exists';
	throw new Error(`POST /rest/owner/setup answered ${res.status}: ${text.slice(0, 300)}`);
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	if (opts.build) {
		say('Building the package (npm run build) …');
		await build();
	}
	await ensureN8n({ log: (line) => say(`[n8n install] ${line}`) });

	const emu = createEmulator();
	const { customer } = seedDemo(emu);
	emu.onRequest = (r, ms) => {
		const p = r.path.replace('/api/v1/customer-purse/', '');
		const body = /** @type {any} */ (r.response);
		const err = body && typeof body === 'object' && body.errorCode ? ` ${body.errorCode} ${body.message}` : '';
		say(`[emulator] ${r.method} ${p} -> ${r.status || 'dropped'}${err} (${ms} ms)`);
	};
	try {
		await emu.start(opts.emulatorPort);
	} catch (error) {
		throw new Error(`cannot start the emulator on port ${opts.emulatorPort} (${/** @type {Error} */ (error).message}); use --emulator-port`);
	}

	/** @type {Awaited<ReturnType<Awaited<ReturnType<typeof createUserFolder>>['start']>> | undefined} */
	let server;
	let stopping = false;
	const shutdown = async (/** @type {number} */ code) => {
		if (stopping) return;
		stopping = true;
		say('\nStopping n8n and the emulator …');
		await server?.stop();
		await emu.stop();
		process.exit(code);
	};
	process.on('SIGINT', () => void shutdown(0));
	process.on('SIGTERM', () => void shutdown(0));

	try {
		const uf = await createUserFolder({ name: 'dev', packageDir: ROOT, keep: !opts.fresh });
		say(`${uf.reused ? 'Reusing' : 'Created'} the n8n user folder ${path.relative(ROOT, uf.userFolder)}`);
		await uf.importCredentials(credentialFor(emu));
		await uf.importWorkflows(loadExamples());
		say(`Imported the credential "${CREDENTIAL_NAME}" and ${EXAMPLES.length} example workflows`);

		const logFile = path.join(uf.userFolder, 'n8n.log');
		const log = fs.createWriteStream(logFile, { flags: 'a' });
		say(`Starting n8n ${N8N_VERSION} (its log: ${path.relative(ROOT, logFile)}) …`);
		server = await uf.start({ port: opts.port, timeoutMs: 120000, onOutput: (s) => log.write(s) });
		server.child.once('exit', (code) => {
			if (!stopping) { say(`n8n exited (${code}); see ${logFile}`); void shutdown(1); }
		});
		const owner = await setupOwner(server.url);

		const { apiKey, apiSecret, account, baseUrl } = emu.credentials;
		say('');
		say(`n8n:              ${server.url}`);
		say(`  login:          ${OWNER.email} / ${OWNER.password}${owner === 'exists' ? '  (owner created by an earlier run; unchanged unless you changed it)' : ''}`);
		say(`  workflows:      ${EXAMPLES.map((e) => `${server?.url}/workflow/${e.id}`).join('\n                  ')}`);
		say(`Calypso emulator: ${baseUrl}  (demo customer demo-user-1 = ${customer.id})`);
		say(`  credential "${CREDENTIAL_NAME}" is already set up; to make your own, paste:`);
		say(`    API Key:          ${apiKey}`);
		say(`    Secret Key:       ${apiSecret}`);
		say(`    Merchant Account: ${account}`);
		say(`    Base URL:         ${baseUrl}`);
		say('');
		say('Press Ctrl-C to stop.');
	} catch (error) {
		process.stderr.write(`\ndev failed: ${error instanceof Error ? error.message : error}\n`);
		await shutdown(1);
	}
}

main().catch((error) => {
	process.stderr.write(`\ndev failed: ${error instanceof Error ? error.message : error}\n`);
	process.exit(1);
});
