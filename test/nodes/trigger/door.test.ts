/**
 * The trigger's front door (issue 18 §2–3, issue 16 §2.5): closed to junk before any work, closed to replays the
 * record can no longer recognise, never the reason Calypso blocks a subscription, and never stuck on a caller that
 * hung up. Through n8n's WebhookContext behind a loopback endpoint (test/helpers/trigger.ts), against the emulator.
 */
import { sleep } from 'n8n-workflow';

import { SEEN_LIMITS } from '../../../nodes/CalypsoPayTrigger/dedupe';
import { sealSecret } from '../../../nodes/CalypsoPayTrigger/secret';
import { sign } from '../../../nodes/CalypsoPay/transport/signing';
import { useEmulator } from '../../helpers/calypso';
import { createTriggerHarness } from '../../helpers/trigger';
import type { TriggerHarness } from '../../helpers/trigger';
import { SUBSCRIPTION_PATH } from '../../emulator';

const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const EXPIRED = 'CUSTOMER_PURSE_EXPIRED';
const H = 3600_000;

const server = useEmulator();

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(5);
	}
}

/** Calypso's createdDate: local date-time, no time zone (the emulator writes UTC). */
const createdAgo = (ms: number) => new Date(Date.now() - ms).toISOString().replace(/Z$/, '');

describe('the door', () => {
	let harness: TriggerHarness;
	const setup = async (parameters: Record<string, unknown> = {}) => {
		harness = await createTriggerHarness(server.credentials, { events: [FUNDS, EXPIRED], ...parameters });
		await harness.create();
		const requestId = harness.stored.requestId as string;
		const customer = server.emulator.seedCustomer({ externalId: 'door-1' });
		server.emulator.seedPurse(customer.id, 'BTC');
		const transactions = server.emulator.seedTransactions(customer.id, 130, { currency: 'USDT_TRX' });
		server.emulator.requests.length = 0;
		return { requestId, customer, transactions };
	};
	afterEach(async () => await harness?.close());
	const startedIds = () => harness.started.map((r) => r.workflowData![0][0].json.eventId);
	const outbound = () => server.emulator.requests.length;

	describe('closed to junk: the Key header is checked before anything else', () => {
		/**
		 * The credential was edited since publishing (the sealed secret no longer opens) and Calypso no longer lists
		 * the subscription: the node cannot verify anything. Requests are POSTed directly (the emulator knows no
		 * subscription to deliver for).
		 */
		const orphan = async () => {
			const setUp = await setup();
			const stored = harness.staticData[`node:${harness.node.name}`] as Record<string, unknown>;
			stored.sealedSecretKey = sealSecret('whatever', { apiKey: 'old', apiSecret: 'old' }, setUp.requestId);
			const subscription = server.emulator.subscriptions[0];
			server.emulator.state.subscriptions.clear();
			const body = JSON.stringify({ requestId: setUp.requestId, id: 77, eventType: FUNDS, data: {} });
			const post = async (headers: Record<string, string>) =>
				(
					await fetch(harness.url, {
						method: 'POST',
						headers: { 'Content-Type': 'application/json', ...headers },
						body,
					})
				).status;
			return { subscription, body, post };
		};

		test('20 requests with another Key header: 401, and not one request to Calypso', async () => {
			const { subscription, body, post } = await orphan();
			for (let i = 0; i < 20; i++) {
				expect(await post({ Key: `junk-${i}`, Sign: sign(subscription.secretKey, body) })).toBe(401);
			}
			expect(outbound()).toBe(0);
			expect(harness.started).toHaveLength(0);
		});

		test('20 unsigned and 20 forged requests with the right Key: 401, and at most one subscription-list call', async () => {
			const { subscription, body, post } = await orphan();
			const answers: number[] = [];
			for (let i = 0; i < 20; i++) answers.push(await post({ Key: subscription.publicKey }));
			for (let i = 0; i < 20; i++) {
				answers.push(await post({ Key: subscription.publicKey, Sign: sign(`forged-${i}`, body) }));
			}
			expect(answers).toEqual(Array(40).fill(401));
			const lists = server.emulator.requests.filter((r) => r.path === SUBSCRIPTION_PATH);
			expect(lists.length).toBeLessThanOrEqual(1);
			expect(outbound()).toBe(lists.length);
			expect(harness.started).toHaveLength(0);
		});
	});

	describe('closed to replays the record can no longer recognise', () => {
		test(`an event created more than ${SEEN_LIMITS.maxAgeS / 3600} h ago is answered 200 and not started; a 30 h old retry still runs`, async () => {
			const { requestId, customer } = await setup();
			const old = await server.emulator.deliverEvent(requestId, {
				eventType: EXPIRED,
				customerId: customer.id,
				createdDate: createdAgo(SEEN_LIMITS.maxAgeS * 1000 + H),
			});
			expect(old.status).toBe(200);
			expect(old.body).toEqual({
				message: expect.stringMatching(new RegExp(`^Event ${old.id} is older than`)),
			});
			const retry = await server.emulator.deliverEvent(requestId, {
				eventType: EXPIRED,
				customerId: customer.id,
				createdDate: createdAgo(30 * H),
			});
			expect(retry.status).toBe(200);
			expect(startedIds()).toEqual([retry.id]);
			expect(outbound()).toBe(0);
		});

		test(`with ${SEEN_LIMITS.maxIds} newer events in the record, an older event not in it is not started; a newer one is`, async () => {
			const { requestId, customer } = await setup();
			const base = Math.floor(Date.now() / 1000) - 3600;
			const seen: Record<string, number> = {};
			for (let i = 0; i < SEEN_LIMITS.maxIds; i++) seen[String(1_000_000 + i)] = base + i;
			const stored = harness.staticData[`node:${harness.node.name}`] as Record<string, unknown>;
			stored.seen = seen;
			const before = await server.emulator.deliverEvent(requestId, {
				eventType: EXPIRED,
				customerId: customer.id,
				createdDate: new Date((base - 60) * 1000).toISOString().replace(/Z$/, ''),
			});
			expect(before.status).toBe(200);
			expect(harness.started).toHaveLength(0);
			const after = await server.emulator.deliverEvent(requestId, {
				eventType: EXPIRED,
				customerId: customer.id,
				createdDate: new Date((base + 10) * 1000).toISOString().replace(/Z$/, ''),
			});
			expect(after.status).toBe(200);
			expect(startedIds()).toEqual([after.id]);
		});
	});

	describe('never the reason a subscription is blocked', () => {
		test('a failing transaction look-up: answered 200, the workflow gets transaction: null and the error', async () => {
			const { requestId, transactions } = await setup();
			server.emulator.injectFault({ path: 'transaction/get', status: 503, times: 3 });
			const delivery = await server.emulator.deliverEvent(requestId, { transactionId: transactions[0].id });
			expect(delivery.status).toBe(200);
			const [[item]] = harness.started[0].workflowData!;
			expect(item.json.transaction).toBeNull();
			expect(item.json.transactionError).toBe('Calypso error 000: Injected fault');
			const again = await server.emulator.deliverEvent(requestId, {}, { redeliver: delivery.id });
			expect(again.status).toBe(200);
			expect(startedIds()).toEqual([delivery.id]);
		}, 20_000);

		test('the look-up fails throughout an outage while 120 events and their re-deliveries come: every answer 200, each event run once', async () => {
			const { requestId, transactions } = await setup();
			server.emulator.injectFault({ path: 'transaction/get', status: 503, times: 1_000_000 });
			const statuses: number[] = [];
			const ids: number[] = [];
			const batch = 20;
			for (let i = 0; i < 120; i += batch) {
				const sent = await Promise.all(
					transactions
						.slice(i, i + batch)
						.map((t) => server.emulator.deliverEvent(requestId, { transactionId: t.id })),
				);
				ids.push(...sent.map((d) => d.id));
				statuses.push(...sent.map((d) => d.status));
				// Calypso re-sends what it has not seen answered: here, a re-delivery of each event of the batch.
				const again = await Promise.all(
					sent.map((d) => server.emulator.deliverEvent(requestId, {}, { redeliver: d.id })),
				);
				statuses.push(...again.map((d) => d.status));
			}
			expect(statuses.filter((s) => s !== 200)).toEqual([]);
			expect(startedIds().sort()).toEqual([...ids].sort());
			for (const r of harness.started) {
				expect(r.workflowData![0][0].json).toMatchObject({ transaction: null });
			}
		}, 120_000);
	});

	describe('a caller that hangs up', () => {
		test('Calypso hangs up while the transaction is confirmed: the event runs once, its re-delivery is answered 200 "already received"', async () => {
			const { requestId, transactions } = await setup();
			server.emulator.options.latencyMs = 300;
			const gone = await server.emulator
				.deliverEvent(requestId, { transactionId: transactions[0].id }, { timeoutMs: 100 })
				.then(
					() => 'answered',
					() => 'hung up',
				);
			expect(gone).toBe('hung up');
			await until(() => harness.started.length === 1, 'the workflow start');
			server.emulator.options.latencyMs = 0;
			const id = server.emulator.deliveries[0].id;
			let again = await server.emulator.deliverEvent(requestId, {}, { redeliver: id });
			// n8n answers the gone caller right after starting the execution; until then a re-delivery is in flight (503).
			for (let i = 0; i < 50 && again.status === 503; i++) {
				await sleep(20);
				again = await server.emulator.deliverEvent(requestId, {}, { redeliver: id });
			}
			expect([again.status, again.body]).toEqual([
				200,
				{ message: `Event ${id} was already received; ignored` },
			]);
			expect(startedIds()).toEqual([id]);
		});
	});

	test('a signed body that is not a JSON object is acknowledged (re-sending the same bytes cannot help) and starts nothing', async () => {
		await setup();
		const { secretKey, publicKey } = server.emulator.subscriptions[0];
		const body = '[1,2,3]';
		const response = await fetch(harness.url, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', Key: publicKey, Sign: sign(secretKey, body) },
			body,
		});
		expect(response.status).toBe(200);
		expect(harness.started).toHaveLength(0);
	});
});
