/**
 * Seeded, replayable fault schedules (fast-check) for `npm run test:schedules`.
 *
 * Each property draws a schedule (data, timings, faults) from an arbitrary and runs it against the real node through
 * n8n's engine and the emulator. CI runs a fixed seed set; the environment picks others:
 *   SCHEDULE_RUNS=2000            schedules per property (default: each property's own count, a few dozen)
 *   SCHEDULE_SEED=random          a fresh seed (printed), instead of the fixed one
 *   SCHEDULE_SEED=123 SCHEDULE_PATH=4:1:0   replay exactly one failing schedule (both are printed on failure)
 * A failing schedule prints its seed, path, the shrunk schedule and a one-line replay command; it then becomes a
 * named regression test beside the property (`replays` below).
 */
import fc from 'fast-check';

import type { Emulator, Fault } from '../emulator';

/** The fixed seed CI runs: changing it changes which schedules CI tries. */
export const FIXED_SEED = 20261203;

/**
 * SCHEDULE_* as jest.schedules.config.js read them from the environment (handed over as a jest global: the lint rules
 * for this package keep `process` out of its TypeScript).
 */
declare const SCHEDULE_ENV: Record<string, string | undefined> | undefined;
const env: Record<string, string | undefined> =
	typeof SCHEDULE_ENV === 'object' && SCHEDULE_ENV ? SCHEDULE_ENV : {};

function seedFromEnv(): number {
	const raw = env.SCHEDULE_SEED;
	if (raw === undefined || raw === '') return FIXED_SEED;
	if (raw === 'random') return Math.floor(Math.random() * 2 ** 31);
	const seed = Number(raw);
	if (!Number.isInteger(seed)) throw new Error(`SCHEDULE_SEED must be an integer or "random", got "${raw}"`);
	return seed;
}

export interface ScheduleOptions {
	/** Schedules to run when SCHEDULE_RUNS is not set. */
	runs: number;
}

/** How many schedules a property runs. */
export function runCount(options: ScheduleOptions): number {
	const raw = env.SCHEDULE_RUNS;
	return raw ? Math.max(1, Number.parseInt(raw, 10)) : options.runs;
}

/**
 * A jest test that checks `check` on `runs` schedules drawn from `schedule`. `check` throws (or returns false) when
 * the promise is broken; the failure message carries the seed, path and replay command.
 */
export function scheduleProperty<T>(
	name: string,
	schedule: fc.Arbitrary<T>,
	check: (value: T) => Promise<boolean | void>,
	options: ScheduleOptions,
	timeoutMs = 600_000,
): void {
	const seed = seedFromEnv();
	const path = env.SCHEDULE_PATH || undefined;
	const numRuns = path ? 1 : runCount(options);
	// The title says what ran (jest prints it): `-t name` still selects it.
	test(
		`${name} [${numRuns} schedules, seed ${seed}${path ? `, path ${path}` : ''}]`,
		async () => {
			const result = await fc.check(fc.asyncProperty(schedule, check), {
				seed,
				path,
				numRuns,
				endOnFailure: env.SCHEDULE_SHRINK === 'off',
			});
			if (result.failed) {
				const replay = `SCHEDULE_SEED=${result.seed} SCHEDULE_PATH=${result.counterexamplePath} npm run test:schedules -- -t '${name.replace(/'/g, '')}'`;
				throw new Error(
					[
						`Schedule broke "${name}" after ${result.numRuns} schedules (seed ${result.seed}, path ${result.counterexamplePath}).`,
						`Schedule: ${fc.stringify(result.counterexample?.[0])}`,
						`Error: ${result.errorInstance instanceof Error ? (result.errorInstance.stack ?? result.errorInstance.message) : String(result.errorInstance)}`,
						`Replay: ${replay}`,
					].join('\n'),
				);
			}
		},
		timeoutMs,
	);
}

/** A schedule that once broke a property, kept as a named test: runs `check` on exactly that value. */
export function replays<T>(name: string, value: T, check: (value: T) => Promise<boolean | void>): void {
	test(`regression: ${name}`, async () => {
		const ok = await check(value);
		if (ok === false) throw new Error(`regression "${name}" broke again: ${fc.stringify(value)}`);
	});
}

/**
 * Gives the n-th request of `path` (any path when absent) to reach the emulator the n-th fault of `faults`, in arrival
 * order (undefined: answered normally; past the list: answered normally).
 */
export function faultsByArrival(
	emulator: Emulator,
	faults: Array<Omit<Fault, 'path' | 'match'> | undefined>,
	path?: string,
): void {
	let arrived = 0;
	// Counts the arrivals; never matches, so the faults behind it decide.
	emulator.injectFault({
		path,
		times: Number.MAX_SAFE_INTEGER,
		match: () => {
			arrived++;
			return false;
		},
	});
	faults.forEach((fault, index) => {
		if (fault) emulator.injectFault({ ...fault, path, match: () => arrived === index + 1 });
	});
}

export { fc };
