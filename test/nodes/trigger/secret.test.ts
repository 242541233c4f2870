import { randomBytes } from 'node:crypto';

import { openSecret, sealSecret } from '../../../nodes/CalypsoPayTrigger/secret';
import { useEmulator } from '../../helpers/calypso';
import { createTriggerHarness } from '../../helpers/trigger';
import type { TriggerHarness } from '../../helpers/trigger';

const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const CREDENTIAL = { apiKey: 'pub-1', apiSecret: 'api-secret-1' };
const SECRET = randomBytes(16).toString('hex');
/** Another API secret, as after a rotation. */
const rotated = () => `rotated-${randomBytes(8).toString('hex')}`;

describe('sealing the subscription secret (pure)', () => {
	test('AES-256-GCM under the credential: opens with the same credential and requestId only', () => {
		const sealed = sealSecret(SECRET, CREDENTIAL, 'req-1');
		expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
		expect(sealed).not.toContain(SECRET);
		expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain(SECRET);
		expect(openSecret(sealed, CREDENTIAL, 'req-1')).toBe(SECRET);
		expect(openSecret(sealed, { ...CREDENTIAL, apiSecret: 'api-secret-2' }, 'req-1')).toBeUndefined();
		expect(openSecret(sealed, { ...CREDENTIAL, apiKey: 'pub-2' }, 'req-1')).toBeUndefined();
		expect(openSecret(sealed, CREDENTIAL, 'req-2')).toBeUndefined();
	});

	test('a fresh IV each time; tampered or malformed values do not open', () => {
		const a = sealSecret(SECRET, CREDENTIAL, 'r');
		expect(sealSecret(SECRET, CREDENTIAL, 'r')).not.toBe(a);
		const bytes = Buffer.from(a.slice(3), 'base64url');
		bytes[bytes.length - 1] ^= 1;
		expect(openSecret(`v1.${bytes.toString('base64url')}`, CREDENTIAL, 'r')).toBeUndefined();
		for (const junk of [undefined, '', SECRET, 'v1.', 'v1.AAAA', 42]) {
			expect(openSecret(junk, CREDENTIAL, 'r')).toBeUndefined();
		}
	});
});

const server = useEmulator();

describe('the secret at rest, through the trigger (n8n contexts → emulator)', () => {
	let harness: TriggerHarness;
	let credentials: typeof server.credentials;
	const original = { apiSecret: '' };
	beforeEach(async () => {
		original.apiSecret = server.emulator.options.apiSecret;
		credentials = { ...server.credentials };
		harness = await createTriggerHarness(credentials, { events: [FUNDS] });
	});
	afterEach(async () => {
		server.emulator.options.apiSecret = original.apiSecret;
		await harness.close();
	});

	const deliver = async () => {
		const customer = server.emulator.seedCustomer({});
		const [transaction] = server.emulator.seedTransactions(customer.id, 1, { currency: 'BTC' });
		return await server.emulator.deliverEvent(harness.stored.requestId as string, {
			transactionId: transaction.id,
		});
	};
	const clearSecret = () => server.emulator.subscriptions[0].secretKey;
	/** The static data as an earlier version stored it: the secretKey in clear, nothing sealed. */
	const setLegacy = () => {
		const legacy: Record<string, unknown> = { ...harness.stored, secretKey: clearSecret() };
		delete legacy.sealedSecretKey;
		harness.staticData[`node:${harness.node.name}`] = legacy;
	};

	test('the stored static data holds no secretKey in clear, before and after deliveries', async () => {
		await harness.create();
		expect(JSON.stringify(harness.staticData)).not.toContain(clearSecret());
		expect(harness.stored).not.toHaveProperty('secretKey');
		expect((await deliver()).status).toBe(200);
		expect(harness.started).toHaveLength(1);
		expect(JSON.stringify(harness.staticData)).not.toContain(clearSecret());
		expect(await harness.checkExists()).toBe(true);
		expect(JSON.stringify(harness.staticData)).not.toContain(clearSecret());
	});

	test('a plain-text secretKey from an earlier version keeps verifying, and the delivery replaces it', async () => {
		await harness.create();
		setLegacy();
		expect((await deliver()).status).toBe(200);
		expect(harness.started).toHaveLength(1);
		expect(harness.stored).not.toHaveProperty('secretKey');
		expect(openSecret(harness.stored.sealedSecretKey, credentials, harness.stored.requestId as string)).toBe(
			clearSecret(),
		);
		expect(JSON.stringify(harness.staticData)).not.toContain(clearSecret());
	});

	test('a plain-text secretKey is also replaced when n8n checks the subscription (activation)', async () => {
		await harness.create();
		setLegacy();
		expect(await harness.checkExists()).toBe(true);
		expect(JSON.stringify(harness.staticData)).not.toContain(clearSecret());
		expect((await deliver()).status).toBe(200);
	});

	test('a changed credential (the API secret rotated): the keys are re-fetched from Calypso and sealed again', async () => {
		await harness.create();
		const before = harness.stored.sealedSecretKey;
		server.emulator.options.apiSecret = credentials.apiSecret = rotated();
		const delivery = await deliver();
		expect(delivery.status).toBe(200);
		expect(harness.started).toHaveLength(1);
		const list = server.emulator.requests.filter((r) => r.path === '/api/v1/subscription/webhook');
		expect(list).toHaveLength(1); // the re-fetch, signed with the new credential
		expect(harness.stored.sealedSecretKey).not.toBe(before);
		expect(openSecret(harness.stored.sealedSecretKey, credentials, harness.stored.requestId as string)).toBe(
			clearSecret(),
		);
		expect((await deliver()).status).toBe(200); // no second re-fetch
		expect(server.emulator.requests.filter((r) => r.path === '/api/v1/subscription/webhook')).toHaveLength(1);
	});

	test('a changed credential seen at activation: checkExists re-fetches the keys and keeps the subscription', async () => {
		await harness.create();
		server.emulator.options.apiSecret = credentials.apiSecret = rotated();
		expect(await harness.checkExists()).toBe(true);
		expect(openSecret(harness.stored.sealedSecretKey, credentials, harness.stored.requestId as string)).toBe(
			clearSecret(),
		);
		expect(server.emulator.subscriptions).toHaveLength(1);
	});

	test('a changed credential for which Calypso does not list the subscription: refused (401), then re-created on activation', async () => {
		await harness.create();
		const old = server.emulator.subscriptions[0];
		credentials.apiSecret = rotated();
		server.emulator.options.apiSecret = credentials.apiSecret;
		const list = server.emulator.requests.length;
		// Calypso lists nothing for this credential (e.g. another account's key).
		server.emulator.injectFault({
			path: '/api/v1/subscription/webhook',
			method: 'POST',
			status: 200,
			body: { subscriptions: [] },
		});
		const refused = await server.emulator.deliverEvent(old.requestId, {});
		expect(refused.status).toBe(401);
		expect(refused.body).toEqual({ message: expect.stringMatching(/no subscription keys are stored/) });
		expect(server.emulator.requests.length).toBe(list + 1);
		expect(harness.started).toHaveLength(0);
		server.emulator.state.subscriptions.clear();
		expect(await harness.checkExists()).toBe(false);
		expect(await harness.create()).toBe(true);
		expect(openSecret(harness.stored.sealedSecretKey, credentials, harness.stored.requestId as string)).toBe(
			server.emulator.subscriptions[0].secretKey,
		);
	});
});
