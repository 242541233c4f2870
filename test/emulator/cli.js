#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Usage: node test/emulator/cli.js [--port N] [--latency MS] [--max-page-size N] [--seed demo]
 * Prints one JSON line {baseUrl, apiKey, apiSecret, account} to stdout, then one log line per
 * request to stderr. Stops on SIGINT/SIGTERM.
 *
 *    or: node test/emulator/cli.js send-event [--emulator URL] [--to URL-PART] [--event TYPE] [--transaction ID]
 *                                             [--forged | --signed]
 * (`npm run send-event`) asks a running emulator (default http://127.0.0.1:4010, the one `npm run dev` starts) to
 * deliver an event to a webhook subscribed at it, as Calypso would: to the listening test webhook ("Listen for test
 * event" in the n8n editor) if there is one, else to the newest subscription (a published workflow's), or to the one
 * whose URL contains --to. By default it sends a forged copy first (a wrong signature: expect 401, nothing runs),
 * then the signed event (expect 200: the workflow runs). Prints what the webhook answered; exits 1 when an answer
 * is not the expected one.
 */
const { createEmulator, SEND_EVENT_PATH } = require('./index.js');

/** @param {string[]} argv */
function parseArgs(argv) {
	/** @type {Record<string, string>} */
	const args = {};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (!a.startsWith('--')) throw new Error(`Unexpected argument: ${a}`);
		const eq = a.indexOf('=');
		if (eq > 0) args[a.slice(2, eq)] = a.slice(eq + 1);
		else args[a.slice(2)] = argv[++i] ?? '';
	}
	return args;
}

/** @param {string | undefined} v @param {string} name @param {number} def */
function num(v, name, def) {
	if (v === undefined) return def;
	const n = Number(v);
	if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
	return n;
}

/** @param {import('./index').Emulator} emu */
function seedDemo(emu) {
	const customer = emu.seedCustomer({ externalId: 'demo-user-1', email: 'demo-user-1@example.com', description: 'Demo customer' });
	emu.seedPurse(customer.id, 'USDT_TRX');
	emu.seedTransactions(customer.id, 25, {
		currency: ['USDT_TRX', 'TRX', 'USDT_TRX', 'USDC_TRX', 'USDT'],
		state: ['CONFIRMED', 'CONFIRMED', 'MEM_POOL_FOUND', 'PENDING_COMPLIANCE_CHECK', 'CONFIRMED', 'DECLINED'],
		stepMs: 3600000,
	});
	return customer;
}

const SEND_EVENT_FLAGS = new Set(['forged', 'signed']);

/** `send-event`: see the top of this file. @param {string[]} argv @returns {Promise<number>} the exit code */
async function sendEvent(argv) {
	/** @type {Record<string, string>} */
	const args = {};
	for (let i = 0; i < argv.length; i++) {
		const name = argv[i].replace(/^--/, '');
		if (!argv[i].startsWith('--') || !['emulator', 'to', 'event', 'transaction', ...SEND_EVENT_FLAGS].includes(name))
			throw new Error(`send-event: unknown argument ${argv[i]} (see the top of test/emulator/cli.js)`);
		if (SEND_EVENT_FLAGS.has(name)) args[name] = 'yes';
		else if (argv[i + 1] === undefined) throw new Error(`send-event: ${argv[i]} needs a value`);
		else args[name] = argv[++i];
	}
	const emulator = (args.emulator ?? 'http://127.0.0.1:4010').replace(/\/+$/, '');
	const kinds = args.forged ? [true] : args.signed ? [false] : [true, false];
	let failed = 0;
	for (const forge of kinds) {
		/** @type {Response} */
		let res;
		try {
			res = await fetch(`${emulator}${SEND_EVENT_PATH}`, {
				method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ url: args.to, eventType: args.event, transactionId: args.transaction, forge }),
				signal: AbortSignal.timeout(30000),
			});
		} catch (e) {
			throw new Error(`no emulator at ${emulator} (${/** @type {Error} */ (e).message}); start \`npm run dev\` first, or pass --emulator URL`);
		}
		const answer = /** @type {any} */ (await res.json());
		if (!res.ok) throw new Error(`the emulator answered ${res.status}: ${answer.message}`);
		const r = /** @type {import('./index').SendEventResult} */ (answer);
		const expected = forge ? 401 : 200;
		const what = `${r.forged ? 'forged' : 'signed'} event ${r.eventId} ${r.eventType}${r.transactionId ? ` (transaction ${r.transactionId})` : ''}`;
		process.stdout.write(`${what}\n  -> ${r.url}\n  <- ${r.status} ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}\n`);
		if (r.status === expected) {
			process.stdout.write(forge ? '  refused, as it must be: nothing runs\n' : '  accepted: the workflow runs (see the editor, or its Executions tab)\n');
		} else {
			failed++;
			process.stdout.write(`  expected ${expected}\n`);
		}
	}
	return failed ? 1 : 0;
}

async function main() {
	if (process.argv[2] === 'send-event') {
		process.exitCode = await sendEvent(process.argv.slice(3));
		return;
	}
	const args = parseArgs(process.argv.slice(2));
	const emu = createEmulator({
		latencyMs: num(args.latency, 'latency', 0),
		maxPageSize: num(args['max-page-size'], 'max-page-size', 100),
	});
	let demoCustomerId;
	if (args.seed !== undefined) {
		if (args.seed !== 'demo') throw new Error(`Unknown --seed ${args.seed} (only "demo")`);
		demoCustomerId = seedDemo(emu).id;
	}
	emu.onRequest = (r, ms) => {
		const p = r.path.startsWith('/api/v1/customer-purse/') ? r.path.slice('/api/v1/customer-purse/'.length) : r.path;
		const err = r.response && typeof r.response === 'object' && r.response.errorCode ? ` ${r.response.errorCode} ${r.response.message}` : '';
		process.stderr.write(`${new Date().toISOString()} ${r.method} ${p} -> ${r.status || 'dropped'}${err} (${ms}ms)\n`);
	};
	const baseUrl = await emu.start(num(args.port, 'port', 0));
	const { apiKey, apiSecret, account } = emu.credentials;
	/** @type {Record<string, unknown>} */
	const info = { baseUrl, apiKey, apiSecret, account };
	if (demoCustomerId) info.demoCustomerId = demoCustomerId;
	process.stdout.write(JSON.stringify(info) + '\n');

	let stopping = false;
	const shutdown = () => {
		if (stopping) return;
		stopping = true;
		emu.stop().then(() => process.exit(0), () => process.exit(1));
	};
	process.on('SIGINT', shutdown);
	process.on('SIGTERM', shutdown);
}

main().catch((e) => {
	process.stderr.write(`calypso emulator: ${e && e.message}\n`);
	process.exit(1);
});
