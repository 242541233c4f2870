// @ts-check
'use strict';
/**
 * Proves scripts/n8n-local.js against the real pinned n8n: install, user folders, a community
 * package loaded from .n8n/nodes, credentials import, executions that succeed and fail, and
 * `n8n start` answering /healthz. Run: node scripts/n8n-local-selftest.js
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');
const { ensureN8n, createUserFolder, N8N_VERSION } = require('./n8n-local');

/** @type {Array<[string, () => Promise<void>]>} */
const tests = [];
const test = (/** @type {string} */ name, /** @type {() => Promise<void>} */ fn) => tests.push([name, fn]);
const timings = /** @type {string[]} */ ([]);
async function timed(/** @type {string} */ label, /** @type {() => Promise<any>} */ fn) {
	const t0 = Date.now();
	const r = await fn();
	timings.push(`${label}: ${((Date.now() - t0) / 1000).toFixed(2)}s`);
	return r;
}

/** A tiny community package (plain JS) so the selftest does not depend on this repo's build. */
function makeFixturePackage() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-nodes-selftest-'));
	const nodeDir = path.join(dir, 'dist', 'nodes', 'Hello');
	fs.mkdirSync(nodeDir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
		name: 'n8n-nodes-selftest', version: '0.0.1', keywords: ['n8n-community-node-package'],
		n8n: { n8nNodesApiVersion: 1, credentials: [], nodes: ['dist/nodes/Hello/Hello.node.js'] },
	}));
	fs.writeFileSync(path.join(nodeDir, 'Hello.node.js'), `'use strict';
const { NodeOperationError } = require('n8n-workflow');
class Hello {
	constructor() {
		this.description = {
			displayName: 'Hello', name: 'hello', group: ['transform'], version: 1, description: 'selftest',
			defaults: { name: 'Hello' }, inputs: ['main'], outputs: ['main'],
			properties: [{ displayName: 'Greeting', name: 'greeting', type: 'string', default: 'hi' }],
		};
	}
	async execute() {
		return [this.getInputData().map((item, i) => ({ json: {
			greeting: this.getNodeParameter('greeting', i),
			workflowPath: require.resolve('n8n-workflow'),
			hasNodeOperationError: typeof NodeOperationError === 'function',
		} }))];
	}
}
module.exports = { Hello };
`);
	return dir;
}

/** Manual Trigger → one node. */
const workflow = (/** @type {string} */ name, /** @type {any} */ node) => ({
	name,
	nodes: [
		{ id: 'a0000000-0000-4000-8000-000000000001', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
		{ id: 'a0000000-0000-4000-8000-000000000002', name: 'Step', position: [220, 0], ...node },
	],
	connections: { Start: { main: [[{ node: 'Step', type: 'main', index: 0 }]] } },
});
const outputOf = (/** @type {any} */ r, node = 'Step') => r.runData?.[node]?.[0]?.data?.main?.[0]?.map((/** @type {any} */ i) => i.json);

(async () => {
	const packageDir = makeFixturePackage();
	/** @type {any} */ let uf;
	/** @type {any} */ let other;

	test('ensureN8n installs or reuses the pinned n8n', async () => {
		const r = await timed('ensureN8n', () => ensureN8n({ log: (l) => console.log(`  ${l}`) }));
		assert.equal(r.version, N8N_VERSION);
		assert.ok(fs.existsSync(r.nodeBin) && fs.existsSync(r.n8nBin));
		const again = Date.now();
		await ensureN8n();
		assert.ok(Date.now() - again < 200, 'warm ensureN8n should take milliseconds');
	});

	test('createUserFolder copies the package and sets the env', async () => {
		uf = await timed('createUserFolder #1', () => createUserFolder({ packageDir, name: 'selftest' }));
		const installed = path.join(uf.userFolder, '.n8n', 'nodes', 'node_modules', 'n8n-nodes-selftest');
		assert.ok(fs.existsSync(path.join(installed, 'dist', 'nodes', 'Hello', 'Hello.node.js')));
		assert.ok(!fs.existsSync(path.join(installed, 'node_modules')));
		for (const k of ['N8N_USER_FOLDER', 'N8N_ENCRYPTION_KEY', 'DB_TYPE', 'N8N_LOG_FORMAT', 'N8N_RUNNERS_BROKER_PORT']) assert.ok(uf.env[k], k);
	});

	test('a second user folder comes from the migrated template', async () => {
		other = await timed('createUserFolder #2', () => createUserFolder({ name: 'selftest-2' }));
		assert.notEqual(other.env.N8N_RUNNERS_BROKER_PORT, uf.env.N8N_RUNNERS_BROKER_PORT);
		const id = await other.importWorkflow(workflow('noop', { type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} }));
		const r = await timed('execute (first in a copied folder)', () => other.execute(id));
		assert.ok(r.ok, r.stdout + r.stderr);
	});

	test('Edit Fields (Set) outputs {hello: "world"}', async () => {
		const id = await timed('importWorkflow', () => uf.importWorkflow(workflow('set', {
			type: 'n8n-nodes-base.set', typeVersion: 3.4,
			parameters: { assignments: { assignments: [{ id: 'x1', name: 'hello', value: 'world', type: 'string' }] }, options: {} },
		})));
		assert.match(id, /^[A-Za-z0-9]+$/);
		const r = await timed('execute (Set)', () => uf.execute(id));
		assert.ok(r.ok, r.stdout + r.stderr);
		assert.equal(r.exitCode, 0);
		assert.equal(r.result.status, 'success');
		assert.deepEqual(outputOf(r), [{ hello: 'world' }]);
	});

	test('Code node (task runner) outputs {hello: "world"}', async () => {
		const id = await uf.importWorkflow(workflow('code', {
			type: 'n8n-nodes-base.code', typeVersion: 2, parameters: { jsCode: "return [{ json: { hello: 'world' } }];" },
		}));
		const r = await timed('execute (Code)', () => uf.execute(id));
		assert.ok(r.ok, r.stdout + r.stderr);
		assert.deepEqual(outputOf(r), [{ hello: 'world' }]);
	});

	test('the community node loads and resolves n8n-workflow to n8n\'s own copy', async () => {
		const id = await uf.importWorkflow(workflow('community', {
			type: 'n8n-nodes-selftest.hello', typeVersion: 1, parameters: { greeting: 'hello from the package' },
		}));
		const r = await timed('execute (community node)', () => uf.execute(id));
		assert.ok(r.ok, r.stdout + r.stderr);
		const [out] = outputOf(r);
		assert.equal(out.greeting, 'hello from the package');
		assert.equal(out.hasNodeOperationError, true);
		assert.match(out.workflowPath, /\.n8n-local\/node_modules\/(n8n\/node_modules\/)?n8n-workflow\//);
	});

	test('a failing workflow gives ok=false and the error message', async () => {
		const id = await uf.importWorkflow(workflow('fails', {
			type: 'n8n-nodes-base.code', typeVersion: 2, parameters: { jsCode: "throw new Error('boom from selftest');" },
		}));
		const r = await timed('execute (failing)', () => uf.execute(id));
		assert.equal(r.ok, false);
		assert.equal(r.exitCode, 1);
		assert.match(r.error?.message ?? '', /boom from selftest/);
		assert.equal(r.result?.status, 'error');
	});

	test('two folders execute in parallel (own runner ports)', async () => {
		const noop = workflow('noop', { type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} });
		const [a, b] = await Promise.all([uf.importWorkflow(noop), other.importWorkflow({ ...noop, id: undefined })]);
		const rs = await timed('2 executes in parallel', () => Promise.all([uf.execute(a), other.execute(b)]));
		for (const r of rs) assert.ok(r.ok, r.stdout + r.stderr);
	});

	test('an unknown workflow id gives ok=false with a message', async () => {
		const r = await uf.execute('doesNotExist1234');
		assert.equal(r.ok, false);
		assert.match(r.error?.message ?? '', /does not exist/);
	});

	test('importCredentials encrypts and stores a credential', async () => {
		await uf.importCredentials([{ id: 'selftestCred0001', name: 'Selftest basic auth', type: 'httpBasicAuth', data: { user: 'u', password: 'p' } }]);
		const out = path.join(uf.userFolder, 'creds-export.json');
		const r = await uf.n8n(['export:credentials', '--id=selftestCred0001', '--decrypted', `--output=${out}`]);
		assert.equal(r.code, 0, r.stdout + r.stderr);
		const [cred] = JSON.parse(fs.readFileSync(out, 'utf8'));
		assert.deepEqual(cred.data, { user: 'u', password: 'p' });
	});

	test('start() answers /healthz and stop() ends the process group', async () => {
		const server = await timed('start (until /healthz)', () => uf.start());
		const res = await fetch(`${server.url}/healthz`);
		assert.equal(res.status, 200);
		assert.deepEqual(await res.json(), { status: 'ok' });
		assert.equal((await fetch(`${server.url}/rest/settings`)).status, 200, 'REST API up when start() resolves');
		const pid = server.child.pid;
		await timed('stop', () => server.stop());
		assert.throws(() => process.kill(-pid, 0), 'process group should be gone');
		await assert.rejects(fetch(`${server.url}/healthz`));
	});

	let passed = 0;
	let failed = 0;
	for (const [name, fn] of tests) {
		try {
			await fn();
			passed++;
			console.log(`ok   ${name}`);
		} catch (e) {
			failed++;
			console.log(`FAIL ${name}\n${/** @type {any} */ (e)?.stack ?? e}`);
		}
	}
	fs.rmSync(packageDir, { recursive: true, force: true });
	console.log(`timings: ${timings.join(', ')}`);
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
})();
