#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run dev`: builds the package and starts, until Ctrl-C,
 *   - the Calypso emulator with the demo data on http://127.0.0.1:4010 (one log line per request), and
 *   - a real n8n (scripts/n8n-local.js) on http://127.0.0.1:5678 with this package installed, the credential
 *     "Calypso (emulator)" and all six example workflows imported, and an owner account already set up. The AI
 *     agent example needs a chat model: its OpenAI Chat Model node asks for an "OpenAI" credential the user adds.
 * To see the trigger fire: open the trigger example, click "Listen for test event" on the Calypso Pay Trigger (or
 * publish the workflow), then run `npm run send-event` in another terminal (test/emulator/cli.js send-event).
 *
 * The n8n user folder (.n8n-local/users/dev) is kept between runs, so your own workflows survive a restart;
 * the examples and the credential are re-imported (overwritten) on every start, and the emulator starts
 * from the demo data every time.
 *
 * Options: --port N (n8n, default 5678), --emulator-port N (default 4010), --fresh (start from an empty
 * n8n user folder), --no-build (use the existing dist/). After changing the node, stop and run again.
 * scripts/screenshots.js starts the same set-up through startDev().
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ensureN8n, createUserFolder, N8N_VERSION } = require('./n8n-local');
const { createEmulator } = require('../test/emulator');
const {
	loadExamples, seedDemo, credentialFor, CREDENTIAL_NAME, EXAMPLES, TRIGGER_EXAMPLE, CUSTOM_API_CALL_EXAMPLE, AGENT_EXAMPLE,
} = require('./examples');

const ROOT = path.resolve(__dirname, '..');
const OWNER = { email: 'dev@calypso.local', firstName: 'Calypso', lastName: 'Developer', password: 'CalypsoDev-2026' };
/** Every example in examples/, which `npm run dev` imports, the trigger example last. */
const WORKFLOWS = [...EXAMPLES, CUSTOM_API_CALL_EXAMPLE, AGENT_EXAMPLE, TRIGGER_EXAMPLE];
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

/**
 * Starts the emulator with the demo data and n8n with the package, the credential and every example, and sets up
 * the owner. Stops whatever it started when a step fails.
 * @param {{ port?: number, emulatorPort?: number, fresh?: boolean, name?: string, log?: (line: string) => void }} [opts]
 *   port / emulatorPort 0: any free port; name: the user folder (.n8n-local/users/<name>)
 */
async function startDev({ port = 5678, emulatorPort = 4010, fresh = false, name = 'dev', log = say } = {}) {
	await ensureN8n({ log: (line) => log(`[n8n install] ${line}`) });
	const emu = createEmulator();
	const { customer } = seedDemo(emu);
	emu.onRequest = (r, ms) => {
		const p = r.path.replace('/api/v1/customer-purse/', '');
		const body = /** @type {any} */ (r.response);
		const err = body && typeof body === 'object' && body.errorCode ? ` ${body.errorCode} ${body.message}` : '';
		log(`[emulator] ${r.method} ${p} -> ${r.status || 'dropped'}${err} (${ms} ms)`);
	};
	try {
		await emu.start(emulatorPort);
	} catch (error) {
		throw new Error(`cannot start the emulator on port ${emulatorPort} (${/** @type {Error} */ (error).message}); use --emulator-port`);
	}
	/** @type {Awaited<ReturnType<Awaited<ReturnType<typeof createUserFolder>>['start']>> | undefined} */
	let server;
	const stop = async () => {
		await server?.stop();
		await emu.stop();
	};
	try {
		const uf = await createUserFolder({ name, packageDir: ROOT, keep: !fresh });
		log(`${uf.reused ? 'Reusing' : 'Created'} the n8n user folder ${path.relative(ROOT, uf.userFolder)}`);
		await uf.importCredentials(credentialFor(emu));
		await uf.importWorkflows(loadExamples(WORKFLOWS));
		log(`Imported the credential "${CREDENTIAL_NAME}" and ${WORKFLOWS.length} example workflows`);
		const logFile = path.join(uf.userFolder, 'n8n.log');
		const n8nLog = fs.createWriteStream(logFile, { flags: 'a' });
		log(`Starting n8n ${N8N_VERSION} (its log: ${path.relative(ROOT, logFile)}) …`);
		server = await uf.start({ port: port || undefined, timeoutMs: 120000, onOutput: (s) => n8nLog.write(s) });
		const owner = await setupOwner(server.url);
		return { url: server.url, child: server.child, emu, customer, owner, logFile, stop };
	} catch (error) {
		await stop();
		throw error;
	}
}

async function main() {
	const opts = parseArgs(process.argv.slice(2));
	if (opts.build) {
		say('Building the package (npm run build) …');
		await build();
	}
	/** @type {Awaited<ReturnType<typeof startDev>> | undefined} */
	let dev;
	let stopping = false;
	const shutdown = async (/** @type {number} */ code) => {
		if (stopping) return;
		stopping = true;
		say('\nStopping n8n and the emulator …');
		await dev?.stop();
		process.exit(code);
	};
	process.on('SIGINT', () => void shutdown(0));
	process.on('SIGTERM', () => void shutdown(0));

	dev = await startDev(opts);
	const { url, emu, customer, logFile } = dev;
	dev.child.once('exit', (code) => {
		if (!stopping) { say(`n8n exited (${code}); see ${logFile}`); void shutdown(1); }
	});
	const { apiKey, apiSecret, account, baseUrl } = emu.credentials;
	const sendEvent = `npm run send-event${opts.emulatorPort === 4010 ? '' : ` -- --emulator ${baseUrl}`}`;
	say('');
	say(`n8n:              ${url}`);
	say(`  login:          ${OWNER.email} / ${OWNER.password}${dev.owner === 'exists' ? '  (owner created by an earlier run; unchanged unless you changed it)' : ''}`);
	say(`  workflows:      ${WORKFLOWS.map((e) => `${url}/workflow/${e.id}`).join('\n                  ')}`);
	say(`  trigger:        open ${url}/workflow/${TRIGGER_EXAMPLE.id}, click "Listen for test event" on the`);
	say(`                  Calypso Pay Trigger (or publish the workflow), then in another terminal: ${sendEvent}`);
	say(`  AI agent:       open ${url}/workflow/${AGENT_EXAMPLE.id} and, on its OpenAI Chat Model node, create the`);
	say('                  "OpenAI" credential with your API key (or an OpenAI-compatible server\'s Base URL)');
	say(`Calypso emulator: ${baseUrl}  (demo customer demo-user-1 = ${customer.id})`);
	say(`  credential "${CREDENTIAL_NAME}" is already set up; to make your own, paste:`);
	say(`    API Key:          ${apiKey}`);
	say(`    Secret Key:       ${apiSecret}`);
	say(`    Merchant Account: ${account}`);
	say(`    Base URL:         ${baseUrl}`);
	say('');
	say('Press Ctrl-C to stop.');
}

module.exports = { startDev, build, OWNER, WORKFLOWS };

if (require.main === module) {
	main().catch((error) => {
		process.stderr.write(`\ndev failed: ${error instanceof Error ? error.message : error}\n`);
		process.exit(1);
	});
}
