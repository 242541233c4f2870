// @ts-check
'use strict';
/** Shared by the end-to-end scripts: named checks with one running tally, output, and the package build. */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const http = require('node:http');

const ROOT = path.resolve(__dirname, '..', '..');
const tally = { passed: 0, failed: 0 };
const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const secs = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;

/** One named check; a thrown error fails it and the others still run. @param {string} name @param {() => void} fn */
function check(name, fn) {
	try {
		fn();
		tally.passed++;
		say(`  ✔ ${name}`);
	} catch (error) {
		tally.failed++;
		const e = /** @type {Error} */ (error);
		say(`  ✘ ${name}\n      ${String(e.message).split('\n').slice(0, 12).join('\n      ')}`);
	}
}

/** What n8n printed for an execution, to show under failed checks: the last 20 lines, or all when verbose. */
function n8nOutput(/** @type {{ stdout: string, stderr: string }} */ x, verbose = false) {
	const lines = (x.stdout + x.stderr).trim().split('\n');
	return `    n8n output:\n${lines.slice(verbose ? 0 : -20).join('\n')}`;
}

/** `npm run build`, quietly unless it fails. */
function build() {
	return new Promise((resolve, reject) => {
		const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		child.stdout.on('data', (d) => (output += d));
		child.stderr.on('data', (d) => (output += d));
		child.on('error', reject);
		child.on('close', (code) =>
			code === 0 ? resolve(undefined) : reject(new Error(`npm run build failed (exit ${code}):\n${output}`)),
		);
	});
}

/**
 * Ends the process as failed if the test is still running after timeoutMs (its exit handlers stop what it started).
 * @param {string} what e.g. "agent e2e" @param {number} timeoutMs
 */
function watchdog(what, timeoutMs) {
	setTimeout(() => {
		say(`\n✘ ${what} timed out after ${secs(timeoutMs)}\n${tally.passed} passed, ${tally.failed + 1} failed`);
		process.exit(1);
	}, timeoutMs).unref();
}

/**
 * What every e2e script does around its own steps: a watchdog (timeoutMs), `npm run build` unless --no-build, then
 * `main`; prints "N passed, M failed (time)" and exits 1 on any failure. A throw out of `main` (or the build) counts
 * as one more failure, after `main`'s own finally blocks have stopped what it started.
 * @param {string} what e.g. "agent e2e" @param {number} timeoutMs @param {() => Promise<void>} main
 */
function runScript(what, timeoutMs, main) {
	const t0 = Date.now();
	watchdog(what, timeoutMs);
	(async () => {
		if (!process.argv.includes('--no-build')) {
			say('building…');
			await build();
		}
		await main();
	})()
		.catch((error) => {
			tally.failed++;
			say(`\n✘ ${what} could not run: ${error instanceof Error ? error.stack : error}`);
		})
		.finally(() => {
			say(`\n${tally.passed} passed, ${tally.failed} failed (${secs(Date.now() - t0)})`);
			process.exitCode = tally.failed ? 1 : 0;
		});
}

/**
 * Removes an n8n user folder when no check failed since `failedBefore` (the tally then), else keeps it and says where.
 * @param {string | undefined} userFolder @param {number} [failedBefore] @param {string} [what] what is kept
 */
function cleanUpUserFolder(userFolder, failedBefore = 0, what = 'n8n user folder') {
	if (!userFolder) return;
	if (tally.failed === failedBefore) fs.rmSync(userFolder, { recursive: true, force: true });
	else {
		const relative = path.relative(ROOT, userFolder);
		say(`  (${what} kept for inspection: ${relative.startsWith('..') ? userFolder : relative})`);
	}
}

/** A loopback server that records the JSON bodies POSTed to it (by the workflow's HTTP Request node). */
async function startSink() {
	/** @type {any[]} */
	const hits = [];
	const server = http.createServer((req, res) => {
		let body = '';
		req.on('data', (d) => (body += d));
		req.on('end', () => {
			try {
				hits.push(JSON.parse(body));
			} catch {
				hits.push({ unparsable: body });
			}
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('{"ok":true}');
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
	const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
	return {
		url: `http://127.0.0.1:${port}/sink`,
		hits,
		close: () => new Promise((r) => server.close(() => r(undefined))),
	};
}

module.exports = {
	ROOT,
	tally,
	say,
	secs,
	check,
	build,
	n8nOutput,
	watchdog,
	runScript,
	cleanUpUserFolder,
	startSink,
};
