/**
 * The Calypso Pay Trigger under random interleavings (issue 16 §1, Trigger): new events, duplicates, concurrent
 * re-deliveries, callers that hang up while the transaction is confirmed, failing or slow transaction look-ups,
 * process restarts (the DeliveryMemory dropped, the static data reloaded), forged, unsigned and wrong-key requests.
 * One n8n process (test/helpers/trigger.ts: n8n-core's WebhookContext behind a loopback endpoint), the emulator.
 *
 * Properties, for every schedule:
 * - every signed event runs exactly once, restarts included, and none is lost: Calypso (here: the end of the
 *   schedule) re-sends each event until it gets a 200, and then each one has started the workflow exactly once;
 * - no event stays answered 503 longer than its processing takes: once nothing is in flight, the next re-send of
 *   every event is answered 200;
 * - forged, unsigned and wrong-key requests get 401 and cause no request to Calypso.
 */
import { sleep } from 'n8n-workflow';

import { useEmulator } from '../helpers/calypso';
import { createTriggerHarness } from '../helpers/trigger';
import type { TriggerHarness } from '../helpers/trigger';
import { sign } from '../../nodes/CalypsoPay/transport/signing';
import { fc, replays, scheduleProperty } from './property';

const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const EVENTS = 5;
const BASE_ID = 5000;

type Lookup = 'ok' | 'fail' | 'slow';
type Step =
	| { kind: 'send'; event: number; lookup: Lookup; hangUp: boolean }
	| { kind: 'burst'; event: number; copies: number; lookup: Lookup }
	| { kind: 'restart' }
	| { kind: 'junk'; how: 'forged' | 'unsigned' | 'wrongKey' };

const step: fc.Arbitrary<Step> = fc.oneof(
	{
		weight: 6,
		arbitrary: fc.record({
			kind: fc.constant('send' as const),
			event: fc.nat(EVENTS - 1),
			lookup: fc.constantFrom<Lookup>('ok', 'ok', 'fail', 'slow'),
			hangUp: fc.boolean(),
		}),
	},
	{
		weight: 2,
		arbitrary: fc.record({
			kind: fc.constant('burst' as const),
			event: fc.nat(EVENTS - 1),
			copies: fc.integer({ min: 2, max: 3 }),
			lookup: fc.constantFrom<Lookup>('ok', 'slow'),
		}),
	},
	{ weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
	{
		weight: 1,
		arbitrary: fc.record({
			kind: fc.constant('junk' as const),
			how: fc.constantFrom('forged' as const, 'unsigned' as const, 'wrongKey' as const),
		}),
	},
);

const schedule = fc.array(step, { minLength: 1, maxLength: 12 });

const server = useEmulator();

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(5);
	}
}

/** `lateWrites`: every 6th static-data write lands 300 ms late, as n8n 1.123's on SQLite can (test/helpers/trigger.ts). */
async function run(steps: Step[], lateWrites = false): Promise<boolean> {
	server.emulator.reset();
	const harness: TriggerHarness = await createTriggerHarness(server.credentials, {
		events: [FUNDS],
		confirmTransaction: true,
	});
	harness.lateWrites = lateWrites;
	try {
		await harness.create();
		const requestId = harness.stored.requestId as string;
		const customer = server.emulator.seedCustomer({ externalId: 'schedule' });
		const transactions = server.emulator.seedTransactions(customer.id, EVENTS + 1, { currency: 'USDT_TRX' });
		const junkTransaction = transactions[EVENTS].id;
		const createdDate = new Date(Date.now() - 60_000).toISOString().replace(/Z$/, '');
		const sent = new Set<number>();
		const background: Array<Promise<unknown>> = [];

		// The same bytes every time for one event (fixed id, createdDate and data): a re-delivery, as Calypso sends it.
		const deliver = (event: number, timeoutMs?: number) =>
			server.emulator.deliverEvent(
				requestId,
				{ id: BASE_ID + event, transactionId: transactions[event].id, createdDate },
				{ timeoutMs: timeoutMs ?? 30_000 },
			);
		const lookupFault = (event: number, lookup: Lookup) => {
			const match = (req: { body: Record<string, unknown> | undefined }) =>
				(req.body?.payload as { transactionId?: string } | undefined)?.transactionId ===
				transactions[event].id;
			if (lookup === 'fail')
				server.emulator.injectFault({ path: 'transaction/get', status: 503, times: 3, match });
			if (lookup === 'slow')
				server.emulator.injectFault({ path: 'transaction/get', landAfterMs: 150, match });
		};
		const quiet = () => until(() => harness.received.every((r) => r.status !== 0), 'nothing in flight');

		for (const s of steps) {
			if (s.kind === 'send') {
				lookupFault(s.event, s.lookup);
				sent.add(s.event);
				if (s.hangUp) {
					// Calypso gives up waiting before the look-up is answered; the trigger goes on.
					await deliver(s.event, 40).catch(() => undefined);
				} else {
					background.push(deliver(s.event));
					await sleep(10);
				}
			} else if (s.kind === 'burst') {
				lookupFault(s.event, s.lookup);
				sent.add(s.event);
				await Promise.all(Array.from({ length: s.copies }, () => deliver(s.event)));
			} else if (s.kind === 'restart') {
				await quiet();
				harness.restart();
			} else {
				const before = server.emulator.requests.length;
				const body = JSON.stringify({
					requestId,
					id: 9000,
					eventType: FUNDS,
					createdDate,
					data: { transactionId: junkTransaction },
				});
				const { publicKey } = server.emulator.subscriptions[0];
				const headers: Record<string, string> = { 'Content-Type': 'application/json' };
				if (s.how === 'wrongKey') Object.assign(headers, { Key: 'pub-junk', Sign: sign('x', body) });
				if (s.how === 'forged') Object.assign(headers, { Key: publicKey, Sign: sign('forged', body) });
				if (s.how === 'unsigned') Object.assign(headers, { Key: publicKey });
				const answer = await fetch(harness.url, { method: 'POST', headers, body });
				expect(answer.status).toBe(401);
				const caused = server.emulator.requests
					.slice(before)
					.filter((r) => !(r.path.endsWith('transaction/get') && r.body?.payload));
				expect(caused).toEqual([]);
			}
		}

		await Promise.all(background);
		await quiet();
		await sleep(20); // the answer watcher settles within a few milliseconds of n8n's answer
		// Calypso re-sends each event until it gets a 200; nothing is in flight now, so the first re-send must be it.
		for (const event of sent) {
			const again = await deliver(event);
			expect([event, again.status]).toEqual([event, 200]);
		}
		const started = harness.started.map((r) => Number(r.workflowData![0][0].json.eventId));
		expect(started.filter((id) => id === 9000)).toEqual([]);
		expect([...started].sort()).toEqual([...sent].map((e) => BASE_ID + e).sort());
		const junkLookups = server.emulator.requests.filter(
			(r) => (r.body?.payload as { transactionId?: string } | undefined)?.transactionId === junkTransaction,
		);
		expect(junkLookups).toEqual([]);
		return true;
	} finally {
		await harness.close();
	}
}

describe('Calypso Pay Trigger under fault schedules', () => {
	scheduleProperty(
		'trigger: every signed event runs exactly once, none stuck at 503, junk refused',
		schedule,
		run,
		{
			runs: 40,
		},
	);

	scheduleProperty(
		'trigger with static-data writes landing out of order (n8n 1.123, SQLite): every event runs exactly once',
		schedule,
		async (steps) => await run(steps, true),
		{ runs: 25 },
	);

	// Found by the property on the code before issue 18 / 16 §2.5 (seed 20261203, first schedule, shrunk): Calypso
	// hung up on event 1 after the trigger had handed it to n8n; the workflow ran, the process then took the event
	// back from its record (the answer had not gone out) and ran its re-send a second time. Hanging up during the
	// look-up instead left the event "processing": every re-send was answered 503 until a restart.
	replays(
		'a caller hangs up after the hand-over',
		[
			{ kind: 'send', event: 0, lookup: 'ok', hangUp: false },
			{ kind: 'send', event: 1, lookup: 'ok', hangUp: true },
			{ kind: 'burst', event: 0, copies: 2, lookup: 'ok' },
		] as Step[],
		run,
	);
	replays(
		'a caller hangs up during the look-up',
		[{ kind: 'send', event: 0, lookup: 'slow', hangUp: true } as Step],
		run,
	);

	// Found by the out-of-order property on the code before `afterEarlier` (seed 20261203, shrunk), the engine-test
	// form of a CI failure on n8n 1.123: event 0's write, made first, landed after event 1's, without it; after a
	// restart, event 1 ran again.
	replays(
		'a write made first lands last (out of order), then a restart',
		[
			{ kind: 'send', event: 0, lookup: 'ok', hangUp: false },
			{ kind: 'burst', event: 1, copies: 2, lookup: 'ok' },
			{ kind: 'restart' },
			{ kind: 'send', event: 0, lookup: 'ok', hangUp: false },
		] as Step[],
		async (steps) => await run(steps, true),
	);

	// Found on the code before issue 18 §3: a failing transaction look-up was answered 500 (an error against the
	// subscription), so the event ran only on a later re-send.
	replays(
		'a failing look-up is still acknowledged',
		[{ kind: 'send', event: 0, lookup: 'fail', hangUp: false } as Step],
		async (steps) => {
			await run(steps);
			const first = server.emulator.deliveries[0];
			expect(first.status).toBe(200);
			return true;
		},
	);
});
