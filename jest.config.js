/**
 * `npm test` (scripts/test-engine.js) sets N8N_ENGINE_MODULES to the node_modules of the pinned n8n install, so the
 * engine tests run on the n8n-core and n8n-workflow that n8n ships (under its Node); a plain `npx jest` uses the
 * devDependencies' copies.
 */
const engine = process.env.N8N_ENGINE_MODULES;

/** @type {import('jest').Config} */
module.exports = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['**/*.test.ts'],
	// The machine may be busy (2 cores, a real n8n beside): slow is not failed; timing is measured in the benchmark.
	testTimeout: 30_000,
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }] },
	...(engine && {
		moduleNameMapper: {
			'^(n8n-core|n8n-workflow)$': `${engine}/$1`,
			'^(n8n-core|n8n-workflow)/(.*)$': `${engine}/$1/$2`,
		},
	}),
};
