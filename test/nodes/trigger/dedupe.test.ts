import {
	DeliveryMemory,
	SEEN_LIMITS,
	pruneSeen,
	readSeen,
	sameSeen,
} from '../../../nodes/CalypsoPayTrigger/dedupe';
import { deepCopy, sleep } from 'n8n-workflow';

import { useEmulator } from '../../helpers/calypso';
import { NODE_PROCESS, createTriggerHarness } from '../../helpers/trigger';
import type { TriggerHarness } from '../../helpers/trigger';

/** Union of records; an id in several keeps its latest time (the reference `record()` is checked against). */
function mergeSeen(...records: Array<Record<string, number>>): Record<string, number> {
	const merged: Record<string, number> = {};
	for (const record of records) {
		for (const [id, at] of Object.entries(record)) {
			if (!(id in merged) || merged[id] < at) merged[id] = at;
		}
	}
	return merged;
}

const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const EXPIRED = 'CUSTOMER_PURSE_EXPIRED';
const H = 3600;

describe('the seen-event record (pure)', () => {
	test('readSeen keeps id → number entries only', () => {
		expect(readSeen({ 1: 10, 2: 'x', 3: null, 4: Number.NaN, 5: 20 })).toEqual({ 1: 10, 5: 20 });
		for (const junk of [undefined, null, 'x', 3, [1, 2]]) expect(readSeen(junk)).toEqual({});
	});

	test('mergeSeen is the union; an id in several records keeps its latest time', () => {
		expect(mergeSeen({ a: 1, b: 5 }, { b: 3, c: 2 }, {})).toEqual({ a: 1, b: 5, c: 2 });
	});

	test('pruneSeen drops what is older than 48 h (Calypso re-sends for about 34 h; createdDate has no time zone)', () => {
		const now = 100 * H;
		expect(SEEN_LIMITS.maxAgeS).toBe(48 * H);
		const seen = { old: now - 48 * H - 1, edge: now - 48 * H, recent: now - 60 };
		expect(pruneSeen(seen, now)).toEqual({ edge: now - 48 * H, recent: now - 60 });
	});

	test('pruneSeen keeps the newest maxIds (at a tie in time, the smaller ids go first), in a copy', () => {
		const seen: Record<string, number> = {};
		for (let i = 0; i < 10; i++) seen[`e${i}`] = 1000 + (i % 2 ? i : 20 - i);
		seen.t1 = seen.t2 = 1016;
		const kept = pruneSeen(seen, 1100, { maxAgeS: 1000, maxIds: 4 });
		expect(kept).toEqual({ t1: 1016, t2: 1016, e2: 1018, e0: 1020 });
		expect(Object.keys(seen)).toHaveLength(12);
		const full: Record<string, number> = {};
		for (let i = 0; i < SEEN_LIMITS.maxIds + 50; i++) full[String(i)] = 5000 + i;
		expect(Object.keys(pruneSeen(full, 5000))).toHaveLength(SEEN_LIMITS.maxIds);
	});

	test('sameSeen compares ids and times', () => {
		expect(sameSeen({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
		expect(sameSeen({ a: 1 }, { a: 2 })).toBe(false);
		expect(sameSeen({ a: 1 }, { a: 1, b: 2 })).toBe(false);
	});
});

describe('DeliveryMemory (one process, pure)', () => {
	test('processing → released lets the id through again; handed over → acknowledged → done', () => {
		const memory = new DeliveryMemory();
		expect(memory.begin('s', '1')).toBe(true);
		expect(memory.state('s', '1')).toBe('processing');
		expect(memory.record('s', {}, 100)).toEqual({}); // not in any record while processing
		expect(memory.begin('s', '1')).toBe(false);
		memory.release('s', '1');
		expect(memory.state('s', '1')).toBeUndefined();
		memory.begin('s', '1');
		memory.handOver('s', '1', 50);
		expect(memory.state('s', '1')).toBe('handed');
		expect(memory.record('s', {}, 100, '1')).toEqual({ 1: 50 }); // in its own request's record
		expect(memory.record('s', {}, 100)).toEqual({}); // in others' once n8n has written its own
		memory.recorded('s', '1');
		expect(memory.record('s', {}, 100)).toEqual({ 1: 50 });
		memory.acknowledge('s', '1');
		expect(memory.state('s', '1')).toBe('done');
		memory.release('s', '1'); // a late failure report cannot undo an acknowledgement
		expect(memory.record('s', { 0: 40 }, 100)).toEqual({ 0: 40, 1: 50 });
		expect(memory.state('other', '1')).toBeUndefined();
	});

	test('absorb remembers a loaded record as done, without touching ids being processed', () => {
		const memory = new DeliveryMemory();
		memory.begin('s', '2');
		memory.absorb('s', { 1: 10, 2: 11 });
		expect(memory.state('s', '1')).toBe('done');
		expect(memory.state('s', '2')).toBe('processing');
		expect(memory.record('s', {}, 20)).toEqual({ 1: 10 });
	});

	test('a record written earlier is written by n8n as the process knows it then: later hand-overs in (once their own record is written), revoked ids out', () => {
		const memory = new DeliveryMemory();
		const t = Math.floor(Date.now() / 1000) - 100;
		const holder: { seen?: unknown } = {};
		memory.writeRecord('s', holder, { 1: t }, t); // nothing new: the loaded record stays as it is
		expect(holder.seen).toBeUndefined();
		memory.begin('s', '5');
		const answer = { writableEnded: false, statusCode: 500 };
		memory.start('s', '5', t + 5, holder, { 1: t }, answer);
		expect({ ...(holder.seen as object) }).toEqual({ 1: t, 5: t + 5 }); // what the request reads
		memory.begin('s', '7');
		memory.handOver('s', '7', t + 7);
		memory.recorded('s', '7'); // n8n writes 7's own request's record
		const written = () => (JSON.parse(JSON.stringify(holder)) as { seen: Record<string, number> }).seen;
		expect(written()).toEqual({ 1: t, 5: t + 5, 7: t + 7 }); // what n8n writes (JSON), later
		memory.release('s', '7'); // n8n did not answer 2xx
		memory.release('s', '5');
		expect(written()).toEqual({ 1: t });
		// …and a record loaded with 7 (saved by a request in between) is written without it, until 7 is processed again.
		expect(memory.record('s', { 1: t, 7: t + 7 }, t)).toEqual({ 1: t });
		memory.absorb('s', { 7: t + 7 });
		expect(memory.state('s', '7')).toBeUndefined();
		expect(memory.begin('s', '7')).toBe(true);
		memory.handOver('s', '7', t + 9);
		memory.recorded('s', '7');
		expect(memory.record('s', {}, t)).toEqual({ 1: t, 7: t + 9 });
		expect(written()).toEqual({ 1: t, 7: t + 9 });
		answer.writableEnded = true; // n8n answered: the watch loop ends
	});

	test('a record n8n writes right after another event was answered non-2xx leaves that event out, before the watch loop has looked', () => {
		const memory = new DeliveryMemory();
		const t = Math.floor(Date.now() / 1000);
		const m = { writableEnded: false, statusCode: 200 };
		const n = { writableEnded: false, statusCode: 200 };
		const mHolder: { seen?: unknown } = {};
		memory.begin('s', 'm');
		memory.start('s', 'm', t, mHolder, {}, m);
		const holder: { seen?: unknown } = {};
		memory.begin('s', 'n');
		memory.start('s', 'n', t + 1, holder, {}, n);
		JSON.stringify(mHolder); // n8n wrote m's record…
		// …and then did not answer it 2xx (500), then writes n's static data within the same tick.
		Object.assign(m, { writableEnded: true, statusCode: 500 });
		const written = JSON.parse(JSON.stringify(holder)) as { seen: unknown };
		n.writableEnded = true; // n8n answered n: the watch loop ends
		expect(written.seen).toEqual({ n: t + 1 });
	});

	test("a live record written by n8n's deepCopy, and when full: the newest maxIds, the oldest out", () => {
		const memory = new DeliveryMemory();
		const full: Record<string, number> = {};
		for (let i = 0; i < SEEN_LIMITS.maxIds; i++) full[`e${i}`] = 1000 + i;
		const nowS = Math.floor(Date.now() / 1000);
		for (const id of Object.keys(full)) full[id] += nowS - 5000;
		const holder: { seen?: unknown } = {};
		memory.begin('s', 'new');
		const answer = { writableEnded: false, statusCode: 200 };
		memory.start('s', 'new', nowS, holder, full, answer);
		memory.begin('s', 'newer');
		memory.handOver('s', 'newer', nowS + 1);
		memory.recorded('s', 'newer');
		const seen = deepCopy(holder).seen as Record<string, number>;
		expect(Object.keys(seen)).toHaveLength(SEEN_LIMITS.maxIds);
		expect([seen.new, seen.newer, seen.e0, seen.e1, seen.e2]).toEqual([
			nowS,
			nowS + 1,
			undefined,
			undefined,
			full.e2,
		]);
		answer.writableEnded = true; // n8n answered: the watch loop ends
	});

	test('record() is the pruned union of the loaded record (minus revoked ids) and what the process remembers', () => {
		// The same as pruneSeen(mergeSeen(...)), also when the loaded record is full and thousands of older ids are
		// remembered (they are left out without sorting them), with ties in time and ids too old.
		let state = 7;
		const rand = (n: number) => (state = (state * 1103515245 + 12345) % 2147483648) % n;
		for (let round = 0; round < 6; round++) {
			const memory = new DeliveryMemory(10, 6000);
			const nowS = 200_000;
			const loaded: Record<string, number> = {};
			const loadedCount = [0, 10, 1999, 2000, 2000, 2003][round];
			for (let i = 0; i < loadedCount; i++) loaded[`l${i}`] = nowS - 5000 + rand(3000);
			const remembered: Record<string, number> = {};
			for (let i = 0; i < 3000; i++) {
				const id = i % 4 === 0 && i / 4 < loadedCount ? `l${i / 4}` : `m${i}`;
				const at = nowS - (rand(10) === 0 ? SEEN_LIMITS.maxAgeS + 10 : 6000) + rand(6000);
				memory.begin('s', id);
				memory.handOver('s', id, at);
				memory.recorded('s', id);
				if (rand(3) === 0) memory.acknowledge('s', id);
				remembered[id] = at;
			}
			const revoked = Object.keys(loaded).filter(() => rand(50) === 0);
			for (const id of revoked) {
				if (memory.state('s', id) === 'handed') {
					memory.release('s', id);
					delete remembered[id];
				}
			}
			const kept = Object.fromEntries(Object.entries(loaded).filter(([id]) => !memory.revoked('s', id)));
			const expected = pruneSeen(mergeSeen(kept, remembered), nowS);
			expect(memory.record('s', loaded, nowS)).toEqual(expected);
		}
	});

	test('bounded: maxIdsPerScope ids (oldest forgotten) and maxScopes subscriptions (least recently used)', () => {
		const memory = new DeliveryMemory(2, 3);
		for (const id of ['1', '2', '3', '4']) memory.begin('s', id);
		expect(memory.state('s', '1')).toBeUndefined();
		expect(['2', '3', '4'].map((id) => memory.state('s', id))).toEqual(Array(3).fill('processing'));
		memory.begin('t', '1');
		memory.begin('s', '5'); // s is now the most recent
		memory.begin('u', '1');
		expect(memory.size).toBe(2);
		expect(memory.state('t', '1')).toBeUndefined();
		expect(memory.state('s', '5')).toBe('processing');
	});
});

describe('DeliveryMemory.watch: one loop for every event handed to n8n', () => {
	test("re-marks each record with one O(1) assignment (the same object, never a copy), and settles on n8n's answer", async () => {
		const memory = new DeliveryMemory();
		const big: Record<string, number> = {};
		for (let i = 0; i < SEEN_LIMITS.maxIds; i++) big[String(i)] = 1000 + i;
		const assigned: unknown[][] = [];
		const holders = Array.from({ length: 8 }, (_, i) => {
			const values: unknown[] = [];
			assigned.push(values);
			let seen: unknown = big;
			return {
				get seen() {
					return seen;
				},
				set seen(value: unknown) {
					values.push(value);
					seen = value;
				},
				index: i,
			};
		});
		const answers = holders.map(() => ({ writableEnded: false, statusCode: 0 }));
		holders.forEach((holder, i) => {
			memory.begin('s', String(i));
			memory.handOver('s', String(i), 50);
			memory.watch('s', String(i), holder, answers[i], Date.now());
		});
		await until(() => assigned.every((values) => values.length >= 3), 'a few re-marks of every record');
		expect(assigned.flat().every((value) => value === big)).toBe(true);
		expect(memory.unanswered).toBe(8);
		answers.forEach((answer, i) =>
			Object.assign(answer, { writableEnded: true, statusCode: i % 2 ? 200 : 500 }),
		);
		await until(() => memory.unanswered === 0, 'every answer settled');
		expect(holders.map((_, i) => memory.state('s', String(i)))).toEqual(
			holders.map((_, i) => (i % 2 ? 'done' : undefined)),
		);
		const counts = assigned.map((values) => values.length);
		await sleep(20);
		expect(assigned.map((values) => values.length)).toEqual(counts); // the loop has stopped
	});
});

const server = useEmulator();

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(5);
	}
}

describe('de-duplication through the webhook (n8n contexts, whole-column static data saves)', () => {
	let harness: TriggerHarness;
	const setup = async () => {
		harness = await createTriggerHarness(server.credentials, { events: [FUNDS, EXPIRED] });
		await harness.create();
		const requestId = harness.stored.requestId as string;
		const customer = server.emulator.seedCustomer({ externalId: 'user-7' });
		server.emulator.seedPurse(customer.id, 'BTC');
		const transactions = server.emulator.seedTransactions(customer.id, 12, { currency: 'USDT_TRX' });
		return { requestId, customer, transactions };
	};
	afterEach(async () => await harness?.close());
	const startedIds = () => harness.started.map((r) => r.workflowData![0][0].json.eventId);
	const seenIds = () => Object.keys((harness.stored.seen ?? {}) as object).map(Number);

	test('a re-delivery while the first is still being processed gets a 503 (not acknowledged), then 200 "already received"', async () => {
		const { requestId, transactions } = await setup();
		server.emulator.options.latencyMs = 400; // the transaction lookup takes a while
		const first = server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		await until(() => harness.received.length === 1, 'the first delivery');
		const id = server.emulator.deliveries[0].id;
		const during = await server.emulator.deliverEvent(requestId, {}, { redeliver: id });
		expect(during.status).toBe(503);
		expect(during.body).toEqual({ message: `Event ${id} is still being processed; retry later` });
		expect((await first).status).toBe(200);
		const after = await server.emulator.deliverEvent(requestId, {}, { redeliver: id });
		expect([after.status, after.body]).toEqual([
			200,
			{ message: `Event ${id} was already received; ignored` },
		]);
		expect(startedIds()).toEqual([id]);
	});

	test('an in-flight re-delivery is refused while the first one’s look-up fails; the first is then acknowledged with the error', async () => {
		const { requestId, transactions } = await setup();
		server.emulator.injectFault({ path: 'transaction/get', status: 503, times: 3, delayMs: 150 });
		const first = server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		await until(() => harness.received.length === 1, 'the first delivery');
		const id = server.emulator.deliveries[0].id;
		expect((await server.emulator.deliverEvent(requestId, {}, { redeliver: id })).status).toBe(503);
		expect((await first).status).toBe(200);
		expect(seenIds()).toEqual([id]);
		const retry = await server.emulator.deliverEvent(requestId, {}, { redeliver: id });
		expect(retry.status).toBe(200);
		expect(startedIds()).toEqual([id]);
		expect(harness.started[0].workflowData![0][0].json).toMatchObject({ transaction: null });
	}, 20_000);

	test('the record is saved with the 200: after a restart (memory gone) a re-delivery starts nothing', async () => {
		const { requestId, transactions } = await setup();
		const first = await server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		expect(seenIds()).toEqual([first.id]);
		harness.restart();
		const again = await server.emulator.deliverEvent(requestId, {}, { redeliver: first.id });
		expect([again.status, again.body]).toEqual([
			200,
			{ message: `Event ${first.id} was already received; ignored` },
		]);
		expect(startedIds()).toEqual([first.id]);
	});

	test("the node's own webhook() (the module's memory) records and refuses the same way", async () => {
		const { requestId, transactions } = await setup();
		harness.useProcess(NODE_PROCESS);
		const first = await server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		const again = await server.emulator.deliverEvent(requestId, {}, { redeliver: first.id });
		expect([first.status, again.status]).toEqual([200, 200]);
		expect(startedIds()).toEqual([first.id]);
		expect(seenIds()).toEqual([first.id]);
	});

	test('a burst of concurrent deliveries in one process: every one is in the saved record (the saves overlap)', async () => {
		const { requestId, transactions } = await setup();
		server.emulator.options.latencyMs = 50;
		const burst = await Promise.all(
			transactions.map((t) => server.emulator.deliverEvent(requestId, { transactionId: t.id })),
		);
		expect(burst.map((d) => d.status)).toEqual(Array(transactions.length).fill(200));
		expect(harness.saves).toBeGreaterThanOrEqual(transactions.length);
		expect(seenIds().sort()).toEqual(burst.map((d) => d.id).sort());
		harness.restart();
		const replays = await Promise.all(
			burst.map((d) => server.emulator.deliverEvent(requestId, {}, { redeliver: d.id })),
		);
		expect(replays.map((r) => r.status)).toEqual(Array(burst.length).fill(200));
		expect(harness.started).toHaveLength(burst.length);
	});

	test('writes that land out of order (n8n 1.123 on SQLite): after a burst the saved record still has every event, and a restart runs none again (CI regression)', async () => {
		const { requestId, transactions } = await setup();
		harness.lateWrites = true; // the first delivery's write lands 300 ms late
		const burst = transactions.slice(0, 6);
		burst.forEach((t, i) =>
			server.emulator.injectFault({
				path: 'transaction/get',
				landAfterMs: 10 + 30 * i, // the events are handed to n8n one after the other
				match: (req) => (req.body?.payload as { transactionId?: string })?.transactionId === t.id,
			}),
		);
		const sent = await Promise.all(
			burst.map((t) => server.emulator.deliverEvent(requestId, { transactionId: t.id })),
		);
		expect(sent.map((d) => d.status)).toEqual(Array(burst.length).fill(200));
		expect(seenIds().sort()).toEqual(sent.map((d) => d.id).sort());
		harness.restart();
		const replays = await Promise.all(
			sent.map((d) => server.emulator.deliverEvent(requestId, {}, { redeliver: d.id })),
		);
		expect(replays.map((r) => r.body)).toEqual(
			sent.map((d) => ({ message: `Event ${d.id} was already received; ignored` })),
		);
		expect(harness.started).toHaveLength(sent.length);
	});

	test("a duplicate's record write made before a new event's hand-over, landing after that event's write (out of order), does not drop it", async () => {
		const { requestId, customer } = await setup();
		const expired = () =>
			server.emulator.deliverEvent(requestId, { eventType: EXPIRED, customerId: customer.id });
		const first = await expired(); // delivery 0: in the saved record
		// Delivery 1 (event m) is handed to n8n, whose write lands 1 s later; delivery 2, a duplicate of the first
		// event, loads the record without m, so it writes the record too, and its write lands 1.5 s later.
		harness.writeLandsAfterMs = (index) => [0, 1000, 1500][index] ?? 0;
		const m = expired();
		await until(() => harness.received.length === 2, 'event m');
		await sleep(50);
		const duplicate = server.emulator.deliverEvent(requestId, {}, { redeliver: first.id });
		const mAnswer = await m;
		const n = await expired(); // delivery 3: handed to n8n after m was answered; its write lands at once
		expect([mAnswer.status, n.status, (await duplicate).status]).toEqual([200, 200, 200]);
		const saved = seenIds().sort();
		harness.restart();
		await server.emulator.deliverEvent(requestId, {}, { redeliver: n.id });
		expect(startedIds()).toEqual([first.id, mAnswer.id, n.id]); // n did not run again after the restart
		expect(saved).toEqual([first.id, mAnswer.id, n.id].sort());
	});

	test('an event n8n could not start (500), written meanwhile into an earlier event’s record, still runs on its re-delivery after a restart', async () => {
		const { requestId, customer } = await setup();
		const expired = () =>
			server.emulator.deliverEvent(requestId, { eventType: EXPIRED, customerId: customer.id });
		await expired(); // delivery 0
		harness.startFails = (index) => index === 2;
		// Delivery 1 (event y) is handed to n8n, which saves its record 80 ms later (the harness's pause); delivery 2
		// (event x) is handed to n8n meanwhile, and n8n then fails to start its execution: 500, nothing saved.
		const y = expired();
		await until(() => harness.received.length === 2, 'event y');
		const x = await expired();
		expect([(await y).status, x.status]).toEqual([200, 500]);
		harness.restart(); // before any other write
		const retry = await server.emulator.deliverEvent(requestId, {}, { redeliver: x.id });
		expect(retry.status).toBe(200);
		expect(startedIds()).toContain(x.id); // x ran (it was never run before: n8n could not start it)
	});

	test('two processes, one after the other: a re-delivery to the other process starts nothing', async () => {
		const { requestId, transactions } = await setup();
		const first = await server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		harness.useProcess(1);
		const again = await server.emulator.deliverEvent(requestId, {}, { redeliver: first.id });
		expect(again.status).toBe(200);
		expect(startedIds()).toEqual([first.id]);
		expect(harness.saves).toBe(1); // a duplicate writes nothing
	});

	/**
	 * The lost update: process 1 starts on event X (slow: its transaction lookup), having loaded the static data;
	 * meanwhile process 0 acknowledges event E (no lookup) and saves the record {E}; then X finishes and process 1
	 * writes the whole column as it loaded it, plus X. E is gone from the database.
	 */
	const dropByConcurrentSave = async () => {
		const { requestId, customer, transactions } = await setup();
		server.emulator.options.latencyMs = 500;
		harness.useProcess(1);
		const x = server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		await until(() => harness.received.length === 1, 'X at process 1');
		harness.useProcess(0);
		const e = await server.emulator.deliverEvent(requestId, { eventType: EXPIRED, customerId: customer.id });
		expect(e.status).toBe(200);
		expect(seenIds()).toEqual([e.id]);
		const xDone = await x;
		expect(seenIds()).toEqual([xDone.id]);
		server.emulator.options.latencyMs = 0;
		return { requestId, transactions, e, xDone };
	};

	test('inside the window: another process saving what it loaded before the first save drops the record; the next save of the process that acknowledged it restores it', async () => {
		const { requestId, transactions, e, xDone } = await dropByConcurrentSave();
		// The documented window: a re-delivery of E reaching process 1 now runs again (twice, never lost).
		harness.useProcess(1);
		expect((await server.emulator.deliverEvent(requestId, {}, { redeliver: e.id })).status).toBe(200);
		expect(startedIds()).toEqual([xDone.id, e.id, e.id]); // in order of arrival
		// Process 0's next new event writes the union of what it loaded and what it remembers.
		harness.useProcess(0);
		const other = await server.emulator.deliverEvent(requestId, { transactionId: transactions[1].id });
		expect(seenIds().sort()).toEqual([e.id, xDone.id, other.id].sort());
		harness.restart();
		harness.useProcess(1);
		for (const id of [e.id, xDone.id, other.id]) {
			expect((await server.emulator.deliverEvent(requestId, {}, { redeliver: id })).status).toBe(200);
		}
		expect(harness.started).toHaveLength(4);
	});

	test('a duplicate answered by the process that remembers a dropped record repairs the database', async () => {
		const { requestId, e } = await dropByConcurrentSave();
		harness.useProcess(0);
		const duplicate = await server.emulator.deliverEvent(requestId, {}, { redeliver: e.id });
		expect(duplicate.status).toBe(200);
		expect(seenIds()).toContain(e.id);
		harness.restart();
		harness.useProcess(1);
		expect((await server.emulator.deliverEvent(requestId, {}, { redeliver: e.id })).status).toBe(200);
		expect(harness.started).toHaveLength(2);
	});

	test('an in-flight re-delivery reaching another process is processed there too (at least once, not lost)', async () => {
		const { requestId, transactions } = await setup();
		server.emulator.options.latencyMs = 400;
		const first = server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		await until(() => harness.received.length === 1, 'the first delivery');
		harness.useProcess(1);
		const id = server.emulator.deliveries[0].id;
		const elsewhere = await server.emulator.deliverEvent(requestId, {}, { redeliver: id });
		expect([(await first).status, elsewhere.status]).toEqual([200, 200]);
		expect(startedIds()).toEqual([id, id]);
	});

	test('a record past its bounds is pruned on the next save', async () => {
		const { requestId, transactions } = await setup();
		const nowS = Math.floor(Date.now() / 1000);
		harness.staticData[`node:${harness.node.name}`] = {
			...harness.stored,
			seen: { 1: nowS - SEEN_LIMITS.maxAgeS - 10, 2: nowS - 60 },
		};
		const next = await server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
		expect(seenIds().sort()).toEqual([2, next.id].sort());
		harness.restart();
		// 1 is older than 36 h: Calypso no longer re-sends it, and it is forgotten.
		expect(
			(await server.emulator.deliverEvent(requestId, { id: 1, transactionId: transactions[1].id })).status,
		).toBe(200);
		expect(startedIds()).toEqual([next.id, 1]);
	});
});
