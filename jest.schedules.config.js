/** `npm run test:schedules`: the fault-schedule properties (test/schedules), on the same engine as `npm test`. */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = { ...base, testMatch: ['**/test/schedules/**/*.schedule.ts'], testTimeout: 900_000 };
