#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Usage: node test/emulator/cli.js [--port N] [--latency MS] [--max-page-size N] [--seed demo]
 * Prints one JSON line {baseUrl, apiKey, apiSecret, account} to stdout, then one log line per
 * request to stderr. Stops on SIGINT/SIGTERM.
 */
const { createEmulator } = require('./index.js');

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

async function main() {
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
