import { NodeApiError, NodeOperationError, Workflow } from 'n8n-workflow';
import type { IDataObject } from 'n8n-workflow';

import {
	EVENT_TYPES,
	eventKey,
	flattenEvent,
	isSelectedEvent,
	parseEvent,
	safeEqual,
	sameEvents,
	subscriptionsOf,
	transactionIdOf,
	verifyDelivery,
} from '../../../nodes/CalypsoPayTrigger/delivery';
import { CalypsoPayTrigger } from '../../../nodes/CalypsoPayTrigger/CalypsoPayTrigger.node';
import { sign } from '../../../nodes/CalypsoPay/transport/signing';
import { HINTS } from '../../../nodes/CalypsoPay/transport/errors';
import { CREDENTIAL_TEST_ERRORS } from '../../../nodes/CalypsoPay/transport/credentialTest';
import { openSecret } from '../../../nodes/CalypsoPayTrigger/secret';
import { createRecovery } from '../../../nodes/CalypsoPayTrigger/subscription';
import { useEmulator } from '../../helpers/calypso';
import { createTriggerHarness } from '../../helpers/trigger';
import type { TriggerHarness } from '../../helpers/trigger';
import { EVENT_TYPES as EMULATOR_EVENTS, SUBSCRIPTION_PATH } from '../../emulator';
import vector from '../../transport/vendor-vector.json';

const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const CREDITED = 'CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED';
const EXPIRED = 'CUSTOMER_PURSE_EXPIRED';
const MEMPOOL = 'CUSTOMER_PURSE_MEM_POOL_FOUND';

const KEYS = { publicKey: 'pub-0123', secretKey: 'sec-4567' };
const BODY = '{"requestId":"r","id":7,"eventType":"CUSTOMER_PURSE_EXPIRED","data":{"customerId":"c"}}';

describe('delivery verification (pure)', () => {
	test('the signature is the package signing helper, which matches the vendor vector', () => {
		const headers = { key: 'k', sign: vector.sign };
		expect(verifyDelivery(vector.body, headers, { publicKey: 'k', secretKey: vector.apiSecret })).toEqual({
			ok: true,
		});
		expect(
			verifyDelivery(Buffer.from(vector.body), headers, { publicKey: 'k', secretKey: vector.apiSecret }),
		).toEqual({ ok: true });
		expect(sign(vector.apiSecret, Buffer.from(vector.body))).toBe(vector.sign);
	});

	test('a correctly signed body passes; upper-case hex and surrounding spaces are tolerated', () => {
		const good = sign(KEYS.secretKey, BODY);
		expect(verifyDelivery(BODY, { key: KEYS.publicKey, sign: good }, KEYS).ok).toBe(true);
		expect(verifyDelivery(BODY, { key: ` ${KEYS.publicKey}`, sign: good.toUpperCase() }, KEYS).ok).toBe(true);
	});

	test.each([
		['no Sign header', { key: KEYS.publicKey }, /Sign header is missing/],
		['no Key header', { sign: 'x' }, /Key header is missing/],
		['another Key', { key: 'pub-0124', sign: sign(KEYS.secretKey, BODY) }, /Key header/],
		['signed with another secret', { key: KEYS.publicKey, sign: sign('other', BODY) }, /does not match/],
		[
			'signed with the API secret',
			{ key: KEYS.publicKey, sign: sign(vector.apiSecret, BODY) },
			/does not match/,
		],
		[
			'a truncated signature',
			{ key: KEYS.publicKey, sign: sign(KEYS.secretKey, BODY).slice(0, 64) },
			/does not match/,
		],
		[
			'two Sign headers',
			{ key: KEYS.publicKey, sign: [sign(KEYS.secretKey, BODY), 'x'] },
			/Sign header is missing/,
		],
	])('refused: %s', (_name, headers, reason) => {
		const verdict = verifyDelivery(BODY, headers, KEYS);
		expect(verdict.ok).toBe(false);
		expect(!verdict.ok && verdict.reason).toMatch(reason);
	});

	test('a body changed by one byte after signing is refused (no re-serialisation)', () => {
		const signature = sign(KEYS.secretKey, BODY);
		const reformatted = JSON.stringify(JSON.parse(BODY), null, 1);
		expect(verifyDelivery(reformatted, { key: KEYS.publicKey, sign: signature }, KEYS).ok).toBe(false);
		expect(verifyDelivery(`${BODY} `, { key: KEYS.publicKey, sign: signature }, KEYS).ok).toBe(false);
	});

	test('nothing verifies without stored keys', () => {
		const verdict = verifyDelivery(BODY, { key: '', sign: sign('', BODY) }, {});
		expect(verdict).toEqual({ ok: false, reason: expect.stringMatching(/no subscription keys/) });
	});

	test('safeEqual compares whole strings of any length', () => {
		expect(safeEqual('abc', 'abc')).toBe(true);
		expect(safeEqual('abc', 'abd')).toBe(false);
		expect(safeEqual('abc', 'abcd')).toBe(false);
		expect(safeEqual('', '')).toBe(true);
		expect(safeEqual('é', 'e')).toBe(false);
	});
});

describe('envelope handling (pure)', () => {
	const envelope = {
		requestId: 'b7d0c2b4-5f1e-4c49-9a55-6f1f6a3f0c11',
		id: 1042,
		createdDate: '2025-03-01T10:20:30.123',
		level: 'SUCCESS',
		service: 'CUSTOMER_PURSE',
		eventType: FUNDS,
		data: {
			customerId: 'c1',
			customerBlocked: false,
			purseId: 'p1',
			address: 'TXYZ',
			transactionId: 't1',
			amount: 12.5,
			currency: 'USDT_TRX',
		},
	};

	test('flattenEvent: envelope fields, then data fields, then raw', () => {
		const item = flattenEvent(envelope);
		expect(item).toEqual({
			eventId: 1042,
			eventType: FUNDS,
			level: 'SUCCESS',
			service: 'CUSTOMER_PURSE',
			createdDate: '2025-03-01T10:20:30.123',
			requestId: envelope.requestId,
			customerId: 'c1',
			customerBlocked: false,
			purseId: 'p1',
			address: 'TXYZ',
			transactionId: 't1',
			amount: 12.5,
			currency: 'USDT_TRX',
			raw: envelope,
		});
		expect(Object.keys(item).slice(0, 7)).toEqual([
			'eventId',
			'eventType',
			'level',
			'service',
			'createdDate',
			'requestId',
			'customerId',
		]);
	});

	test('flattenEvent: data cannot overwrite envelope fields; missing parts are left out', () => {
		const item = flattenEvent({ id: 1, eventType: EXPIRED, data: { eventType: 'X', raw: 1, extra: 'kept' } });
		expect(item).toEqual({ eventId: 1, eventType: EXPIRED, extra: 'kept', raw: expect.any(Object) });
		expect(flattenEvent({ id: 2 })).toEqual({ eventId: 2, raw: { id: 2 } });
	});

	test('parseEvent keeps a top-level numeric id above 2^53 as its text; other ids are untouched', () => {
		expect(parseEvent('{"id":9007199254740993,"eventType":"X"}')?.id).toBe('9007199254740993');
		expect(parseEvent('{ "data" : {"id": 1, "s": "\\"}" }, "id" : 12345678901234567890 }')?.id).toBe(
			'12345678901234567890',
		);
		expect(parseEvent('{"id":9007199254740991}')?.id).toBe(9007199254740991);
		expect(parseEvent('{"id":"abc"}')?.id).toBe('abc');
		expect(eventKey(parseEvent('{"id":9007199254740993}')!)).not.toBe(
			eventKey(parseEvent('{"id":9007199254740992}')!),
		);
		expect(isSelectedEvent({ eventType: FUNDS }, [FUNDS])).toBe(true);
		expect(isSelectedEvent({ eventType: [FUNDS] } as never, [FUNDS])).toBe(false);
		expect(isSelectedEvent({}, [FUNDS])).toBe(false);
	});

	test('parseEvent accepts JSON objects only', () => {
		expect(parseEvent(Buffer.from(JSON.stringify(envelope)))).toEqual(envelope);
		expect(parseEvent('{"id":1}')).toEqual({ id: 1 });
		for (const body of ['', 'not json', '[1]', 'null', '42']) expect(parseEvent(body)).toBeUndefined();
	});

	test('eventKey and transactionIdOf', () => {
		expect(eventKey(envelope)).toBe('1042');
		expect(eventKey({ id: 'abc' })).toBe('abc');
		expect(eventKey({})).toBeUndefined();
		expect(eventKey({ id: '' })).toBeUndefined();
		expect(transactionIdOf(envelope)).toBe('t1');
		expect(transactionIdOf({ data: { customerId: 'c' } })).toBeUndefined();
	});

	test('subscriptionsOf and sameEvents', () => {
		expect(subscriptionsOf({ subscriptions: [{ requestId: 'a' }, null] })).toEqual([{ requestId: 'a' }]);
		expect(subscriptionsOf([{ requestId: 'b' }])).toEqual([{ requestId: 'b' }]);
		expect(subscriptionsOf({})).toEqual([]);
		expect(subscriptionsOf('x')).toEqual([]);
		expect(sameEvents([FUNDS, EXPIRED], [EXPIRED, FUNDS])).toBe(true);
		expect(sameEvents([FUNDS], [EXPIRED, FUNDS])).toBe(false);
		expect(sameEvents(undefined, [FUNDS])).toBe(false);
	});

	test('the node offers exactly the events the emulator (and the notes) know', () => {
		expect([...EVENT_TYPES].sort()).toEqual([...EMULATOR_EVENTS].sort());
	});
});

describe('node description', () => {
	const { description } = new CalypsoPayTrigger();
	test('a trigger with one POST webhook answering on receipt, not a tool', () => {
		expect(description.name).toBe('calypsoPayTrigger');
		expect(description.displayName).toBe('Calypso Pay Trigger');
		expect(description.group).toEqual(['trigger']);
		expect(description.inputs).toEqual([]);
		expect(description.usableAsTool).toBeUndefined();
		expect(description.credentials).toEqual([
			{ name: 'calypsoPayApi', required: true, testedBy: 'calypsoPayApiTest' },
		]);
		expect(description.webhooks).toEqual([
			{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'webhook' },
		]);
		const confirm = description.properties.find((p) => p.name === 'confirmTransaction');
		expect(confirm?.default).toBe(true);
	});

	test.each([
		[[FUNDS], '1 event'],
		[[FUNDS, CREDITED], '2 events'],
		[[], '0 events'],
	])('the subtitle, as n8n evaluates it, for %j is "%s"', (events, subtitle) => {
		const node = {
			id: 'n',
			name: 'Calypso Pay Trigger',
			type: 'n8n-nodes-calypso-pay.calypsoPayTrigger',
			typeVersion: 1,
			position: [0, 0] as [number, number],
			parameters: { events },
		};
		const trigger = new CalypsoPayTrigger();
		const workflow = new Workflow({
			nodes: [node],
			connections: {},
			active: false,
			nodeTypes: { getByName: () => trigger, getByNameAndVersion: () => trigger, getKnownTypes: () => ({}) },
		});
		expect(workflow.expression.getSimpleParameterValue(node, description.subtitle!, 'internal', {})).toBe(
			subtitle,
		);
	});
});

const server = useEmulator();

describe('subscription lifecycle (n8n HookContext → emulator)', () => {
	let harness: TriggerHarness;
	const window = createRecovery.windowMs;
	beforeEach(async () => {
		createRecovery.windowMs = 1000;
		harness = await createTriggerHarness(server.credentials, { events: [FUNDS, CREDITED] });
	});
	afterEach(async () => {
		createRecovery.windowMs = window;
		await harness.close();
	});

	const subscriptionRequests = () =>
		server.emulator.requests.filter((r) => r.path.startsWith(SUBSCRIPTION_PATH));

	test('checkExists with nothing stored: one look at the list, nothing of this trigger there → false', async () => {
		expect(await harness.checkExists()).toBe(false);
		expect(subscriptionRequests().map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${SUBSCRIPTION_PATH}`]);
	});

	test('create subscribes this webhook URL to the events, signed with the API key, and stores the keys', async () => {
		expect(await harness.create()).toBe(true);
		const [request] = subscriptionRequests();
		expect(request.method).toBe('POST');
		expect(request.path).toBe(`${SUBSCRIPTION_PATH}/create`);
		expect(request.headers.key).toBe(server.credentials.apiKey);
		expect(request.headers.sign).toBe(sign(server.credentials.apiSecret, request.rawBody));
		expect(request.body?.payload).toEqual({
			requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
			notificationEventTypes: [FUNDS, CREDITED],
			notificationServiceTypes: ['CUSTOMER_PURSE'],
			url: harness.url,
		});
		const [subscription] = server.emulator.subscriptions;
		expect(subscription.url).toBe(harness.url);
		expect({ ...harness.stored }).toEqual({
			requestId: subscription.requestId,
			url: harness.url,
			events: [FUNDS, CREDITED],
			publicKey: subscription.publicKey,
			sealedSecretKey: expect.stringMatching(/^v1\./),
		});
		expect(openSecret(harness.stored.sealedSecretKey, server.credentials, subscription.requestId)).toBe(
			subscription.secretKey,
		);
		expect(harness.url).toMatch(/\/webhook\/8a1e2f7c-0000-4000-8000-00000000beef\/webhook$/);
	});

	test('checkExists finds the stored subscription in the list (a signed POST without payload)', async () => {
		await harness.create();
		expect(await harness.checkExists()).toBe(true);
		const list = subscriptionRequests().at(-1)!;
		expect(list.method).toBe('POST');
		expect(list.path).toBe(SUBSCRIPTION_PATH);
		expect(list.body).toEqual({ account: server.credentials.account, timestamp: expect.any(Number) });
		expect(server.emulator.subscriptions).toHaveLength(1);
	});

	test('checkExists: gone at Calypso → false and the stale static data is cleared', async () => {
		await harness.create();
		server.emulator.state.subscriptions.clear();
		expect(await harness.checkExists()).toBe(false);
		expect({ ...harness.stored }).toEqual({});
		expect(await harness.create()).toBe(true);
		expect(server.emulator.subscriptions).toHaveLength(1);
	});

	test('checkExists: events changed → the old subscription is deleted, then a new one is made', async () => {
		await harness.create();
		const old = server.emulator.subscriptions[0].requestId;
		harness.setParameters({ events: [EXPIRED] });
		expect(await harness.checkExists()).toBe(false);
		expect(server.emulator.subscriptions).toHaveLength(0);
		const deletion = subscriptionRequests().at(-1)!;
		expect([deletion.method, deletion.body?.payload]).toEqual(['DELETE', { requestId: old }]);
		await harness.create();
		expect(server.emulator.subscriptions.map((s) => s.notificationEventTypes)).toEqual([[EXPIRED]]);
	});

	test('checkExists: same requestId but another URL (N8N_WEBHOOK_URL changed) → replaced', async () => {
		await harness.create();
		server.emulator.subscriptions[0].url = 'https://old-host.example.com/webhook/x/webhook';
		expect(await harness.checkExists()).toBe(false);
		expect(server.emulator.subscriptions).toHaveLength(0);
	});

	test('delete sends DELETE {requestId} and clears the static data', async () => {
		await harness.create();
		const { requestId } = harness.stored;
		expect(await harness.delete()).toBe(true);
		const deletion = subscriptionRequests().at(-1)!;
		expect(deletion.method).toBe('DELETE');
		expect(deletion.path).toBe(SUBSCRIPTION_PATH);
		expect(deletion.body?.payload).toEqual({ requestId });
		expect(deletion.headers.sign).toBe(sign(server.credentials.apiSecret, deletion.rawBody));
		expect(server.emulator.subscriptions).toHaveLength(0);
		expect({ ...harness.stored }).toEqual({});
	});

	test('delete of a subscription Calypso no longer has succeeds; with nothing stored it only looks, even when that fails', async () => {
		await harness.create();
		server.emulator.state.subscriptions.clear();
		expect(await harness.delete()).toBe(true);
		expect({ ...harness.stored }).toEqual({});
		const before = server.emulator.requests.length;
		expect(await harness.delete()).toBe(true);
		expect(server.emulator.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
			`POST ${SUBSCRIPTION_PATH}`,
		]);
		server.emulator.injectFault({ path: SUBSCRIPTION_PATH, method: 'POST', status: 400 });
		expect(await harness.delete()).toBe(true);
	});

	test('create without events is refused before anything is sent', async () => {
		harness.setParameters({ events: [] });
		await expect(harness.create()).rejects.toThrow(NodeOperationError);
		await expect(harness.create()).rejects.toThrow('Select at least one event to listen to');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('API errors are thrown as NodeApiError, never swallowed (create, checkExists, delete)', async () => {
		server.emulator.injectFault({
			path: '/webhook/create',
			status: 400,
			body: { errorCode: '003', message: 'Wrong sign', traceId: 'abc' },
		});
		const error = await harness.create().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).message).toBe(`Calypso error 003: Wrong sign. ${HINTS['003']}`);
		expect({ ...harness.stored }).toEqual({});

		await harness.create();
		server.emulator.injectFault({ path: SUBSCRIPTION_PATH, method: 'POST', status: 400 });
		await expect(harness.checkExists()).rejects.toThrow(NodeApiError);
		server.emulator.injectFault({ path: SUBSCRIPTION_PATH, method: 'DELETE', status: 400 });
		await expect(harness.delete()).rejects.toThrow(NodeApiError);
		expect(harness.stored.requestId).toBeDefined(); // kept: the subscription still exists
	});

	test.each([
		['002', 'a wrong API Key', 'apiKey', 0],
		['003', 'a wrong Secret Key', 'apiSecret', 0],
		['011', 'a clock 10 minutes off', undefined, 10 * 60_000],
	] as const)(
		'publishing with %s (%s) fails with the credential Test’s hint in the message n8n shows',
		async (code, _name, wrongField, clockOffsetMs) => {
			const credentials: Record<string, string> = { ...server.credentials };
			if (wrongField) credentials[wrongField] = `${credentials[wrongField]}-other`;
			const failing = await createTriggerHarness(credentials, { events: [FUNDS] });
			server.emulator.options.clockOffsetMs = clockOffsetMs;
			try {
				const error = (await failing.create().catch((e: unknown) => e)) as NodeApiError;
				expect(error).toBeInstanceOf(NodeApiError);
				expect(error.message).toMatch(new RegExp(`^Calypso error ${code}: `));
				expect(error.message.endsWith(`. ${HINTS[code]}`)).toBe(true);
				expect(CREDENTIAL_TEST_ERRORS[code]).toContain(HINTS[code]);
				expect(server.emulator.subscriptions).toHaveLength(0);
			} finally {
				await failing.close();
			}
		},
	);

	test('an unclear create (processed, then 504) is not re-sent: the list shows it was made, and it is adopted', async () => {
		server.emulator.injectFault({ path: '/webhook/create', afterProcessing: true, status: 504 });
		expect(await harness.create()).toBe(true);
		expect(server.emulator.subscriptions).toHaveLength(1);
		expect(subscriptionRequests().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
			`POST ${SUBSCRIPTION_PATH}/create 504`,
			`POST ${SUBSCRIPTION_PATH} 200`,
		]);
		const [adopted] = server.emulator.subscriptions;
		expect(openSecret(harness.stored.sealedSecretKey, server.credentials, adopted.requestId)).toBe(
			adopted.secretKey,
		);
	});

	test('an unclear create that Calypso did not make: looked for until the window ends, then the original error, never re-sent', async () => {
		server.emulator.injectFault({ path: '/webhook/create', status: 504 });
		const error = await harness.create().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).errorResponse?.httpCode).toBe('504');
		expect((error as NodeApiError).message).toMatch(
			/^The webhook subscription may or may not have been created: Calypso error 000/,
		);
		expect((error as NodeApiError).description).toMatch(/did not appear .* within 1 s.*Publish again/);
		expect(server.emulator.subscriptions).toHaveLength(0);
		const sent = subscriptionRequests().map((r) => `${r.method} ${r.path}`);
		expect(sent[0]).toBe(`POST ${SUBSCRIPTION_PATH}/create`);
		expect(sent.slice(1).every((r) => r === `POST ${SUBSCRIPTION_PATH}`)).toBe(true);
		expect(sent.length).toBeGreaterThan(2);
	});
});

describe('subscription care: unclear creates, leftovers, blocked subscriptions (issue 18)', () => {
	let harness: TriggerHarness;
	const window = createRecovery.windowMs;
	beforeEach(async () => {
		createRecovery.windowMs = 30_000; // looking stops as soon as it appears
		harness = await createTriggerHarness(server.credentials, { events: [FUNDS, CREDITED] });
	});
	afterEach(async () => {
		createRecovery.windowMs = window;
		await harness.close();
	});
	const creates = () =>
		server.emulator.requests.filter((r) => r.path === `${SUBSCRIPTION_PATH}/create`).length;
	const keysOpen = (requestId: string) =>
		openSecret(harness.stored.sealedSecretKey, server.credentials, requestId) ===
		server.emulator.state.subscriptions.get(requestId)?.secretKey;

	test('a create Calypso answers 504 at once but makes a moment later is found by looking again, not made twice', async () => {
		server.emulator.injectFault({ path: '/webhook/create', status: 504, landAfterMs: 800 });
		expect(await harness.create()).toBe(true);
		expect(creates()).toBe(1);
		expect(server.emulator.subscriptions).toHaveLength(1);
		const [made] = server.emulator.subscriptions;
		expect(harness.stored.requestId).toBe(made.requestId);
		expect(keysOpen(made.requestId)).toBe(true);
	});

	test('a create made after publishing gave up is adopted by the next publish: still one subscription', async () => {
		createRecovery.windowMs = 200;
		server.emulator.injectFault({ path: '/webhook/create', drop: true });
		await expect(harness.create()).rejects.toThrow(/^The webhook subscription may or may not have been created/);
		expect({ ...harness.stored }).toEqual({});
		// Calypso makes it only now, after the node stopped looking: the create it received, processed late
		const [sent] = server.emulator.requests.filter((r) => r.path === `${SUBSCRIPTION_PATH}/create`);
		const payload = sent.body!.payload as { requestId: string; notificationEventTypes: string[]; url: string };
		server.emulator.state.subscriptions.set(payload.requestId, {
			requestId: payload.requestId,
			notificationEventTypes: payload.notificationEventTypes,
			notificationServiceTypes: ['CUSTOMER_PURSE'],
			url: payload.url,
			publicKey: 'late-public-key',
			secretKey: 'late-secret-key',
			createdDate: '2026-01-01T00:00:00',
			state: 'ACTIVE',
		});
		// the next publish: checkExists finds it by this trigger's URL and uses it; n8n then calls no create
		expect(await harness.checkExists()).toBe(true);
		const [late] = server.emulator.subscriptions;
		expect(harness.stored).toMatchObject({ requestId: late.requestId, url: harness.url, events: [FUNDS, CREDITED] });
		expect(keysOpen(late.requestId)).toBe(true);
		expect(creates()).toBe(1);
		const delivered = await server.emulator.deliverEvent(late);
		expect(delivered.status).toBe(200);
	});

	test('leftovers for this URL that do not fit are deleted on publish; other URLs are left alone; unpublish leaves none', async () => {
		await harness.create();
		const leftover = server.emulator.subscriptions[0].requestId;
		for (const key of Object.keys(harness.stored)) delete harness.stored[key]; // static data lost
		harness.setParameters({ events: [EXPIRED] });
		server.emulator.state.subscriptions.set('b6c3e2a0-0000-4000-8000-000000000001', {
			...server.emulator.state.subscriptions.get(leftover)!,
			requestId: 'b6c3e2a0-0000-4000-8000-000000000001',
			url: 'https://elsewhere.example.com/webhook/other/webhook',
		});
		expect(await harness.checkExists()).toBe(false);
		expect(server.emulator.subscriptions.map((s) => s.url)).toEqual([
			'https://elsewhere.example.com/webhook/other/webhook',
		]);
		await harness.create();
		// a second one for this URL appears (a late create): unpublishing deletes both
		server.emulator.state.subscriptions.set('b6c3e2a0-0000-4000-8000-000000000002', {
			...server.emulator.subscriptions.find((s) => s.url === harness.url)!,
			requestId: 'b6c3e2a0-0000-4000-8000-000000000002',
		});
		expect(await harness.delete()).toBe(true);
		expect(server.emulator.subscriptions.map((s) => s.url)).toEqual([
			'https://elsewhere.example.com/webhook/other/webhook',
		]);
		expect({ ...harness.stored }).toEqual({});
	});

	test('a blocked subscription: publishing fails, every time (n8n retries), saying what to do; it is kept, and used again once unblocked', async () => {
		await harness.create();
		const [sub] = server.emulator.subscriptions;
		server.emulator.setSubscriptionState(sub.requestId, 'BLOCKED');
		const stored = { ...harness.stored };
		for (let attempt = 0; attempt < 2; attempt++) {
			const error = (await harness.checkExists().catch((e: unknown) => e)) as NodeOperationError;
			expect(error).toBeInstanceOf(NodeOperationError);
			expect(error.message).toBe(
				"Calypso has blocked this trigger's webhook subscription, so it delivers no events: unblock it in Calypso's dashboard (Calypso then re-sends the failed events), then publish this workflow again",
			);
			expect(error.description).toContain(sub.requestId);
		}
		expect(server.emulator.subscriptions.map((s) => s.requestId)).toEqual([sub.requestId]);
		expect({ ...harness.stored }).toEqual(stored);
		await server.emulator.unblockSubscription(sub.requestId);
		expect(await harness.checkExists()).toBe(true);
		expect({ ...harness.stored }).toEqual(stored);
		expect(server.emulator.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
	});

	test('n8n starting a published workflow (activation init) keeps a blocked subscription without failing', async () => {
		await harness.create();
		const [sub] = server.emulator.subscriptions;
		server.emulator.setSubscriptionState(sub.requestId, 'BLOCKED');
		harness.setParameters({ events: [EXPIRED] });
		harness.activation = 'init';
		expect(await harness.checkExists()).toBe(true);
		expect(harness.stored.requestId).toBe(sub.requestId);
		expect(server.emulator.subscriptions.map((s) => [s.requestId, s.state])).toEqual([[sub.requestId, 'BLOCKED']]);
	});

	test('re-publishing (delete, then checkExists, rolled back) or unpublishing never deletes a blocked subscription, whatever changed', async () => {
		await harness.create();
		const [sub] = server.emulator.subscriptions;
		server.emulator.setSubscriptionState(sub.requestId, 'BLOCKED');
		expect(await harness.delete()).toBe(true);
		expect(server.emulator.subscriptions).toHaveLength(1);
		expect(harness.stored.requestId).toBe(sub.requestId);
		harness.setParameters({ events: [EXPIRED] });
		await expect(harness.checkExists()).rejects.toThrow(/has blocked this trigger's webhook subscription/);
		expect(await harness.delete()).toBe(true); // n8n rolls the failed publication back
		await expect(harness.checkExists()).rejects.toThrow(/has blocked this trigger's webhook subscription/);
		expect(server.emulator.subscriptions.map((s) => [s.requestId, s.state])).toEqual([[sub.requestId, 'BLOCKED']]);
		expect(harness.stored.requestId).toBe(sub.requestId);
		expect(server.emulator.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
	});

	test('blocked by Calypso after more than 100 failed deliveries in 10 minutes: publishing says so; unblocking re-sends them and they start the workflow', async () => {
		let now = Date.now();
		server.emulator.options.clock = () => now;
		await harness.create();
		const [sub] = server.emulator.subscriptions;
		harness.dropRawBody = true; // every delivery fails (500): n8n without the raw body
		for (let i = 0; i < 100; i++) await server.emulator.deliverEvent(sub);
		now += 10 * 60_000;
		await server.emulator.deliverEvent(sub);
		expect(server.emulator.subscriptionHealth(sub.requestId)).toMatchObject({ state: 'BLOCKED', errors: 101 });
		const unsent = await server.emulator.deliverEvent(sub);
		expect(unsent.sent).toBe(false);
		expect(harness.received).toHaveLength(101);
		expect(harness.started).toHaveLength(0);

		await expect(harness.checkExists()).rejects.toThrow(/unblock it in Calypso's dashboard/);
		harness.dropRawBody = false;
		const resent = await server.emulator.unblockSubscription(sub.requestId);
		expect(resent).toHaveLength(102);
		expect(resent.every((r) => r.status === 200)).toBe(true);
		expect(harness.started).toHaveLength(102);
		expect(server.emulator.subscriptionHealth(sub.requestId)).toMatchObject({ state: 'ACTIVE', errors: 0 });
		expect(await harness.checkExists()).toBe(true);
	});
});

describe('webhook deliveries (n8n WebhookContext behind a loopback endpoint)', () => {
	let harness: TriggerHarness;
	const setup = async (parameters: IDataObject = {}) => {
		harness = await createTriggerHarness(server.credentials, {
			events: [FUNDS, CREDITED, EXPIRED],
			...parameters,
		});
		await harness.create();
		const requestId = harness.stored.requestId as string;
		const customer = server.emulator.seedCustomer({ externalId: 'user-42' });
		const [transaction] = server.emulator.seedTransactions(customer.id, 1, {
			currency: 'USDT_TRX',
			amount: 25,
		});
		server.emulator.requests.length = 0;
		return { requestId, customer, transaction };
	};
	afterEach(async () => await harness?.close());

	const transactionGets = () =>
		server.emulator.requests.filter((r) => r.path === '/api/v1/customer-purse/transaction/get');

	test('a signed delivery starts the workflow with one flat item and the confirmed transaction', async () => {
		const { requestId, customer, transaction } = await setup();
		const delivery = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		expect(delivery.status).toBe(200);
		expect(harness.started).toHaveLength(1);
		const [[item]] = harness.started[0].workflowData!;
		const purse = server.emulator.seedPurse(customer.id, 'USDT_TRX');
		expect(item.json).toEqual({
			eventId: delivery.id,
			eventType: FUNDS,
			level: 'SUCCESS',
			service: 'CUSTOMER_PURSE',
			createdDate: delivery.envelope.createdDate,
			requestId,
			customerId: customer.id,
			customerBlocked: false,
			purseId: purse.id,
			address: purse.address,
			transactionId: transaction.id,
			amount: 25,
			currency: 'USDT_TRX',
			raw: delivery.envelope,
			transaction,
		});
		expect(transactionGets().map((r) => r.body?.payload)).toEqual([{ transactionId: transaction.id }]);
		const text = JSON.stringify(harness.started);
		expect(text).not.toContain(server.emulator.subscriptions[0].secretKey);
		expect(text).not.toContain(server.credentials.apiSecret);
	});

	test.each([
		['forged (wrong secret)', { forge: true }],
		['unsigned', { unsigned: true }],
		['another Key', { key: 'not-the-public-key' }],
		['changed after signing', { tamper: (body: string) => body.replace('"amount":25', '"amount":2500') }],
	])('%s → 401 and no workflow', async (_name, opts) => {
		const { requestId, transaction } = await setup();
		const delivery = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id }, opts);
		expect(delivery.status).toBe(401);
		expect(delivery.body).toEqual({ message: expect.stringMatching(/^Calypso signature check failed: /) });
		expect(harness.received).toHaveLength(1);
		expect(harness.started).toHaveLength(0);
		expect(transactionGets()).toHaveLength(0);
	});

	test('a re-delivered event (same bytes) is answered 200 but starts nothing, across fresh static data', async () => {
		const { requestId, transaction } = await setup();
		const first = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		const again = await server.emulator.deliverEvent(requestId, {}, { redeliver: first.id });
		expect(again.rawBody).toBe(first.rawBody);
		expect(again.status).toBe(200);
		expect(again.body).toEqual({ message: `Event ${first.id} was already received; ignored` });
		const next = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		expect(next.id).toBe(first.id + 1);
		expect(harness.started.map((r) => r.workflowData![0][0].json.eventId)).toEqual([first.id, next.id]);
		expect(transactionGets()).toHaveLength(2);
	});

	test('a forged delivery does not use up the event id: the genuine one still starts the workflow', async () => {
		const { requestId, transaction } = await setup();
		const forged = await server.emulator.deliverEvent(
			requestId,
			{ transactionId: transaction.id },
			{ forge: true },
		);
		expect(forged.status).toBe(401);
		const genuine = await server.emulator.deliverEvent(requestId, {}, { redeliver: forged.id });
		expect(genuine.status).toBe(200);
		expect(harness.started).toHaveLength(1);
	});

	test('a pretty-printed body with \\u escapes verifies against the bytes received and starts the workflow', async () => {
		const { requestId, customer } = await setup();
		server.emulator.seedPurse(customer.id, 'BTC');
		const serialize = (envelope: object) =>
			JSON.stringify(envelope, null, 2).replace(
				/[^\x20-\x7e\n]|[<>&]/g,
				(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
			);
		const delivery = await server.emulator.deliverEvent(
			requestId,
			{ eventType: EXPIRED, customerId: customer.id, data: { note: 'Dépôt <€ 5>' } },
			{ serialize },
		);
		expect(delivery.rawBody).toContain('\n  "requestId"');
		expect(delivery.rawBody).toContain('D\\u00e9p\\u00f4t \\u003c\\u20ac 5\\u003e');
		expect(delivery.rawBody).not.toBe(JSON.stringify(JSON.parse(delivery.rawBody)));
		expect(delivery.status).toBe(200);
		expect(harness.started).toHaveLength(1);
		expect(harness.started[0].workflowData![0][0].json).toMatchObject({ note: 'Dépôt <€ 5>' });
	});

	test('without the raw bytes (rawBody) nothing is verified from a re-serialised body: 500, no workflow', async () => {
		const { requestId, transaction } = await setup();
		harness.dropRawBody = true;
		const delivery = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		expect(delivery.status).toBe(500);
		expect(delivery.body).toEqual({ message: expect.stringMatching(/did not keep the raw body/) });
		expect(harness.started).toHaveLength(0);
		harness.dropRawBody = false;
		expect((await server.emulator.deliverEvent(requestId, {}, { redeliver: true })).status).toBe(200);
		expect(harness.started).toHaveLength(1);
	});

	test('Confirm Transaction off: no lookup, no transaction field', async () => {
		const { requestId, transaction } = await setup({ confirmTransaction: false });
		await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		const [[item]] = harness.started[0].workflowData!;
		expect(item.json.transactionId).toBe(transaction.id);
		expect(item.json).not.toHaveProperty('transaction');
		expect(transactionGets()).toHaveLength(0);
	});

	test('a purse event (no transactionId) is not looked up', async () => {
		const { requestId, customer } = await setup();
		server.emulator.seedPurse(customer.id, 'BTC');
		await server.emulator.deliverEvent(requestId, { eventType: EXPIRED, customerId: customer.id });
		const [[item]] = harness.started[0].workflowData!;
		expect(item.json).toMatchObject({ eventType: EXPIRED, level: 'WARNING', customerId: customer.id });
		expect(item.json).not.toHaveProperty('transaction');
		expect(transactionGets()).toHaveLength(0);
	});

	test('a transaction Calypso does not know (004) is delivered with transaction: null and the reason', async () => {
		const { requestId, customer } = await setup();
		const unknown = '00000000-0000-4000-8000-000000000000';
		await server.emulator.deliverEvent(requestId, {
			customerId: customer.id,
			data: { transactionId: unknown, amount: 1, currency: 'BTC' },
		});
		const [[item]] = harness.started[0].workflowData!;
		expect(item.json.transaction).toBeNull();
		expect(item.json.transactionError).toBe('Calypso error 004: Transaction not found');
	});

	test('a failing lookup: the delivery is still answered 200 and the workflow gets the error (Calypso would block a subscription that keeps failing)', async () => {
		const { requestId, transaction } = await setup();
		server.emulator.injectFault({ path: 'transaction/get', status: 503, times: 3 });
		const first = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		expect(first.status).toBe(200);
		expect(transactionGets()).toHaveLength(3); // first attempt + 2 quick retries
		expect(harness.started).toHaveLength(1);
		expect(harness.started[0].workflowData![0][0].json).toMatchObject({
			transaction: null,
			transactionError: 'Calypso error 000: Injected fault',
		});
		const retry = await server.emulator.deliverEvent(requestId, {}, { redeliver: first.id });
		expect(retry.status).toBe(200);
		expect(harness.started).toHaveLength(1);
	}, 20_000);

	test('a lookup answer trickled a byte at a time is cut at the 10 s deadline and tried again (issue 16, item 4)', async () => {
		const { requestId, transaction } = await setup();
		server.emulator.injectFault({ path: 'transaction/get', trickleMs: 300 });
		const delivery = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		expect(delivery.status).toBe(200);
		const [trickled, retried] = transactionGets();
		expect(trickled.finished).toBe(false);
		expect(trickled.bodyBytesSent).toBeLessThan(trickled.bodyBytes ?? 0);
		expect(retried.finished).toBe(true);
		expect(harness.started[0].workflowData![0][0].json.transaction).toEqual(transaction);
	}, 60_000);

	test('an event type not selected in the node is acknowledged and ignored', async () => {
		const { requestId, customer } = await setup();
		const delivery = await server.emulator.deliverEvent(
			requestId,
			{ eventType: MEMPOOL, customerId: customer.id },
			{ anyEvent: true },
		);
		expect(delivery.status).toBe(200);
		expect(delivery.body).toEqual({ message: `Event ${MEMPOOL} is not selected in this trigger; ignored` });
		expect(harness.started).toHaveLength(0);
	});

	test.each([
		['a number', 42, '42'],
		['a list holding a selected type', [FUNDS], `["${FUNDS}"]`],
		['missing', undefined, 'none'],
	])(
		'an eventType that is %s does not pass the event filter: acknowledged and ignored',
		async (_, eventType, shown) => {
			const { requestId, customer } = await setup();
			const delivery = await server.emulator.deliverEvent(
				requestId,
				{ eventType: EXPIRED, customerId: customer.id },
				{ serialize: (envelope: object) => JSON.stringify({ ...envelope, eventType }) },
			);
			expect(delivery.status).toBe(200);
			expect(delivery.body).toEqual({
				message: `An event without a text eventType (${shown}) is not selected in this trigger; ignored`,
			});
			expect(harness.started).toHaveLength(0);
		},
	);

	test('event ids above 2^53 stay distinct: kept as the text Calypso sent, each event runs once', async () => {
		const { requestId, customer } = await setup();
		// 2^53 + 1 and 2^53 are the same JavaScript number once parsed.
		const ids = ['9007199254740993', '9007199254740992'];
		for (const id of ids) {
			const delivery = await server.emulator.deliverEvent(
				requestId,
				{ eventType: EXPIRED, customerId: customer.id },
				{
					serialize: (envelope: object) =>
						JSON.stringify(envelope).replace(/"id":\d+/, `"id":${id}`),
				},
			);
			expect(delivery.status).toBe(200);
		}
		expect(harness.started.map((run) => run.workflowData![0][0].json.eventId)).toEqual(ids);
		const again = await server.emulator.deliverEvent(requestId, {}, { redeliver: true });
		expect(again.body).toEqual({ message: `Event ${ids[1]} was already received; ignored` });
		expect(harness.started).toHaveLength(2);
	});

	test('a signed body that is not a JSON object → 200 (re-sending it cannot help), no workflow', async () => {
		const { requestId } = await setup();
		const { secretKey, publicKey } = server.emulator.subscriptions[0];
		const body = '[1,2,3]';
		const response = await fetch(harness.url, {
			method: 'POST',
			headers: {
				'Content-Type': 'application/json',
				Key: publicKey,
				Sign: sign(secretKey, body),
				Connection: 'close',
			},
			body,
		});
		expect(response.status).toBe(200);
		expect(requestId).toBeDefined();
		expect(harness.started).toHaveLength(0);
	});

	test('after the subscription is deleted, its keys are gone and deliveries are refused', async () => {
		const { requestId, transaction } = await setup();
		const subscription = server.emulator.subscriptions[0];
		await harness.delete();
		server.emulator.state.subscriptions.set(requestId, subscription); // a late delivery, as Calypso might send
		const late = await server.emulator.deliverEvent(requestId, { transactionId: transaction.id });
		expect(late.status).toBe(401);
		expect(late.body).toEqual({ message: expect.stringMatching(/no subscription keys are stored/) });
	});
});
