import { NodeApiError, NodeOperationError, Workflow } from 'n8n-workflow';
import type { IDataObject } from 'n8n-workflow';

import {
	EVENT_TYPES,
	eventKey,
	flattenEvent,
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
import { CalypsoPayApi } from '../../../credentials/CalypsoPayApi.credentials';
import { openSecret } from '../../../nodes/CalypsoPayTrigger/secret';
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
		expect(description.credentials).toEqual([{ name: 'calypsoPayApi', required: true }]);
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
	beforeEach(async () => {
		harness = await createTriggerHarness(server.credentials, { events: [FUNDS, CREDITED] });
	});
	afterEach(async () => await harness.close());

	const subscriptionRequests = () =>
		server.emulator.requests.filter((r) => r.path.startsWith(SUBSCRIPTION_PATH));

	test('checkExists is false with nothing stored, and asks Calypso nothing', async () => {
		expect(await harness.checkExists()).toBe(false);
		expect(server.emulator.requests).toHaveLength(0);
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

	test('delete of a subscription Calypso no longer has (004) succeeds; with nothing stored it sends nothing', async () => {
		await harness.create();
		server.emulator.state.subscriptions.clear();
		expect(await harness.delete()).toBe(true);
		expect({ ...harness.stored }).toEqual({});
		const before = server.emulator.requests.length;
		expect(await harness.delete()).toBe(true);
		expect(server.emulator.requests).toHaveLength(before);
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
				const testRule = new CalypsoPayApi().test.rules!.find(
					(rule) => 'properties' in rule && (rule.properties as { value: string }).value === code,
				);
				expect((testRule!.properties as { message: string }).message).toContain(HINTS[code]);
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

	test('an unclear create that Calypso did not make fails with the original error', async () => {
		server.emulator.injectFault({ path: '/webhook/create', status: 504 });
		const error = await harness.create().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).errorResponse?.httpCode).toBe('504');
		expect(server.emulator.subscriptions).toHaveLength(0);
		expect(subscriptionRequests().map((r) => `${r.method} ${r.path}`)).toEqual([
			`POST ${SUBSCRIPTION_PATH}/create`,
			`POST ${SUBSCRIPTION_PATH}`,
		]);
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
