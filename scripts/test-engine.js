#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm test`: the engine tests (jest) on the engine users run — the n8n-core and n8n-workflow that ship with the
 * pinned n8n (scripts/n8n-local.js; N8N_LINE picks the line), under that n8n's Node binary. jest.config.js maps
 * `n8n-core` and `n8n-workflow` to the install's node_modules when N8N_ENGINE_MODULES is set. Installs the pinned
 * n8n on first use (≈3 GB, a few minutes). Arguments go to jest, e.g. `npm test -- test/nodes/customer`.
 * `npx jest` still runs the same tests on the devDependencies' copies under the machine's Node.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ensureN8n, ROOT, N8N_VERSION } = require('./n8n-local');

const REPO = path.resolve(__dirname, '..');

(async () => {
	const { nodeBin } = await ensureN8n();
	const modules = path.join(ROOT, 'node_modules');
	const version = (/** @type {string} */ name) =>
		JSON.parse(fs.readFileSync(path.join(modules, name, 'package.json'), 'utf8')).version;
	const nodeVersion = await new Promise((resolve) => {
		const child = spawn(nodeBin, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.on('close', () => resolve(out.trim()));
	});
	process.stdout.write(
		`engine tests on n8n-core ${version('n8n-core')} / n8n-workflow ${version('n8n-workflow')} ` +
			`(from n8n ${N8N_VERSION}), Node ${nodeVersion}\n`,
	);
	const child = spawn(nodeBin, [require.resolve('jest/bin/jest'), ...process.argv.slice(2)], {
		cwd: REPO,
		stdio: 'inherit',
		env: { ...process.env, N8N_ENGINE_MODULES: modules },
	});
	child.on('close', (code, signal) => {
		process.exitCode = code ?? (signal ? 1 : 0);
	});
})().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
