import { sleep } from 'n8n-workflow';
import type { IDataObject } from 'n8n-workflow';

import type { SubscriptionKeys } from './delivery';

/**
 * Which Calypso events the trigger has already acknowledged, so that Calypso's re-deliveries (it re-sends an event
 * until it gets a 200, for about 34 h: after 30 s, 60 s, 90 s, 150 s, …) start the workflow once.
 *
 * Two layers, because of how n8n 2.41 runs a production webhook (`live-webhooks.js`, `webhook-helpers.js`,
 * `workflow-static-data.service.js`): for every request it loads the workflow, static data included, from the
 * database; it calls `webhook()`; then, in the response callback and so BEFORE it answers the request, it saves
 * the whole static-data column if anything in it was set or deleted (`__dataChanged`). When `webhook()` throws,
 * nothing is saved. The column is one JSON value per workflow, written whole: of two requests (in one process or
 * in two) that loaded it, the one that saves last overwrites what the other saved.
 *
 * - The RECORD (`seen` in the node's static data): event id → when it was acknowledged (epoch seconds), written by
 *   `webhook()` for every event it lets through, so n8n saves it with the request, before the 200. Bounded by age
 *   (`SEEN_LIMITS.maxAgeS`, longer than Calypso's re-delivery period) and count (`SEEN_LIMITS.maxIds`).
 * - The MEMORY (`DeliveryMemory`, one per n8n process): the events this process is processing, and those it has
 *   acknowledged or read in a loaded record. It answers duplicates without the database, refuses a re-delivery of
 *   an event still being processed (so it is never acknowledged before it has been processed), and repairs the
 *   record: every record this process writes is the union of what it loaded and what it remembers, and it is LIVE
 *   (`DeliveryMemory.live`): whenever n8n writes it (JSON), it writes what the process knows at that moment. n8n may
 *   write a request's static data after later requests were saved (2.41 saves each request after it has started
 *   its execution): a copy frozen at the request's time would then drop the events acknowledged since. And a new
 *   event's write waits for the earlier ones to land (`DeliveryMemory.afterEarlier`).
 *
 * The pure parts are here; `webhook.ts` wires them to the request.
 */

/**
 * Event id → the event's time (epoch seconds): its `createdDate` read as UTC (Calypso writes it without a time zone;
 * whatever its zone, every entry and every check uses the same reading), or when it was let through when the event
 * has no readable `createdDate`. Records written by earlier versions hold the acknowledgement time: nearly the same.
 */
export type Seen = Record<string, number>;

export const SEEN_LIMITS = {
	/**
	 * Calypso re-sends for about 34 h. `createdDate` carries no time zone and is read as UTC: 14 h more, so that
	 * no retry of an event Calypso still re-sends looks older than this, whatever zone Calypso writes in.
	 */
	maxAgeS: 48 * 3600,
	/** The newest ids kept in the record (about 40 bytes each in the static data). */
	maxIds: 2000,
};

/** The valid entries of a stored record (anything else, e.g. from a hand-edited workflow, is dropped). */
export function readSeen(value: unknown): Seen {
	const seen: Seen = {};
	if (!value || typeof value !== 'object' || Array.isArray(value)) return seen;
	for (const [id, at] of Object.entries(value as IDataObject)) {
		if (typeof at === 'number' && Number.isFinite(at)) seen[id] = at;
	}
	return seen;
}

/** The record within its bounds: nothing older than `maxAgeS`, at most the `maxIds` newest (a copy when pruned). */
export function pruneSeen(seen: Seen, nowS: number, limits = SEEN_LIMITS): Seen {
	const times = Object.values(seen);
	if (times.length <= limits.maxIds && times.every((at) => nowS - at <= limits.maxAgeS)) return seen;
	return pruneOwn({ ...seen }, nowS, limits);
}

/**
 * `pruneSeen` in place, for a record this process made (nothing else holds it): entries older than `maxAgeS` go,
 * then, when more than `maxIds` are left, the oldest (earlier time, then smaller id): the cut-off time is found by
 * sorting the times alone (numbers), so no entry list is built or sorted. Returns the same object.
 */
function pruneOwn(seen: Seen, nowS: number, limits = SEEN_LIMITS): Seen {
	const times: number[] = [];
	for (const id in seen) {
		if (nowS - seen[id] > limits.maxAgeS) delete seen[id];
		else times.push(seen[id]);
	}
	const over = times.length - limits.maxIds;
	if (over <= 0) return seen;
	const sorted = Float64Array.from(times).sort();
	const cutoff = sorted[over - 1];
	let ties = over; // how many entries at the cut-off time go, the smallest ids first
	for (let i = 0; i < over; i++) if (sorted[i] < cutoff) ties--;
	const atCutoff: string[] = [];
	for (const id in seen) {
		if (seen[id] < cutoff) delete seen[id];
		else if (seen[id] === cutoff) atCutoff.push(id);
	}
	for (const id of atCutoff.sort().slice(0, ties)) delete seen[id];
	return seen;
}

/**
 * The oldest event time (epoch s) the record still recognises: an event older than this may have been let through
 * and then pruned (older than `maxAgeS`, or older than the oldest of a full record of the `maxIds` newest), so a
 * delivery of it cannot be told from a replay. Newer events that were let through are all in the record.
 */
export function coveredFrom(seen: Seen, nowS: number, limits = SEEN_LIMITS): number {
	const byAge = nowS - limits.maxAgeS;
	const times = Object.values(seen);
	if (times.length < limits.maxIds) return byAge;
	let oldest = Infinity;
	for (const at of times) if (at < oldest) oldest = at;
	return Math.max(byAge, oldest);
}

/** `createdDate` as epoch seconds: an ISO date-time without a zone is read as UTC; undefined when unreadable. */
export function eventTimeS(createdDate: unknown): number | undefined {
	if (typeof createdDate !== 'string') return undefined;
	const local = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(createdDate.trim());
	const ms = Date.parse(local ? `${createdDate.trim().replace(' ', 'T')}Z` : createdDate);
	return Number.isFinite(ms) ? Math.floor(ms / 1000) : undefined;
}

/** Same ids with the same times. */
export function sameSeen(a: Seen, b: Seen): boolean {
	const keys = Object.keys(a);
	return keys.length === Object.keys(b).length && keys.every((id) => b[id] === a[id]);
}

/** A request's node static-data object (n8n's observable copy of `node:<name>`), where the record goes. */
export interface RecordHolder {
	seen?: unknown;
}

/** What the record and this process's memory say about an event (DeliveryMemory.classify). */
export type Verdict = 'new' | 'repeated' | 'in flight' | 'too old';

/** `written`: n8n has written (serialised) the event's own request's record, which holds it. */
type Entry =
	| { state: 'processing' }
	| { state: 'handed'; at: number; written: boolean }
	| { state: 'done'; at: number };

/** What the response object (Node's ServerResponse) shows of n8n's answer to a request. */
export interface AnswerState {
	/** n8n has sent its answer, or tried to: also true when the caller had hung up before. */
	readonly writableEnded: boolean;
	readonly statusCode: number;
}

const pendingKey = (scope: string, id: string) => `${scope}\u0000${id}`;

interface Pending {
	scope: string;
	id: string;
	holder: RecordHolder;
	answer: AnswerState;
	sinceMs: number;
}

/**
 * The one loop per process that follows the events handed to n8n until n8n has answered their request: every
 * `everyMs` it marks each one's record changed again (an O(1) assignment, whatever the record's size) for at most
 * `remarkForMs`, and settles those n8n has answered. One n8n never answers within `giveUpMs` is released (Calypso's
 * retry is then processed).
 *
 * `inOrderForMs`: how long a new event waits for the answers to the events of its subscription handed to n8n
 * before it (`DeliveryMemory.afterEarlier`).
 */
export const WATCH = { everyMs: 2, remarkForMs: 60_000, giveUpMs: 10 * 60_000, inOrderForMs: 5_000 };

/** How long a process keeps a subscription's opened keys, or the finding that there are none, before looking again. */
export const KEYS_WINDOW_MS = 60_000;

/**
 * One n8n process's memory of events, per subscription (scope): at most `maxIdsPerScope` ids for each of the
 * `maxScopes` most recently used subscriptions, the oldest forgotten first.
 *
 * An id goes processing (webhook() is working on it) → handed (webhook() returned it to n8n, which starts the
 * execution, saves the static data, then answers) → done (answered 2xx). An id handed but then not answered 2xx is
 * revoked: left out of the records this process writes from then on.
 */
export class DeliveryMemory {
	private readonly scopes = new Map<string, { ids: Map<string, Entry>; revoked: Set<string> }>();

	/** Events handed to n8n and not answered yet, by scope and id, in the order they were handed over. */
	private readonly pending = new Map<string, Pending>();
	/**
	 * Requests whose record n8n writes without an event handed over (a duplicate's repair, `inOrder`), not answered
	 * yet, in arrival order: the writes that come after wait for theirs too.
	 */
	private readonly writers = new Map<object, { scope: string; answer: AnswerState; sinceMs: number }>();
	private watching = false;
	private readonly keyCache = new Map<
		string,
		{ stamp: string; untilMs: number; keys: Promise<Partial<SubscriptionKeys>> }
	>();

	constructor(
		readonly maxScopes = 200,
		readonly maxIdsPerScope = 5000,
	) {}

	private scope(name: string) {
		let scope = this.scopes.get(name);
		if (scope)
			this.scopes.delete(name); // re-inserted below: most recently used last
		else scope = { ids: new Map(), revoked: new Set() };
		this.scopes.set(name, scope);
		while (this.scopes.size > this.maxScopes) this.scopes.delete(this.scopes.keys().next().value as string);
		return scope;
	}

	private put(ids: Map<string, Entry>, id: string, entry: Entry): void {
		ids.delete(id);
		ids.set(id, entry);
		while (ids.size > this.maxIdsPerScope) ids.delete(ids.keys().next().value as string);
	}

	/** 'processing', 'handed', 'done' (acknowledged here, or found in a loaded record), or undefined. */
	state(scope: string, id: string): Entry['state'] | undefined {
		return this.scopes.get(scope)?.ids.get(id)?.state;
	}

	/** An id handed over here and then not answered 2xx: left out of this process's records until processed again. */
	revoked(scope: string, id: string): boolean {
		return this.scopes.get(scope)?.revoked.has(id) ?? false;
	}

	/** Remembers the ids of a loaded record as acknowledged (the record holds acknowledged events), except revoked ones. */
	absorb(scope: string, seen: Seen): void {
		const { ids, revoked } = this.scope(scope);
		for (const [id, at] of Object.entries(seen)) {
			const entry = ids.get(id);
			if (revoked.has(id) || entry?.state === 'processing' || entry?.state === 'handed') continue;
			if (!entry || entry.at < at) this.put(ids, id, { state: 'done', at });
		}
	}

	/** Marks an id as being processed; false when it is already known. */
	begin(scope: string, id: string): boolean {
		const { ids, revoked } = this.scope(scope);
		if (ids.has(id)) return false;
		revoked.delete(id);
		this.put(ids, id, { state: 'processing' });
		return true;
	}

	/**
	 * webhook() returned the event to n8n: it is in its own request's record, and once n8n has written that one, in
	 * every record this process writes, including those written earlier that n8n saves from then on (they are
	 * live: `live`). Not before: n8n may still fail to start it (500, nothing saved), and a record written meanwhile
	 * by another request would keep it in the database, so that after a restart its re-delivery would be taken for
	 * a duplicate and never run. Writes are in order (`afterEarlier`, `inOrder`): one that comes after this event's
	 * waits for its answer, so leaving it out of the writes made before its own loses nothing.
	 */
	handOver(scope: string, id: string, atS: number): void {
		this.put(this.scope(scope).ids, id, { state: 'handed', at: atS, written: false });
	}

	/** n8n is writing the record of the request that handed this event over (its live record's `toJSON`). */
	recorded(scope: string, id: string): void {
		const entry = this.scopes.get(scope)?.ids.get(id);
		if (entry?.state === 'handed') entry.written = true;
	}

	/** The answer with the event's 200 was sent. */
	acknowledge(scope: string, id: string): void {
		const { ids } = this.scope(scope);
		const entry = ids.get(id);
		if (entry?.state === 'handed') this.put(ids, id, { state: 'done', at: entry.at });
	}

	/**
	 * Processing failed, or n8n did not answer 2xx: forget the id so that Calypso's retry is processed. One already
	 * handed over is revoked: left out of every record this process writes from now on (the live ones included).
	 */
	release(scope: string, id: string): void {
		const scoped = this.scopes.get(scope);
		const entry = scoped?.ids.get(id);
		if (!scoped || !entry || entry.state === 'done') return;
		scoped.ids.delete(id);
		if (entry.state === 'handed') {
			scoped.revoked.add(id);
			while (scoped.revoked.size > this.maxIdsPerScope) {
				scoped.revoked.delete(scoped.revoked.values().next().value as string);
			}
		}
	}

	/**
	 * The record this process writes: what it loaded, minus revoked ids, plus what it acknowledged or handed over
	 * (`own`, the event of the request that writes it, and those whose own record n8n has written: `handOver`),
	 * pruned. When what is left of the loaded record already fills it, a remembered id older than all of it would
	 * be pruned again, so it is not added (the same record, without sorting thousands of remembered ids).
	 */
	record(scope: string, loaded: Seen, nowS: number, own?: string): Seen {
		const scoped = this.scopes.get(scope);
		const merged: Seen = {};
		let count = 0;
		let oldest = Infinity;
		for (const [id, at] of Object.entries(loaded)) {
			if (scoped?.revoked.has(id)) continue;
			merged[id] = at;
			count++;
			if (at < oldest) oldest = at;
		}
		const full = count >= SEEN_LIMITS.maxIds;
		for (const [id, entry] of scoped?.ids ?? []) {
			if (entry.state === 'processing' || (entry.state === 'handed' && !entry.written && id !== own))
				continue;
			if (merged[id] >= entry.at || (full && entry.at < oldest)) continue;
			merged[id] = entry.at;
		}
		return pruneOwn(merged, nowS);
	}

	/**
	 * A record to put in a request's static data: `entries` as its own properties (what the request reads), and a
	 * `toJSON` that n8n's writes call (JSON.stringify for the database column, n8n's deepCopy): what gets written is
	 * `record()` at that moment, so a request saved late (after requests that came later) carries every event this
	 * process acknowledged meanwhile, and no revoked one.
	 */
	live(scope: string, entries: Seen, own?: string): Seen {
		const current = (entriesNow: Seen) => {
			this.settleAnswered(scope);
			if (own !== undefined) this.recorded(scope, own);
			return this.record(scope, entriesNow, Math.floor(Date.now() / 1000), own);
		};
		const methods = {
			toJSON(this: Seen): Seen {
				return current({ ...this });
			},
		};
		return Object.assign(Object.create(methods) as Seen, entries);
	}

	get size(): number {
		return this.scopes.size;
	}

	// ---- The interface webhook.ts uses: classify an event, repair the record, start an event, release it. ----

	/**
	 * What an event is for this subscription (`scope`), given the record loaded with the request and the event's
	 * time: in flight in this process, repeated (acknowledged here or in the record), too old for the record to tell
	 * it from a replay (`coveredFrom`), or new — then it is marked as being processed here.
	 */
	classify(scope: string, id: string, loaded: Seen, timeS: number | undefined, nowS: number): Verdict {
		const pending = this.pending.get(pendingKey(scope, id));
		if (pending?.answer.writableEnded) this.settle(pending); // answered a moment ago: the loop has not looked yet
		const state = this.state(scope, id);
		if (state === 'processing' || state === 'handed') return 'in flight';
		if (state === 'done' || (loaded[id] !== undefined && !this.revoked(scope, id))) return 'repeated';
		if (timeS !== undefined && timeS < coveredFrom(loaded, nowS)) return 'too old';
		this.begin(scope, id);
		return 'new';
	}

	/**
	 * Sets the record n8n saves with this request, when what this process knows differs from what the request
	 * loaded, or when it hands an event over (`own`): live (`live`), so it is what the process knows when n8n writes it.
	 */
	writeRecord(scope: string, holder: RecordHolder, loaded: Seen, nowS: number, own?: string): boolean {
		this.absorb(scope, loaded);
		const next = this.record(scope, loaded, nowS, own);
		if (own === undefined && sameSeen(next, loaded)) return false;
		holder.seen = this.live(scope, next, own);
		return true;
	}

	/**
	 * A new event goes to n8n: recorded (with its time `atS`) in this request's record (`holder`), and so in every
	 * live record this process wrote that n8n writes from now on, and followed until n8n has answered (`watch`).
	 */
	start(
		scope: string,
		id: string,
		atS: number,
		holder: RecordHolder,
		loaded: Seen,
		answer: AnswerState,
	): void {
		this.handOver(scope, id, atS);
		this.writeRecord(scope, holder, loaded, Math.floor(Date.now() / 1000), id);
		this.watch(scope, id, holder, answer, Date.now());
	}

	/**
	 * A subscription's keys, loaded at most once per `KEYS_WINDOW_MS` for the same stored keys (`stamp`), whether
	 * they opened or not; concurrent requests share one load. A load that fails counts as "no keys".
	 */
	async keys(
		scope: string,
		stamp: string,
		nowMs: number,
		load: () => Promise<Partial<SubscriptionKeys>>,
	): Promise<Partial<SubscriptionKeys>> {
		const cached = this.keyCache.get(scope);
		if (cached && cached.stamp === stamp && nowMs < cached.untilMs) return await cached.keys;
		const keys = load().catch(() => ({}));
		this.keyCache.delete(scope);
		this.keyCache.set(scope, { stamp, untilMs: nowMs + KEYS_WINDOW_MS, keys });
		while (this.keyCache.size > this.maxScopes) {
			this.keyCache.delete(this.keyCache.keys().next().value as string);
		}
		return await keys;
	}

	/**
	 * Follows an event handed to n8n until n8n has answered its request (`answer`), then acknowledges it (2xx) or
	 * releases it (anything else). A caller that hung up changes nothing: n8n still starts the execution, saves the
	 * record and ends the response, whose status then decides. Meanwhile the request's record (`holder`) is marked
	 * changed again and again, so that n8n saves it (see `WATCH`).
	 */
	watch(scope: string, id: string, holder: RecordHolder, answer: AnswerState, nowMs: number): void {
		this.pending.set(pendingKey(scope, id), { scope, id, holder, answer, sinceMs: nowMs });
		if (!this.watching) void this.watchAnswers();
	}

	/**
	 * Waits (at most `WATCH.inOrderForMs`) until n8n has answered every event of this subscription handed to it
	 * before this one, so that this request's static-data write starts after theirs have landed (n8n answers once
	 * the write is done). Concurrent writes can land out of order — seen with n8n 1.123 on SQLite, whose driver runs
	 * statements in parallel: a write made before others landed after them, and the record last written missed
	 * events acknowledged a moment before, until the next write; after a restart they ran again. In order, the last
	 * write is the newest, and, live, it holds every event acknowledged before it.
	 */
	async afterEarlier(scope: string, id: string): Promise<void> {
		const self = pendingKey(scope, id);
		const earlier: AnswerState[] = [];
		for (const [key, pending] of this.pending) {
			if (key === self) break;
			if (pending.scope === scope) earlier.push(pending.answer);
		}
		await this.waitFor([...earlier, ...this.earlierWriters(scope)]);
	}

	/**
	 * The same order for a request that writes the record without handing an event over (a duplicate whose loaded
	 * record missed events this process knows: `writeRecord` returned true): it waits for the answers to the events
	 * handed over and the writes made before it, and the hand-overs and writes after it wait for its answer. Else a
	 * duplicate's write, made before a new event was handed over, could land after that event's write and drop it.
	 */
	async inOrder(scope: string, answer: AnswerState): Promise<void> {
		const earlier = [...this.pending.values()].filter((p) => p.scope === scope).map((p) => p.answer);
		earlier.push(...this.earlierWriters(scope));
		this.writers.set(answer, { scope, answer, sinceMs: Date.now() });
		await this.waitFor(earlier);
	}

	/** The unanswered duplicate writes of a subscription (answered or given-up ones are dropped here). */
	private earlierWriters(scope: string): AnswerState[] {
		const nowMs = Date.now();
		const earlier: AnswerState[] = [];
		for (const [key, writer] of this.writers) {
			if (writer.answer.writableEnded || nowMs - writer.sinceMs > WATCH.giveUpMs) this.writers.delete(key);
			else if (writer.scope === scope) earlier.push(writer.answer);
		}
		return earlier;
	}

	/** Until every one of these requests has been answered, at most `WATCH.inOrderForMs`. */
	private async waitFor(earlier: AnswerState[]): Promise<void> {
		const deadline = Date.now() + WATCH.inOrderForMs;
		while (earlier.some((answer) => !answer.writableEnded) && Date.now() < deadline) {
			await sleep(WATCH.everyMs);
		}
	}

	/** Events handed to n8n whose answer is not out yet. */
	get unanswered(): number {
		return this.pending.size;
	}

	/**
	 * Settles the events of a subscription n8n has answered, before a write: the loop looks every `WATCH.everyMs`,
	 * and n8n may write another request's record in between (an event answered 500 a moment ago stays out).
	 */
	private settleAnswered(scope: string): void {
		for (const pending of [...this.pending.values()]) {
			if (pending.scope === scope && pending.answer.writableEnded) this.settle(pending);
		}
	}

	/** n8n answered (2xx: acknowledged; anything else: released), or gave no answer in time (released). */
	private settle(pending: Pending): void {
		this.pending.delete(pendingKey(pending.scope, pending.id));
		const { answer } = pending;
		if (answer.writableEnded && answer.statusCode >= 200 && answer.statusCode < 300) {
			this.acknowledge(pending.scope, pending.id);
		} else {
			this.release(pending.scope, pending.id);
		}
	}

	private async watchAnswers(): Promise<void> {
		this.watching = true;
		try {
			while (this.pending.size > 0) {
				await sleep(WATCH.everyMs);
				const nowMs = Date.now();
				for (const pending of this.pending.values()) {
					const { answer, holder } = pending;
					if (answer.writableEnded || nowMs - pending.sinceMs > WATCH.giveUpMs) {
						this.settle(pending);
					} else if (nowMs - pending.sinceMs <= WATCH.remarkForMs) {
						const seen = holder.seen;
						holder.seen = seen;
					}
				}
			}
		} finally {
			this.watching = false;
		}
	}
}
