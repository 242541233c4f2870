#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * On-demand benchmark (`npm run bench`, not part of the tests), against the Calypso emulator with 20 ms latency:
 *   1. transaction.getMany Return All over 10,000 transactions (emulator page cap 100) through n8n-core's engine
 *      (test/helpers/engine.ts, compiled once with tsc into a temp dir) vs. a plain sequential signed fetch loop;
 *   2. 1,000 customer.get items in a real n8n 2.41.1 (scripts/n8n-local.js): the node with default options, with
 *      concurrency 1, and a do-it-yourself Code → Crypto (HMAC-SHA512) → HTTP Request workflow;
 *   3. signRequest (serialisation + signing) per request;
 *   4. queue mode (test/queue/stack.js: Postgres, Redis, n8n main + worker + 2 webhook processors): the 200-event burst
 *      of `npm run test:queue`, and signed deliveries per second through one webhook processor (verification,
 *      de-duplication and the enqueued execution included), with Confirm Transaction on and off.
 * Prints a table and writes bench/RESULTS.md. Options: --runs N (default 3), --no-build (reuse dist/),
 * --only queue (part 4 alone; rewrites only the "Queue mode" section of bench/RESULTS.md).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { performance } = require('node:perf_hooks');
const { createEmulator } = require('../test/emulator');
const { ensureN8n, createUserFolder, N8N_VERSION, NODE_VERSION } = require('../scripts/n8n-local');
const { startStack, waitFor } = require('../test/queue/stack');
const { runBurst, inFlight } = require('../test/queue/run');
const { credentialFor } = require('../scripts/examples');

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1]) || 3;
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'queue') throw new Error('--only takes "queue"');
const QUEUE = { burst: 200, deliveries: 100, inFlight: 10, warmUp: 10 };
const LATENCY_MS = 20;
const TX = { count: 10_000, maxPageSize: 100 };
const ITEMS = 1000;
const DEFAULT_CONCURRENCY = 50; // nodes/CalypsoPay/actions/fields.ts
const SIGN = { calls: 20_000, runs: 5 };
const FIND = '/api/v1/customer-purse/transaction/find';
const GET = '/api/v1/customer-purse/customer/get';
const LOAD_AT_START = os.loadavg()[0].toFixed(2);

require('node:v8').setFlagsFromString('--expose-gc');
const gc = /** @type {() => void} */ (require('node:vm').runInNewContext('gc'));
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const median = (/** @type {number[]} */ xs) => {
	const s = [...xs].sort((a, b) => a - b);
	return (s[Math.floor((s.length - 1) / 2)] + s[Math.ceil((s.length - 1) / 2)]) / 2;
};
/** Medians of some fields over runs. @param {any[]} runs @param {string[]} keys @returns {Record<string, number>} */
const medians = (runs, keys) => Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))]));
const ms = (/** @type {number} */ x) => `${Math.round(x).toLocaleString('en-US')} ms`;
const mb = (/** @type {number} */ bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
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

/** Compiles nodes, credentials and test helpers into <tmp>/build; <tmp>/node_modules links to the repo's. */
async function compile(/** @type {string} */ tmp) {
	fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'), 'dir');
	const out = path.join(tmp, 'build');
	const flags = ['--noEmit', 'false', '--declaration', 'false', '--sourceMap', 'false', '--incremental', 'false'];
	const r = await sh('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', out, ...flags]);
	const engine = path.join(out, 'test/helpers/engine.js');
	const signing = path.join(out, 'nodes/CalypsoPay/transport/signing.js');
	if (!fs.existsSync(engine) || !fs.existsSync(signing)) throw new Error(`tsc emitted nothing:\n${r.out}`);
	// tsc emits despite type errors (others may be mid-edit): go on, but show them.
	if (r.code !== 0) log(`  (tsc reported errors; using what it emitted)\n${r.out.trim().slice(0, 2000)}`);
	return { engine: require(engine), signing: require(signing) };
}

// ------------------------------------------------------------------------------------------ 1. Return All

/** The node's Return All through n8n's engine, with memory sampled every 10 ms. */
async function nodeReturnAll(/** @type {any} */ engine, /** @type {any} */ emu, /** @type {string} */ customerId) {
	const first = emu.requests.length;
	gc();
	const base = process.memoryUsage();
	const peak = { rss: base.rss, heap: base.heapUsed };
	const sample = () => {
		const m = process.memoryUsage();
		peak.rss = Math.max(peak.rss, m.rss);
		peak.heap = Math.max(peak.heap, m.heapUsed);
	};
	const timer = setInterval(sample, 10);
	const t0 = performance.now();
	const params = { resource: 'transaction', operation: 'getMany', customerId, returnAll: true };
	const result = await engine.runNode({ ...emu.credentials }, params);
	const wall = performance.now() - t0;
	sample();
	clearInterval(timer);
	assert(result.status === 'success', `node run: ${result.status} ${result.error?.message ?? ''}`);
	const ids = new Set(result.items.map((/** @type {any} */ i) => i.json.id));
	assert(result.items.length === TX.count && ids.size === TX.count, `node: ${ids.size} transactions`);
	const requests = emu.requests.slice(first);
	assert(requests.every((/** @type {any} */ r) => r.status === 200 && r.path === FIND), 'a find was not 200');
	const exec = result.run.data.resultData.runData.Calypso[0].executionTime;
	return { wall, exec, requests: requests.length, rss: peak.rss - base.rss, heap: peak.heap - base.heapUsed };
}

/** What one would write by hand: pages 1..100 one after another, each freshly timestamped and signed. */
async function fetchLoop(/** @type {any} */ emu, /** @type {string} */ customerId) {
	const { account, apiKey, apiSecret, baseUrl } = emu.credentials;
	const ids = new Set();
	const t0 = performance.now();
	for (let pageNumber = 1; pageNumber <= Math.ceil(TX.count / TX.maxPageSize); pageNumber++) {
		const payload = { customerId, sort: 'DESC', properties: 'createdDate', pageNumber, pageSize: TX.maxPageSize };
		const body = JSON.stringify({ account, timestamp: Date.now(), payload });
		const Sign = crypto.createHmac('sha512', apiSecret).update(body, 'utf8').digest('hex');
		const headers = { 'Content-Type': 'application/json', Key: apiKey, Sign };
		const res = await fetch(baseUrl + FIND, { method: 'POST', headers, body });
		assert(res.ok, `loop page ${pageNumber}: HTTP ${res.status}`);
		for (const t of (await res.json()).result) ids.add(t.id);
	}
	const wall = performance.now() - t0;
	assert(ids.size === TX.count, `loop: ${ids.size} transactions`);
	return wall;
}

async function benchReturnAll(/** @type {any} */ engine) {
	const emu = createEmulator({ latencyMs: LATENCY_MS, maxPageSize: TX.maxPageSize });
	const server = /** @type {number[]} */ ([]); // emulator time per request beyond the injected latency
	emu.onRequest = (_request, elapsed) => server.push(elapsed - LATENCY_MS);
	await emu.start(0);
	try {
		const { id } = emu.seedCustomer({ externalId: 'bench-return-all' });
		emu.seedTransactions(id, TX.count, { currency: ['USDT_TRX', 'BTC', 'ETH'], state: ['CONFIRMED', 'DECLINED'] });
		log('  warm-up (not counted)…');
		await nodeReturnAll(engine, emu, id);
		await fetchLoop(emu, id);
		const runs = [];
		for (let run = 1; run <= RUNS; run++) {
			server.length = 0;
			const node = await nodeReturnAll(engine, emu, id);
			const nodeServer = median(server);
			server.length = 0;
			const loop = await fetchLoop(emu, id);
			runs.push({ ...node, loop, nodeServer, loopServer: median(server) });
			log(`  run ${run}: node ${ms(node.wall)} (${node.requests} requests), loop ${ms(loop)}`);
		}
		const keys = ['wall', 'exec', 'loop', 'rss', 'heap', 'nodeServer', 'loopServer'];
		const minimum = Math.ceil(TX.count / TX.maxPageSize);
		return { minimum, requests: Math.max(...runs.map((r) => r.requests)), ...medians(runs, keys) };
	} finally {
		await emu.stop();
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

async function benchRealN8n() {
	if (!argv.includes('--no-build')) {
		log('  npm run build…');
		const r = await sh('npm', ['run', 'build']);
		if (r.code !== 0) throw new Error(`npm run build failed:\n${r.out}`);
	}
	await ensureN8n({ log: (line) => log(`  [n8n] ${line}`) });
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
		assert(burst.executions === QUEUE.burst && burst.distinctEvents === QUEUE.burst, `burst: ${burst.executions} executions`);
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
			startMs, burst,
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

/** @param {any} r1 @param {any} r2 @param {any} r3 @param {any} r4 @param {number} totalMs */
function report(r1, r2, r3, r4, totalMs) {
	const n = (/** @type {number} */ x) => x.toLocaleString('en-US');
	const ratio1 = r1.wall / r1.loop;
	const [ac, acWhole] = [r2.a.work / r2.c.work, r2.a.whole / r2.c.whole];
	const [bc, bcWhole] = [r2.b.work / r2.c.work, r2.b.whole / r2.c.whole];
	const rows = [
		['1', `Return All, ${n(TX.count)} tx: requests by the node / minimum`, `${r1.requests} / ${r1.minimum}`,
			'= minimum', verdict(r1.requests === r1.minimum)],
		['1', 'node through the n8n engine: wall (node executionTime)', `${ms(r1.wall)} (${ms(r1.exec)})`, '', ''],
		['1', 'sequential signed fetch loop: wall', ms(r1.loop), '', ''],
		['1', 'ratio node / loop', ratio1.toFixed(2), '≤ 0.50', verdict(ratio1 <= 0.5 && r1.requests === r1.minimum)],
		['1', 'peak memory above baseline during the node run', `RSS +${mb(r1.rss)}, heap +${mb(r1.heap)}`, '', ''],
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
		`Emulator in-process (Node ${process.version}), ${LATENCY_MS} ms latency per response. Part 1: each find ` +
			`filters and sorts all ${n(TX.count)} transactions on the engine's event loop: ${r1.loopServer.toFixed(1)} ms ` +
			`per find beyond the latency in the sequential loop (${r1.nodeServer.toFixed(1)} ms, queueing included, ` +
			`during node runs), i.e. ≈ ${ms(r1.loopServer * r1.minimum)} of the node's wall time is the emulator's work.`,
		'Part 1: `runNode` of test/helpers/engine.ts (n8n-core WorkflowExecute, the credential signs, loopback HTTP); ' +
			'its wall time includes the harness (the run-data secret scan). Loop: Node\'s fetch, pages ' +
			`1..${r1.minimum} one after another, HMAC-SHA512 via node:crypto. ${RUNS} runs each after one warm-up; ` +
			'median. Memory sampled every 10 ms after a forced GC; the RSS baseline already holds what earlier runs ' +
			'left allocated, so heap growth is the telling figure.',
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
		`Node ${process.version} (benchmark, engine, emulator); n8n ${N8N_VERSION} on Node ${NODE_VERSION} (part 2)`,
		`Date: ${new Date().toISOString()}; load average (1 min) at start ${LOAD_AT_START}, at end ` +
			`${os.loadavg()[0].toFixed(2)} (other work on the machine skews the figures)`,
	].map((line) => `- ${line}`).join('\n');
	const md = `# Benchmark results\n\nWritten by \`node bench/run.js\`.\n\n## Machine\n\n${machine}\n\n` +
		`## Results\n\n${table}\n\n## Notes\n\n${notes}\n\n${queueSection(r4)}`;
	fs.writeFileSync(path.join(__dirname, 'RESULTS.md'), md);
	log(`\n${table}\n\n${notes}\n\n${queueSection(r4)}\nWritten to bench/RESULTS.md`);
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
	const withSection = /\n## Queue mode\n[\s\S]*$/.test(old) ? old.replace(/\n## Queue mode\n[\s\S]*$/, `\n${section}`) : `${old}\n${section}`;
	fs.writeFileSync(file, withSection.trimEnd() + stamp);
	log(`\n${section}\nWritten to bench/RESULTS.md (Queue mode section)`);
}

async function main() {
	if (ONLY === 'queue') return mainQueueOnly();
	const t0 = performance.now();
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calypso-bench-'));
	/** @type {any} */
	let built;
	try {
		log('Compiling with tsc…');
		built = await compile(tmp);
		log(`1. Return All over ${TX.count} transactions (${RUNS} runs)`);
		const r1 = await benchReturnAll(built.engine);
		log(`2. ${ITEMS} customer.get items in n8n ${N8N_VERSION} (${RUNS} runs)`);
		const r2 = await benchRealN8n();
		log(`3. signRequest × ${SIGN.calls} (${SIGN.runs} runs)`);
		const r3 = benchSigning(built.signing);
		log(`4. queue mode: burst of ${QUEUE.burst}, deliveries per second (${RUNS} runs)`);
		report(r1, r2, r3, await benchQueue(), performance.now() - t0);
	} finally {
		built?.engine.shutdownEngine();
		fs.rmSync(tmp, { recursive: true, force: true });
	}
}

main().catch((error) => {
	log(`\nbenchmark failed: ${error instanceof Error ? error.stack : error}`);
	process.exitCode = 1;
});
