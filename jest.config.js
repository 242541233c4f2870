/**
 * `npm test` (scripts/test-engine.js) sets N8N_ENGINE_MODULES to the node_modules of the pinned n8n install, so the
 * engine tests run on the n8n-core and n8n-workflow that n8n ships (under its Node); a plain `npx jest` uses the
 * devDependencies' copies.
 */
const os = require('node:os');

const engine = process.env.N8N_ENGINE_MODULES;

/** @type {import('jest').Config} */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	// The machine may be busy (2 cores, a real n8n beside): slow is not failed; timing is measured in the benchmark.
	testTimeout: 30_000,
	// The tests mostly wait (loopback HTTP, retry delays, the trigger's timers), not compute: on 2 cores, jest's default
	// of one worker took 71 s, 4 workers 33 s, 6 took 40 s and 8 took 45 s (idle machine). At least 4, more on big machines.
	maxWorkers: Math.max(4, os.availableParallelism() - 1),
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
	...(engine && {
		moduleNameMapper: {
			'^(n8n-core|n8n-workflow)$': `${engine}/$1`,
			'^(n8n-core|n8n-workflow)/(.*)$': `${engine}/$1/$2`,
		},
	}),
};
