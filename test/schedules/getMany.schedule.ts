/**
 * Get Many under random schedules (issue 16): random data, page size and server cap, sort, state and currency
 * filters, Return All or Limit, the order in which the emulator answers the pages fetched together, and deposits,
 * state changes and amount changes landing just before a random page answer. Through n8n's engine, real node.
 *
 * Properties, checked against every state the data went through during the run (snapshots):
 * - no transaction twice;
 * - Return All: every transaction that matched the filters throughout the run is returned;
 * - Limit: the result is the first N transactions of one of those states;
 * - or the run fails with the "changed while they were being fetched" error (only when something changed).
 * Changes that the pages' counts cannot show (transactions both entering and leaving the filters, or with a Limit
 * one changing places under the sort: see `blind` and the README) are drawn too, but for them only "nothing twice,
 * nothing that never matched" is checked: no client of a paged API without a snapshot can see them.
 */
import type { INodeParameters } from 'n8n-workflow';

import type { Transaction, TransactionState } from '../emulator';
import { useEmulator } from '../helpers/calypso';
import { runNode } from '../helpers/engine';
import { fc, replays, scheduleProperty } from './property';

const server = useEmulator();

const STATES: TransactionState[] = ['CONFIRMED', 'DECLINED', 'MEM_POOL_FOUND', 'PENDING_COMPLIANCE_CHECK'];
const CURRENCIES = ['USDT_TRX', 'BTC', 'ETH'];
const SORTS = ['createdDate', 'amount', 'currency', 'transactionState'] as const;
/** Pages the node fetches at once (PAGE_CONCURRENCY): the answer order is drawn among the first wave's pages. */
const WAVE = 10;

interface Row {
	state: TransactionState;
	currency: string;
	amount: number;
}

type Change =
	| { at: number; kind: 'insert'; row: Row }
	| { at: number; kind: 'state'; target: number; state: TransactionState }
	| { at: number; kind: 'amount'; target: number; amount: number };

interface GetManySchedule {
	rows: Row[];
	cap: number;
	pageSize: number;
	sortBy: (typeof SORTS)[number];
	direction: 'ASC' | 'DESC';
	states: TransactionState[];
	currencies: string[];
	/** 0: Return All. */
	limit: number;
	/** Sort keys for pages 2..: the first wave is answered in the order of these keys. */
	order: number[];
	changes: Change[];
}

const row: fc.Arbitrary<Row> = fc.record({
	state: fc.constantFrom(...STATES),
	currency: fc.constantFrom(...CURRENCIES),
	// Few distinct amounts: ties are ordered by id, as Calypso's would be by something.
	amount: fc.integer({ min: 1, max: 12 }),
});

const change: fc.Arbitrary<Change> = fc.oneof(
	fc.record({ at: fc.integer({ min: 1, max: 4 }), kind: fc.constant('insert' as const), row }),
	fc.record({
		at: fc.integer({ min: 1, max: 4 }),
		kind: fc.constant('state' as const),
		target: fc.nat(),
		state: fc.constantFrom(...STATES),
	}),
	fc.record({
		at: fc.integer({ min: 1, max: 4 }),
		kind: fc.constant('amount' as const),
		target: fc.nat(),
		amount: fc.integer({ min: 1, max: 12 }),
	}),
);

const schedule: fc.Arbitrary<GetManySchedule> = fc.record({
	rows: fc.array(row, { minLength: 3, maxLength: 45 }),
	cap: fc.integer({ min: 1, max: 8 }),
	pageSize: fc.integer({ min: 1, max: 12 }),
	sortBy: fc.constantFrom(...SORTS),
	direction: fc.constantFrom('ASC' as const, 'DESC' as const),
	states: fc.oneof(fc.constant<TransactionState[]>([]), fc.subarray(STATES, { minLength: 1 })),
	currencies: fc.oneof(fc.constant<string[]>([]), fc.subarray(CURRENCIES, { minLength: 1 })),
	limit: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 })),
	order: fc.array(fc.nat(), { minLength: WAVE, maxLength: WAVE }),
	changes: fc.array(change, { maxLength: 4 }),
});

type Stored = Transaction;

/** The emulator's order for a find: by the property, ties by id. */
function compare(a: unknown, b: unknown): number {
	if (a === b) return 0;
	if (typeof a === 'number' && typeof b === 'number') return a - b;
	return String(a) < String(b) ? -1 : 1;
}

function matching(s: GetManySchedule, all: Stored[]): string[] {
	const direction = s.direction === 'DESC' ? -1 : 1;
	return all
		.filter(
			(t) =>
				(s.states.length === 0 || s.states.includes(t.transactionState)) &&
				(s.currencies.length === 0 || s.currencies.includes(t.currency)),
		)
		.sort((a, b) => direction * compare(a[s.sortBy], b[s.sortBy]) || compare(a.id, b.id))
		.map((t) => t.id);
}

function current(customerId: string): Stored[] {
	return [...server.emulator.state.transactions.values()].filter((t) => t.customerId === customerId);
}

const stats = { runs: 0, changed: 0, failed: 0, extraPages: 0, blind: 0 };

/**
 * Changes no paging client can see from the counts the pages report (README, Get Many), for which only "nothing
 * twice, nothing that never matched" is checked: transactions both entering and leaving the filters during the run
 * (the count may stay as it was), and with a Limit a transaction changing places under the sort (a Return All sees
 * that as a repeated row, unless the count changes too).
 */
function blind(s: GetManySchedule, seen: { entered: boolean; left: boolean; moved: boolean }): boolean {
	if (seen.entered && seen.left) return true;
	return seen.moved && (s.limit > 0 || seen.entered || seen.left);
}

async function check(s: GetManySchedule): Promise<boolean> {
	const emulator = server.emulator;
	emulator.reset();
	emulator.options.maxPageSize = s.cap;
	const customer = emulator.seedCustomer();
	const start = new Date(Date.now() - 3_600_000);
	for (const [i, r] of s.rows.entries()) {
		emulator.seedTransactions(customer.id, 1, {
			startDate: new Date(start.getTime() + i * 60_000),
			state: r.state,
			currency: r.currency,
			amount: r.amount,
		});
	}
	const snapshots = [matching(s, current(customer.id))];
	/** What the changes did to the matching transactions: some entered, some left, some changed places. */
	const seen = { entered: false, left: false, moved: false };
	// The first wave: pages 2..planned, as page 1 (answered before any change) tells the node.
	const size = Math.min(s.pageSize, s.limit || Infinity, s.cap);
	const total = Math.ceil(snapshots[0].length / size);
	const planned = Math.min(total, Math.ceil((s.limit || Infinity) / size), WAVE + 1);
	emulator.findFaults.answerOrder = Array.from({ length: Math.max(0, planned - 1) }, (_, i) => i + 2).sort(
		(a, b) => s.order[a - 2] - s.order[b - 2] || a - b,
	);
	/** Per change moment: did the count of matching transactions move in both directions? */
	emulator.findFaults.beforeAnswer = ({ index }) => {
		const due = s.changes.filter((c) => c.at === index);
		if (due.length === 0) return;
		const ids = [...emulator.state.transactions.keys()];
		for (const c of due) {
			if (c.kind === 'insert') {
				emulator.seedTransactions(customer.id, 1, {
					startDate: new Date(),
					state: c.row.state,
					currency: c.row.currency,
					amount: c.row.amount,
				});
			} else if (ids.length > 0) {
				const id = ids[c.target % ids.length];
				if (c.kind === 'state') emulator.updateTransaction(id, { transactionState: c.state });
				else emulator.updateTransaction(id, { amount: c.amount });
			}
		}
		const before = snapshots[snapshots.length - 1];
		const after = matching(s, current(customer.id));
		snapshots.push(after);
		if (after.some((id) => !before.includes(id))) seen.entered = true;
		if (before.some((id) => !after.includes(id))) seen.left = true;
		const stayed = (list: string[], other: string[]): string => list.filter((id) => other.includes(id)).join();
		if (stayed(before, after) !== stayed(after, before)) seen.moved = true;
	};

	const filters: INodeParameters = {};
	if (s.states.length > 0) filters.transactionStates = s.states;
	if (s.currencies.length > 0) filters.currency = s.currencies.join(',');
	const parameters: INodeParameters = {
		resource: 'transaction',
		operation: 'getMany',
		customerId: customer.id,
		returnAll: s.limit === 0,
		...(s.limit > 0 ? { limit: s.limit } : {}),
		filters,
		options: { pageSize: s.pageSize, sortBy: s.sortBy, sortDirection: s.direction },
	};
	const run = await runNode(server.credentials, parameters);
	stats.runs++;
	if (snapshots.length > 1) stats.changed++;
	if (run.status !== 'success') stats.failed++;
	if (server.emulator.requests.length > planned) stats.extraPages++;
	const result = run.items.map((item) => String(item.json.id));
	const where = `(snapshots: ${JSON.stringify(snapshots)}; result: ${JSON.stringify(result)})`;

	if (run.status !== 'success') {
		const changed = /changed while they were being fetched|different ones came back/.test(
			`${run.error?.message} ${run.error?.description}`,
		);
		if (snapshots.length > 1 && changed) return true;
		throw new Error(`The run failed: ${run.error?.message} ${where}`);
	}
	if (new Set(result).size !== result.length) throw new Error(`A transaction came back twice ${where}`);
	const everSeen = new Set(snapshots.flat());
	const foreign = result.filter((id) => !everSeen.has(id));
	if (foreign.length > 0) throw new Error(`Transactions that never matched came back: ${foreign} ${where}`);
	if (blind(s, seen)) {
		stats.blind++;
		return true;
	}
	if (s.limit === 0) {
		const throughout = snapshots[0].filter((id) => snapshots.every((snapshot) => snapshot.includes(id)));
		const missing = throughout.filter((id) => !result.includes(id));
		if (missing.length > 0) throw new Error(`Missing ${missing.length}: ${missing} ${where}`);
		return true;
	}
	const expected = JSON.stringify(result);
	if (!snapshots.some((snapshot) => JSON.stringify(snapshot.slice(0, s.limit)) === expected)) {
		throw new Error(`The result is not the first ${s.limit} of any one moment ${where}`);
	}
	return true;
}

const confirmed = (amount = 1): Row => ({ state: 'CONFIRMED', currency: 'USDT_TRX', amount });
const none = { states: [], currencies: [], order: Array<number>(WAVE).fill(0) };

describe('Get Many under random schedules', () => {
	// Found by the property on the findAll before issue 16 (seed 20261203, after 40 schedules, Return All only):
	// pages 3, 4, 5 answered before page 2, deposits before the 2nd and 5th answers; the run succeeded without the
	// oldest transaction (every page reported its count; nobody compared them).
	replays(
		'Return All, pages of 1, page 2 answered last, two deposits meanwhile: nothing lost',
		{
			...none,
			rows: [1, 2, 3, 4, 5].map(() => confirmed()),
			cap: 1,
			pageSize: 1,
			sortBy: 'createdDate',
			direction: 'DESC',
			limit: 0,
			order: [1535112031, 0, 0, 0, 0, 0, 0, 0, 0, 0],
			changes: [
				{ at: 1, kind: 'insert', row: confirmed() },
				{ at: 4, kind: 'insert', row: confirmed() },
			],
		} satisfies GetManySchedule,
		check,
	);
	// Found first on the old findAll (seed 20261203, after 5 schedules): a deposit pushes page 2's row onto page 3,
	// page 3 then brings only a repeated row and the reading stopped: Limit 3 came back with 2 of 4 transactions.
	replays(
		'Limit 3, pages of 1, newest first, a deposit before page 3: not short',
		{
			...none,
			rows: [1, 2, 3].map(() => confirmed()),
			cap: 1,
			pageSize: 1,
			sortBy: 'createdDate',
			direction: 'DESC',
			limit: 3,
			changes: [{ at: 2, kind: 'insert', row: confirmed() }],
		} satisfies GetManySchedule,
		check,
	);

	scheduleProperty('get many: nothing lost, nothing twice, a Limit is one moment', schedule, check, { runs: 1000 });
	test('the schedules did change data while pages were read, and made findAll read more pages than it planned (re-reads, follow-ups)', () => {
		// Not a hollow property: with the default count, many runs change data mid-run and some re-read pages.
		if (stats.runs < 200) return;
		expect(stats.changed).toBeGreaterThan(stats.runs / 10);
		expect(stats.extraPages).toBeGreaterThan(stats.runs / 20);
		expect(stats.blind).toBeLessThan(stats.runs / 10);
	});
});
