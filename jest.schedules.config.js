/**
 * `npm run test:schedules`: the fault-schedule properties (test/schedules), on the same engine as `npm test`. The
 * SCHEDULE_* variables (test/schedules/property.ts) reach the tests as the global SCHEDULE_ENV.
 */
const base = require('./jest.config');

const SCHEDULE_ENV = Object.fromEntries(
	['SCHEDULE_SEED', 'SCHEDULE_RUNS', 'SCHEDULE_PATH', 'SCHEDULE_SHRINK'].map((name) => [name, process.env[name]]),
);

/** @type {import('jest').Config} */
module.exports = {
	...base,
	testMatch: ['**/test/schedules/**/*.schedule.ts'],
	testTimeout: 900_000,
	globals: { ...base.globals, SCHEDULE_ENV },
};
