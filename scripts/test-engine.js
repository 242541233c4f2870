#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm test`: the engine tests (jest) on the engine users run — the n8n-core and n8n-workflow that ship with the
 * pinned n8n (N8N_LINE picks the line), under the Node that n8n runs on. scripts/n8n-engine.js installs just those
 * two packages and that Node on first use (≈0.5 GB, about a minute; not the whole n8n); jest.config.js maps
 * `n8n-core` and `n8n-workflow` to them through N8N_ENGINE_MODULES. Arguments go to jest, e.g.
 * `npm test -- test/nodes/customer`. `npx jest` still runs the same tests on the devDependencies' copies under the
 * machine's Node.
 */
const path = require('node:path');
const { spawn } = require('node:child_process');
const { ensureEngine } = require('./n8n-engine');

const REPO = path.resolve(__dirname, '..');

(async () => {
	const engine = await ensureEngine();
	const nodeVersion = await new Promise((resolve) => {
		const child = spawn(engine.nodeBin, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.on('close', () => resolve(out.trim()));
	});
	process.stdout.write(
		`engine tests on n8n-core ${engine['n8n-core']} / n8n-workflow ${engine['n8n-workflow']} ` +
			`(as n8n ${engine.n8n} ships them), Node ${nodeVersion}\n`,
	);
	const child = spawn(engine.nodeBin, [require.resolve('jest/bin/jest'), ...process.argv.slice(2)], {
		cwd: REPO,
		stdio: 'inherit',
		env: { ...process.env, N8N_ENGINE_MODULES: engine.modules },
	});
	child.on('close', (code, signal) => {
		process.exitCode = code ?? (signal ? 1 : 0);
	});
})().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
