// @ts-check
'use strict';
/** Quick self-test of the emulator: node test/emulator/selftest.js */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const zlib = require('node:zlib');
const { createEmulator, sign, FOREIGN_ANSWERS, SEND_EVENT_PATH } = require('./index.js');

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function main() {
	const emu = createEmulator();
	const baseUrl = await emu.start(0);
	const { apiKey, apiSecret, account } = emu.credentials;

	/**
	 * @param {string} op a customer-purse operation, or a full path starting with '/' @param {any} payload
	 * @param {{ key?: string | null, secret?: string, account?: string, timestamp?: number, raw?: string, signOverride?: string, method?: string }} [o]
	 */
	async function call(op, payload, o = {}) {
		const body =
			o.raw ??
			JSON.stringify({ account: o.account ?? account, timestamp: o.timestamp ?? Date.now(), payload });
		/** @type {Record<string, string>} */
		const headers = {
			'Content-Type': 'application/json',
			Sign: o.signOverride ?? sign(o.secret ?? apiSecret, body),
		};
		if (o.key !== null) headers.Key = o.key ?? apiKey;
		const url = op.startsWith('/') ? `${baseUrl}${op}` : `${baseUrl}/api/v1/customer-purse/${op}`;
		const res = await fetch(url, {
			method: o.method ?? 'POST',
			headers,
			body,
		});
		const text = await res.text();
		let json;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
		return { status: res.status, json, text, headers: res.headers };
	}
	/** @param {any} r @param {number} status @param {string} code */
	function expectError(r, status, code) {
		assert.equal(r.status, status, JSON.stringify(r.json));
		assert.equal(r.json.errorCode, code, JSON.stringify(r.json));
		assert.match(r.json.traceId, /^[0-9a-f]+$/);
		return r.json;
	}

	/** @type {[string, () => Promise<void>][]} */
	const tests = [];
	const test = (/** @type {string} */ name, /** @type {() => Promise<void>} */ fn) => tests.push([name, fn]);

	let customerId = '';
	test('documented sign vector', async () => {
		assert.equal(
			sign('b823a6b9ea72408583cef9ec8d67fa52', '{"timestamp":1}'),
			'b16e9d45f49f2069becbc4f108b237bee588cfc353fe9501df103e692acbc68d482a10d34c12bea22fedde7e28e1b8e57a6a0a373b0e9a27c5257bd8b36e13b9',
		);
	});
	test('customer/create', async () => {
		const r = await call('customer/create', { email: 'a@b.c', externalId: 'ext-1' });
		assert.equal(r.status, 200);
		assert.match(r.json.id, UUID_RE);
		assert.deepEqual(r.json, { id: r.json.id, email: 'a@b.c', externalId: 'ext-1', blocked: false });
		assert.match(r.headers.get('content-type') || '', /application\/json/);
		assert.ok(r.headers.get('date'));
		customerId = r.json.id;
	});
	test('customer/get', async () => {
		const r = await call('customer/get', { customerId });
		assert.equal(r.status, 200);
		assert.equal(r.json.id, customerId);
	});
	test('customer/external/get (several, none)', async () => {
		await call('customer/create', { externalId: 'ext-1' });
		const r = await call('customer/external/get', { externalId: 'ext-1' });
		assert.equal(r.status, 200);
		assert.equal(r.json.customers.length, 2);
		const none = await call('customer/external/get', { externalId: 'nobody' });
		assert.deepEqual(none.json, { customers: [] });
	});
	test('customer/update changes only given fields', async () => {
		const r = await call('customer/update', { id: customerId, description: 'VIP' });
		assert.equal(r.status, 200);
		assert.deepEqual(r.json, {
			id: customerId,
			email: 'a@b.c',
			description: 'VIP',
			externalId: 'ext-1',
			blocked: false,
		});
	});
	test('customer/block + unblock', async () => {
		assert.equal((await call('customer/block', { customerId })).json.blocked, true);
		assert.equal((await call('customer/get', { customerId })).json.blocked, true);
		assert.equal((await call('customer/unblock', { customerId })).json.blocked, false);
	});
	test('address/get creates once per chain', async () => {
		const a = await call('address/get', { customerId, currency: 'USDT_TRX' });
		assert.equal(a.status, 200);
		assert.match(a.json.address, /^T[1-9A-HJ-NP-Za-km-z]{33}$/);
		assert.deepEqual(a.json.currencies, ['TRX', 'USDT_TRX', 'USDC_TRX']);
		const b = await call('address/get', { customerId, currency: 'TRX' });
		assert.equal(b.json.id, a.json.id);
		const c = await call('address/get', { customerId, currency: 'USDT' });
		assert.match(c.json.address, /^0x[0-9a-f]{40}$/);
		assert.notEqual(c.json.id, a.json.id);
	});
	test('purse/get-all', async () => {
		const r = await call('purse/get-all', { customerId });
		assert.equal(r.status, 200);
		assert.equal(r.json.purses.length, 2);
		assert.deepEqual(Object.keys(r.json.purses[0]).sort(), ['address', 'createdDate', 'currencies', 'id']);
	});
	test('transaction/get', async () => {
		const [t] = emu.seedTransactions(customerId, 1, { state: 'PENDING_COMPLIANCE_CHECK' });
		const r = await call('transaction/get', { transactionId: t.id });
		assert.equal(r.status, 200);
		assert.deepEqual(r.json, t);
		assert.equal(r.json.complianceState, 'IN_PROGRESS');
		assert.equal('customerId' in r.json, false);
		expectError(await call('transaction/get', { transactionId: crypto.randomUUID() }), 400, '004');
	});
	test('transaction/find paging, cap, filters, sort', async () => {
		const c = emu.seedCustomer();
		emu.seedTransactions(c.id, 25, {
			currency: ['USDT_TRX', 'TRX', 'ETH'],
			state: ['CONFIRMED', 'DECLINED', 'MEM_POOL_FOUND', 'PENDING_COMPLIANCE_CHECK'],
		});
		emu.options.maxPageSize = 10;
		const base = { customerId: c.id, pageNumber: 1, pageSize: 50, sort: 'DESC', properties: 'createdDate' };
		const p1 = await call('transaction/find', base);
		assert.equal(p1.status, 200);
		assert.deepEqual(
			[p1.json.page, p1.json.size, p1.json.total, p1.json.totalElements, p1.json.result.length],
			[1, 10, 3, 25, 10],
		);
		assert.ok(p1.json.result[0].createdDate > p1.json.result[1].createdDate);
		const p3 = await call('transaction/find', { ...base, pageNumber: 3 });
		assert.equal(p3.json.result.length, 5);
		const p4 = await call('transaction/find', { ...base, pageNumber: 4 });
		assert.deepEqual([p4.json.result.length, p4.json.total, p4.json.totalElements], [0, 3, 25]);
		emu.options.maxPageSize = 100;
		const f = await call('transaction/find', {
			...base,
			currencyFilter: { in: ['TRX', 'ETH'] },
			transactionStateFilter: { equals: 'CONFIRMED' },
		});
		assert.ok(
			f.json.result.every(
				(/** @type {any} */ t) => ['TRX', 'ETH'].includes(t.currency) && t.transactionState === 'CONFIRMED',
			),
		);
		assert.ok(f.json.totalElements > 0 && f.json.totalElements < 25);
		const contains = await call('transaction/find', { ...base, currencyFilter: { contains: '_trx' } });
		assert.ok(contains.json.result.every((/** @type {any} */ t) => t.currency === 'USDT_TRX'));
		const byAmount = await call('transaction/find', { ...base, sort: 'ASC', properties: 'amount' });
		const amounts = byAmount.json.result.map((/** @type {any} */ t) => t.amount);
		assert.deepEqual(
			amounts,
			[...amounts].sort((a, b) => a - b),
		);
		expectError(await call('transaction/find', { ...base, properties: 'nope' }), 400, '001');
		expectError(await call('transaction/find', { ...base, pageNumber: 0 }), 400, '001');
		expectError(await call('transaction/find', { ...base, pageSize: 0 }), 400, '001');
		expectError(await call('transaction/find', { ...base, customerId: crypto.randomUUID() }), 400, '004');
		// The same query again after a deposit: the kept order (the emulator's index) is not served stale.
		const [newest] = emu.seedTransactions(c.id, 1, { startDate: new Date(Date.now() + 60000) });
		const again = await call('transaction/find', base);
		assert.deepEqual([again.json.result[0].id, again.json.totalElements], [newest.id, 26]);
	});
	test('transaction/find faults: deposit after a page, no total, repeated last page, held pages', async () => {
		const c = emu.seedCustomer();
		emu.seedTransactions(c.id, 15);
		emu.options.maxPageSize = 10;
		const base = { customerId: c.id, pageNumber: 1, pageSize: 10, sort: 'ASC', properties: 'createdDate' };
		emu.findFaults.depositAfterPage = 1;
		assert.equal((await call('transaction/find', base)).json.totalElements, 15);
		const p2 = await call('transaction/find', { ...base, pageNumber: 2 });
		assert.deepEqual(
			[p2.json.result.length, p2.json.totalElements, emu.findFaults.depositAfterPage],
			[6, 16, undefined],
		);
		emu.findFaults.noTotal = true;
		emu.findFaults.repeatLastPage = true;
		const p9 = await call('transaction/find', { ...base, pageNumber: 9 });
		const { total, totalElements, ...lastPage } = p2.json;
		assert.deepEqual(p9.json, { ...lastPage, page: 9 });
		assert.equal(typeof total + typeof totalElements, 'numbernumber');
		emu.findFaults.holdUntilInFlight = 2;
		const pages = await Promise.all(
			[2, 3].map((pageNumber) => call('transaction/find', { ...base, pageNumber })),
		);
		assert.deepEqual(
			pages.map((p) => p.status),
			[200, 200],
		);
		assert.deepEqual(
			emu.requests
				.slice(-2)
				.map((r) => r.inFlight)
				.sort(),
			[1, 2],
		);
		for (const key of /** @type {const} */ (['noTotal', 'repeatLastPage', 'holdUntilInFlight']))
			delete emu.findFaults[key];
		emu.options.maxPageSize = 100;
	});
	test('transaction/find: pages answered in a dictated order, data changed just before a page, index invalidated', async () => {
		const c = emu.seedCustomer();
		const rows = emu.seedTransactions(c.id, 6);
		emu.options.maxPageSize = 2;
		const base = { customerId: c.id, pageNumber: 1, pageSize: 2, sort: 'ASC', properties: 'amount' };
		const before = await call('transaction/find', base); // fills the find index
		assert.deepEqual(before.json.result.map((/** @type {any} */ t) => t.id), [rows[0].id, rows[1].id]);
		/** @type {number[]} */
		const answered = [];
		emu.findFaults.answerOrder = [3, 2];
		emu.findFaults.afterAnswer = ({ page }) => answered.push(page);
		emu.findFaults.beforeAnswer = ({ page }) => {
			if (page === 2) emu.updateTransaction(rows[5].id, { amount: 0.5, transactionState: 'DECLINED' });
		};
		const [p2, p3] = await Promise.all([2, 3].map((pageNumber) => call('transaction/find', { ...base, pageNumber })));
		assert.deepEqual(answered, [3, 2]);
		// Page 3 went out first (rows 4, 5); then row 5 became the cheapest, so page 2 shows rows 1 and 2.
		assert.deepEqual(p3.json.result.map((/** @type {any} */ t) => t.id), [rows[4].id, rows[5].id]);
		assert.deepEqual(p2.json.result.map((/** @type {any} */ t) => t.id), [rows[1].id, rows[2].id]);
		const after = await call('transaction/find', base);
		assert.deepEqual(after.json.result.map((/** @type {any} */ t) => [t.id, t.complianceState]), [
			[rows[5].id, 'DECLINE'],
			[rows[0].id, 'CHECKED'],
		]);
		for (const key of /** @type {const} */ (['answerOrder', 'beforeAnswer', 'afterAnswer']))
			delete emu.findFaults[key];
		emu.options.maxPageSize = 100;
	});
	test('bad key → 401/002', async () => {
		expectError(await call('customer/get', { customerId }, { key: 'wrong' }), 401, '002');
		expectError(await call('customer/get', { customerId }, { key: null }), 401, '002');
	});
	test('wrong sign → 003', async () => {
		expectError(await call('customer/get', { customerId }, { secret: 'nope' }), 400, '003');
		expectError(await call('customer/get', { customerId }, { signOverride: 'abc' }), 400, '003');
	});
	test('not JSON / bad envelope → 001', async () => {
		expectError(await call('customer/get', null, { raw: '{not json' }), 400, '001');
		const r = expectError(
			await call('customer/get', null, {
				raw: JSON.stringify({ account: 'x', timestamp: Date.now(), payload: { customerId } }),
			}),
			400,
			'001',
		);
		assert.match(r.message, /^account:/);
		const t = expectError(
			await call('customer/get', null, {
				raw: JSON.stringify({ account, timestamp: '1', payload: { customerId } }),
			}),
			400,
			'001',
		);
		assert.match(t.message, /^timestamp:/);
	});
	test('foreign account → 001', async () => {
		const r = expectError(
			await call('customer/get', { customerId }, { account: '0x' + '2'.repeat(40) }),
			400,
			'001',
		);
		assert.equal(r.message, 'Account not found for this API key');
	});
	test('stale timestamp → 011, clock offset honoured', async () => {
		expectError(await call('customer/get', { customerId }, { timestamp: Date.now() - 200000 }), 400, '011');
		emu.options.clockOffsetMs = 600000;
		const r = await call('customer/get', { customerId }, { timestamp: Date.now() + 600000 });
		assert.equal(r.status, 200);
		assert.ok(Math.abs(Date.parse(r.headers.get('date') || '') - (Date.now() + 600000)) < 5000);
		emu.options.clockOffsetMs = 0;
	});
	test('payload schema → 001 naming the field', async () => {
		const r = expectError(await call('customer/get', { customerId: 'not-a-uuid' }), 400, '001');
		assert.equal(r.message, 'payload.customerId: must be a uuid');
		const m = expectError(await call('address/get', { customerId }), 400, '001');
		assert.equal(m.message, 'payload.currency: is required');
		const l = expectError(await call('customer/create', { description: 'x'.repeat(1001) }), 400, '001');
		assert.match(l.message, /^payload\.description:/);
		const s = expectError(
			await call('transaction/find', {
				customerId,
				pageNumber: 1,
				pageSize: 10,
				sort: 'UP',
				properties: 'id',
			}),
			400,
			'001',
		);
		assert.match(s.message, /^payload\.sort:/);
		const arr = expectError(await call('customer/get', [customerId]), 400, '001');
		assert.equal(arr.message, 'payload: must be an object');
	});
	test('unknown customer → 004, invalid currency → 014', async () => {
		const r = expectError(await call('customer/get', { customerId: crypto.randomUUID() }), 400, '004');
		assert.equal(r.message, 'Customer not found');
		expectError(await call('address/get', { customerId, currency: 'USDT-TRC20' }), 400, '014');
	});
	test('unknown path / method → 404', async () => {
		expectError(await call('customer/delete', { customerId }), 404, '004');
		const res = await fetch(`${baseUrl}/api/v1/customer-purse/customer/get`);
		assert.equal(res.status, 404);
	});
	test('faults: status+headers, html, drop, match, afterProcessing', async () => {
		emu.injectFault({ path: 'customer/get', status: 503, headers: { 'Retry-After': '1' }, times: 2 });
		const a = await call('customer/get', { customerId });
		assert.equal(a.status, 503);
		assert.equal(a.headers.get('retry-after'), '1');
		assert.equal((await call('customer/get', { customerId })).status, 503);
		assert.equal((await call('customer/get', { customerId })).status, 200);

		emu.injectFault({ status: 502, body: '<html><body>Bad gateway</body></html>' });
		const h = await call('customer/get', { customerId });
		assert.equal(h.status, 502);
		assert.match(h.headers.get('content-type') || '', /text\/html/);
		assert.match(h.text, /Bad gateway/);

		emu.injectFault({
			path: 'transaction/find',
			match: (q) => q.body.payload.pageNumber === 2,
			status: 500,
			body: { errorCode: '000', message: 'boom', traceId: 'ab' },
		});
		const q = { customerId, pageNumber: 1, pageSize: 10, sort: 'ASC', properties: 'id' };
		assert.equal((await call('transaction/find', q)).status, 200);
		assert.equal((await call('transaction/find', { ...q, pageNumber: 2 })).status, 500);

		emu.injectFault({ path: 'customer/get', drop: true });
		await assert.rejects(call('customer/get', { customerId }));

		const before = emu.state.customers.size;
		emu.injectFault({ path: 'customer/create', afterProcessing: true, drop: true });
		await assert.rejects(call('customer/create', { externalId: 'after' }));
		assert.equal(emu.state.customers.size, before + 1);
		const last = emu.requests[emu.requests.length - 1];
		assert.equal(last.path, '/api/v1/customer-purse/customer/create');
		assert.equal(last.status, 0);

		emu.injectFault({ path: 'customer/create', afterProcessing: true, status: 504, delayMs: 20 });
		assert.equal((await call('customer/create', { externalId: 'after' })).status, 504);
		assert.equal(emu.state.customers.size, before + 2);
	});
	test('latency + request log', async () => {
		emu.options.latencyMs = 50;
		const t0 = Date.now();
		await call('customer/get', { customerId });
		assert.ok(Date.now() - t0 >= 45);
		emu.options.latencyMs = 0;
		const last = emu.requests[emu.requests.length - 1];
		assert.equal(last.method, 'POST');
		assert.equal(last.status, 200);
		assert.equal(last.headers.key, apiKey);
		assert.equal(last.body.payload.customerId, customerId);
		assert.equal(sign(apiSecret, last.rawBody), last.headers.sign);
	});
	const SUBS = '/api/v1/subscription/webhook';
	const EVENTS = ['CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE', 'CUSTOMER_PURSE_EXPIRED'];
	/** @param {string} url @param {string} [requestId] */
	const createPayload = (url, requestId = crypto.randomUUID()) => ({
		requestId,
		notificationEventTypes: EVENTS,
		notificationServiceTypes: ['CUSTOMER_PURSE'],
		url,
	});
	test('subscriptions: create, list (no payload), delete (DELETE with a body)', async () => {
		const created = await call(`${SUBS}/create`, createPayload('http://127.0.0.1:9/hook'));
		assert.equal(created.status, 200, created.text);
		assert.match(created.json.publicKey, /^[0-9a-f]{32}$/);
		assert.match(created.json.secretKey, /^[0-9a-f]{32}$/);
		assert.notEqual(created.json.secretKey, apiSecret);
		assert.deepEqual(created.json.notificationEventTypes, EVENTS);
		assert.doesNotMatch(created.json.createdDate, /Z$/);
		const list = await call(SUBS, undefined);
		assert.equal(list.status, 200, list.text);
		assert.equal('payload' in JSON.parse(emu.requests[emu.requests.length - 1].rawBody), false);
		assert.deepEqual(list.json.subscriptions, [created.json]);
		assert.equal(emu.subscriptions.length, 1);
		const gone = await call(SUBS, { requestId: created.json.requestId }, { method: 'DELETE' });
		assert.equal(gone.status, 200, gone.text);
		assert.deepEqual((await call(SUBS, undefined)).json.subscriptions, []);
		expectError(await call(SUBS, { requestId: created.json.requestId }, { method: 'DELETE' }), 400, '004');
	});
	test('subscriptions: same key/sign/account/timestamp checks, payload validation', async () => {
		expectError(await call(SUBS, undefined, { key: 'wrong' }), 401, '002');
		expectError(await call(SUBS, undefined, { secret: 'nope' }), 400, '003');
		expectError(await call(SUBS, undefined, { account: '0x' + '2'.repeat(40) }), 400, '001');
		expectError(await call(SUBS, undefined, { timestamp: Date.now() - 200000 }), 400, '011');
		const bad = (/** @type {any} */ p) => call(`${SUBS}/create`, p);
		const base = createPayload('https://example.com/hook');
		assert.match(expectError(await bad({ ...base, requestId: 'x' }), 400, '001').message, /requestId/);
		assert.match(
			expectError(await bad({ ...base, notificationEventTypes: ['NOPE'] }), 400, '001').message,
			/notificationEventTypes/,
		);
		assert.match(
			expectError(await bad({ ...base, notificationEventTypes: [] }), 400, '001').message,
			/empty/,
		);
		assert.match(
			expectError(await bad({ ...base, notificationServiceTypes: ['X'] }), 400, '001').message,
			/notificationServiceTypes/,
		);
		assert.match(expectError(await bad({ ...base, url: 'ftp://x' }), 400, '001').message, /url/);
		expectError(await call(`${SUBS}/create`, undefined), 400, '001');
		assert.equal((await bad(base)).status, 200);
		assert.match(expectError(await bad(base), 400, '001').message, /already used/);
		expectError(await call(SUBS, { requestId: 'x' }, { method: 'DELETE' }), 400, '001');
		expectError(await call(`${SUBS}/create`, base, { method: 'DELETE' }), 404, '004');
		emu.injectFault({ path: SUBS, method: 'DELETE', status: 503 });
		assert.equal((await call(SUBS, undefined)).status, 200, 'a DELETE fault leaves a POST alone');
		assert.equal((await call(SUBS, { requestId: base.requestId }, { method: 'DELETE' })).status, 503);
	});
	test('deliverEvent: signed envelope, ids, redeliver byte for byte, forge, unsigned', async () => {
		/** @type {{ headers: http.IncomingHttpHeaders, body: string, url?: string, host?: string }[]} */
		const received = [];
		const receiver = http.createServer((req, res) => {
			const chunks = /** @type {Buffer[]} */ ([]);
			req.on('data', (c) => chunks.push(c));
			req.on('end', () => {
				const body = Buffer.concat(chunks).toString('utf8');
				received.push({ headers: req.headers, body, url: req.url, host: req.headers.host });
				const sub = emu.subscriptions.find((x) => x.publicKey === req.headers.key);
				const ok = sub && req.headers.sign === sign(sub.secretKey, body);
				res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify({ ok }));
			});
		});
		await new Promise((r) => receiver.listen(0, '127.0.0.1', () => r(undefined)));
		const port = /** @type {import('node:net').AddressInfo} */ (receiver.address()).port;
		try {
			const sub = (await call(`${SUBS}/create`, createPayload(`http://127.0.0.1:${port}/hook`))).json;
			const c = emu.seedCustomer({ blocked: true });
			const [t] = emu.seedTransactions(c.id, 1, { currency: 'USDT_TRX', amount: 12.5 });
			const first = await emu.deliverEvent(sub.requestId, { transactionId: t.id });
			assert.equal(first.status, 200);
			assert.deepEqual(first.body, { ok: true });
			const env = JSON.parse(received[0].body);
			assert.deepEqual(Object.keys(env), [
				'requestId',
				'id',
				'createdDate',
				'level',
				'service',
				'eventType',
				'data',
			]);
			assert.equal(env.requestId, sub.requestId);
			assert.equal(env.eventType, 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE');
			assert.equal(env.level, 'SUCCESS');
			assert.equal(env.service, 'CUSTOMER_PURSE');
			assert.doesNotMatch(env.createdDate, /Z$/);
			const purse = emu.seedPurse(c.id, 'USDT_TRX');
			assert.deepEqual(env.data, {
				customerId: c.id,
				customerBlocked: true,
				purseId: purse.id,
				address: purse.address,
				transactionId: t.id,
				amount: 12.5,
				currency: 'USDT_TRX',
			});
			assert.equal(received[0].headers.key, sub.publicKey);
			assert.equal(received[0].headers.sign, sign(sub.secretKey, received[0].body));
			const second = await emu.deliverEvent(sub, { eventType: 'CUSTOMER_PURSE_EXPIRED', customerId: c.id });
			assert.equal(second.id, first.id + 1);
			assert.equal(second.envelope.level, 'WARNING');
			assert.equal('transactionId' in second.envelope.data, false);
			const again = await emu.deliverEvent(sub, {}, { redeliver: first.id });
			assert.equal(received[2].body, received[0].body);
			assert.equal(received[2].headers.sign, received[0].headers.sign);
			assert.equal(again.id, first.id);
			assert.equal((await emu.deliverEvent(sub, {}, { forge: true })).status, 401);
			const unsigned = await emu.deliverEvent(sub, {}, { unsigned: true });
			assert.equal(unsigned.status, 401);
			assert.equal(received[4].headers.sign, undefined);
			assert.equal((await emu.deliverEvent(sub, {}, { tamper: (b) => b.replace('}', ' }') })).status, 401);
			assert.deepEqual(
				emu.deliveries.map((d) => [d.status, d.redelivery, d.forged, d.unsigned]),
				[
					[200, false, false, false],
					[200, false, false, false],
					[200, true, false, false],
					[401, false, true, false],
					[401, false, false, true],
					[401, false, false, false],
				],
			);
			// origin: the same path (and signature) at another host; here 'localhost' for the same receiver
			const routed = await emu.deliverEvent(sub, {}, { redeliver: first.id, origin: `http://localhost:${port}` });
			assert.equal(routed.status, 200);
			assert.deepEqual([received[6].url, received[6].host, received[6].body], ['/hook', `localhost:${port}`, received[0].body]);
			assert.equal(received[0].host, `127.0.0.1:${port}`);
			await assert.rejects(
				emu.deliverEvent(sub, { eventType: 'CUSTOMER_PURSE_MEM_POOL_FOUND' }),
				/does not list/,
			);
			await assert.rejects(emu.deliverEvent('nope', {}), /no subscription/);
		} finally {
			await new Promise((r) => receiver.close(() => r(undefined)));
		}
	});
	test('deliverEvent: contentEncoding compresses on the wire; abortAfterBytes breaks the upload off', async () => {
		/** @type {{ headers: http.IncomingHttpHeaders, body: Buffer, aborted: boolean }[]} */
		const received = [];
		const receiver = http.createServer((req, res) => {
			const chunks = /** @type {Buffer[]} */ ([]);
			const got = { headers: req.headers, body: Buffer.alloc(0), aborted: false };
			received.push(got);
			req.on('data', (c) => chunks.push(c));
			req.on('aborted', () => (got.aborted = true));
			req.on('end', () => {
				got.body = Buffer.concat(chunks);
				res.writeHead(200, { 'Content-Type': 'application/json' });
				res.end('{"ok":true}');
			});
		});
		await new Promise((r) => receiver.listen(0, '127.0.0.1', () => r(undefined)));
		const port = /** @type {import('node:net').AddressInfo} */ (receiver.address()).port;
		try {
			const sub = (await call(`${SUBS}/create`, createPayload(`http://127.0.0.1:${port}/hook`))).json;
			const zipped = await emu.deliverEvent(sub, { customerId: emu.seedCustomer({}).id }, { contentEncoding: 'gzip', contentType: null });
			assert.equal(zipped.status, 200);
			assert.equal(received[0].headers['content-encoding'], 'gzip');
			assert.equal(received[0].headers['content-type'], undefined);
			assert.equal(zlib.gunzipSync(received[0].body).toString('utf8'), zipped.rawBody);
			assert.equal(received[0].headers.sign, sign(sub.secretKey, zipped.rawBody));
			await assert.rejects(
				emu.deliverEvent(sub, {}, { redeliver: zipped.id, abortAfterBytes: 10, abortAfterMs: 50 }),
				/upload aborted after 10 bytes/,
			);
			for (let i = 0; i < 50 && !received[1]?.aborted; i++) await new Promise((r) => setTimeout(r, 20));
			assert.equal(received[1].aborted, true);
			assert.equal(Number(received[1].headers['content-length']), Buffer.byteLength(zipped.rawBody));
			assert.equal(emu.deliveries[emu.deliveries.length - 1].status, 0);
		} finally {
			await new Promise((r) => receiver.close(() => r(undefined)));
		}
	});
	test('blocking: more than 100 errors with no success within 10 minutes; unblock re-sends the failed events', async () => {
		// A receiver that answers 500 while `failing`, else 200; the emulator's clock for the rule is `t`.
		let failing = true;
		/** @type {number[]} */
		const got = [];
		const receiver = http.createServer((req, res) => {
			const chunks = /** @type {Buffer[]} */ ([]);
			req.on('data', (c) => chunks.push(c));
			req.on('end', () => {
				got.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).id);
				res.writeHead(failing ? 500 : 200, { 'Content-Type': 'application/json' });
				res.end('{}');
			});
		});
		await new Promise((r) => receiver.listen(0, '127.0.0.1', () => r(undefined)));
		const port = /** @type {import('node:net').AddressInfo} */ (receiver.address()).port;
		let t = Date.now();
		emu.options.clock = () => t;
		/** @type {string[]} */
		const mine = [];
		const listed = async () =>
			(await call(SUBS, undefined)).json.subscriptions.filter((/** @type {any} */ s) => s.requestId === mine[0]);
		try {
			const sub = (await call(`${SUBS}/create`, createPayload(`http://127.0.0.1:${port}/hook`))).json;
			mine.push(sub.requestId);
			assert.equal(sub.state, 'ACTIVE');
			// 101 errors within a minute of the creation: more than 100, but not 10 minutes without success yet
			for (let i = 0; i < 101; i++) assert.equal((await emu.deliverEvent(sub)).status, 500);
			assert.deepEqual(emu.subscriptionHealth(sub.requestId).state, 'ACTIVE');
			assert.equal(emu.subscriptionHealth(sub.requestId).errors, 101);
			// forged, unsigned or foreign-Key deliveries are not Calypso's: not counted
			await emu.deliverEvent(sub, {}, { forge: true });
			await emu.deliverEvent(sub, {}, { unsigned: true });
			await emu.deliverEvent(sub, {}, { key: 'other' });
			assert.equal(emu.subscriptionHealth(sub.requestId).errors, 101);
			// one success ends the streak: 10 minutes later, 101 more errors are needed again
			failing = false;
			t += 5 * 60_000;
			assert.equal((await emu.deliverEvent(sub)).status, 200);
			failing = true;
			t += 10 * 60_000;
			for (let i = 0; i < 100; i++) await emu.deliverEvent(sub);
			assert.equal((await listed())[0].state, 'ACTIVE', '100 errors are not more than 100');
			const before = emu.deliveries.length;
			await emu.deliverEvent(sub); // the 101st error, 10 minutes after the last success
			assert.equal((await listed())[0].state, 'BLOCKED');
			assert.equal(emu.subscriptionHealth(sub.requestId).blockedAt, t);
			// blocked: genuine deliveries are recorded as not sent; nothing reaches the receiver
			const received = got.length;
			const blocked = await emu.deliverEvent(sub);
			assert.deepEqual([blocked.status, blocked.sent], [0, false]);
			assert.equal(got.length, received);
			assert.deepEqual(
				emu.deliveries.slice(before).map((d) => [d.status, d.sent]),
				[[500, true], [0, false]],
			);
			// the send-event control route says so rather than pretend to deliver
			const control = await fetch(`${baseUrl}${SEND_EVENT_PATH}`, { method: 'POST', body: JSON.stringify({ url: `${port}/hook` }) });
			assert.equal(control.status, 409);
			assert.match((await control.json()).message, /BLOCKED/);
			// unblocking sets it ACTIVE and re-sends every failed event (not the one answered 200), oldest first
			failing = false;
			const failedIds = [
				...new Set(
					emu.deliveries.filter((d) => d.requestId === sub.requestId && d.counted && d.status !== 200).map((d) => d.id),
				),
			];
			const sent = got.length;
			const resent = await emu.unblockSubscription(sub.requestId);
			assert.equal((await listed())[0].state, 'ACTIVE');
			assert.deepEqual(resent.map((r) => r.id), failedIds);
			assert.ok(resent.every((r) => r.status === 200 && r.sent));
			assert.deepEqual(got.slice(sent), failedIds);
			assert.equal(resent.length, 101 + 101 + 1);
			assert.equal(emu.deliveries.at(-1)?.rawBody, emu.deliveries.find((d) => d.id === failedIds.at(-1))?.rawBody);
			assert.equal((await emu.unblockSubscription(sub.requestId)).length, 0, 'nothing failed any more');
			// no answer at all is an error too
			const gone = (await call(`${SUBS}/create`, createPayload('http://127.0.0.1:9/closed'))).json;
			mine.push(gone.requestId);
			await assert.rejects(emu.deliverEvent(gone, {}, { timeoutMs: 2000 }));
			assert.equal(emu.subscriptionHealth(gone.requestId).errors, 1);
			// the switch: blocked by Calypso for any reason, and back, without re-sending
			emu.setSubscriptionState(sub.requestId, 'BLOCKED');
			assert.equal((await listed())[0].state, 'BLOCKED');
			emu.setSubscriptionState(sub.requestId, 'ACTIVE');
			assert.equal(emu.subscriptions.find((s) => s.requestId === sub.requestId)?.state, 'ACTIVE');
			assert.equal(got.length, sent + resent.length);
			assert.throws(() => emu.setSubscriptionState('nope', 'BLOCKED'), /no subscription/);
		} finally {
			emu.options.clock = () => Date.now();
			for (const id of mine) emu.state.subscriptions.delete(id);
			await new Promise((r) => receiver.close(() => r(undefined)));
		}
	});
	test('impersonate: every request answered as another server would, whatever it is', async () => {
		for (const [kind, answer] of Object.entries(FOREIGN_ANSWERS)) {
			emu.options.impersonate = /** @type {any} */ (kind);
			const r = await call('customer/external/get', { externalId: 'x' }, { key: null });
			assert.equal(r.status, answer.status, kind);
			if (typeof answer.body === 'string') {
				assert.equal(r.text, answer.body);
				assert.match(r.headers.get('content-type') || '', /text\/html/);
			} else assert.deepEqual(r.json, answer.body);
		}
		emu.options.impersonate = 'none';
		assert.equal((await call('customer/external/get', { externalId: 'x' })).status, 200);
	});
	test('trickleMs / cutBodyAt: the create lands, its answer comes a byte at a time or cut short', async () => {
		const before = emu.state.customers.size;
		emu.injectFault({ path: 'customer/create', cutBodyAt: 5 });
		const cut = await call('customer/create', { externalId: 'cut-1' });
		assert.equal(cut.status, 200);
		assert.equal(cut.text.length, 5);
		assert.equal(emu.state.customers.size, before + 1);
		emu.injectFault({ path: 'customer/create', trickleMs: 1 });
		const slow = await call('customer/create', { externalId: 'trickle-1' });
		assert.equal(slow.json.externalId, 'trickle-1');
		const record = emu.requests[emu.requests.length - 1];
		assert.equal(record.bodyBytesSent, record.bodyBytes);
		assert.equal(record.finished, true);
		emu.injectFault({ path: 'customer/create', afterProcessing: true, status: 503, trickleMs: 1 });
		assert.equal((await call('customer/create', { externalId: 'trickle-2' })).json.errorCode, '000');
		assert.equal(emu.state.customers.size, before + 3);
	});
	test('send-event control route: picks the listening test webhook, newest confirmed transaction, forged or signed', async () => {
		/** @type {string[]} */
		const hits = [];
		const receiver = http.createServer((req, res) => {
			const chunks = /** @type {Buffer[]} */ ([]);
			req.on('data', (c) => chunks.push(c));
			req.on('end', () => {
				const body = Buffer.concat(chunks).toString('utf8');
				const sub = emu.subscriptions.find((x) => x.publicKey === req.headers.key);
				const ok = !!sub && req.headers.sign === sign(sub.secretKey, body);
				hits.push(`${req.url} ${ok}`);
				res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify({ ok }));
			});
		});
		await new Promise((r) => receiver.listen(0, '127.0.0.1', () => r(undefined)));
		const port = /** @type {import('node:net').AddressInfo} */ (receiver.address()).port;
		const send = async (/** @type {object} */ body) => {
			const res = await fetch(`${baseUrl}${SEND_EVENT_PATH}`, { method: 'POST', body: JSON.stringify(body) });
			return { status: res.status, json: /** @type {any} */ (await res.json()) };
		};
		try {
			emu.reset();
			const none = await send({});
			assert.equal(none.status, 404);
			assert.match(none.json.message, /Listen for test event/);
			const c = emu.seedCustomer();
			const [, confirmed] = emu.seedTransactions(c.id, 3, { state: ['DECLINED', 'CONFIRMED', 'DECLINED'] });
			const hook = (/** @type {string} */ p) => `http://127.0.0.1:${port}${p}`;
			await call(`${SUBS}/create`, createPayload(hook('/webhook-test/abc/webhook')));
			await call(`${SUBS}/create`, createPayload(hook('/webhook/abc/webhook')));
			const signed = await send({});
			assert.equal(signed.status, 200, JSON.stringify(signed.json));
			assert.equal(signed.json.url, hook('/webhook-test/abc/webhook'));
			assert.equal(signed.json.status, 200);
			assert.equal(signed.json.transactionId, confirmed.id);
			assert.equal(signed.json.eventType, EVENTS[0]);
			const forged = await send({ forge: true, url: '/webhook/' });
			assert.equal(forged.json.status, 401);
			assert.deepEqual(forged.json.body, { ok: false });
			assert.deepEqual(hits, ['/webhook-test/abc/webhook true', '/webhook/abc/webhook false']);
			assert.equal((await send({ url: '/nowhere/' })).status, 404);
			assert.match((await send({ eventType: 'CUSTOMER_PURSE_MEM_POOL_FOUND' })).json.message, /^eventType: /);
			assert.match((await send({ transactionId: 'nope' })).json.message, /^transactionId: /);
			assert.equal(emu.requests.some((r) => r.path === SEND_EVENT_PATH), false, 'not recorded as an API request');
		} finally {
			await new Promise((r) => receiver.close(() => r(undefined)));
		}
	});
	test('reset clears everything', async () => {
		emu.injectFault({ status: 500 });
		emu.reset();
		assert.equal(emu.state.customers.size, 0);
		assert.equal(emu.subscriptions.length, 0);
		assert.equal(emu.deliveries.length, 0);
		assert.equal(emu.requests.length, 0);
		expectError(await call('customer/get', { customerId }), 400, '004');
		assert.equal(emu.requests.length, 1);
	});

	let passed = 0;
	let failed = 0;
	for (const [name, fn] of tests) {
		try {
			await fn();
			passed++;
		} catch (e) {
			failed++;
			console.error(`FAIL ${name}\n  ${e && /** @type {Error} */ (e).stack}`);
		}
	}
	// a request still in flight (keep-alive socket) must not prevent stop()
	emu.injectFault({ delayMs: 60000 });
	const pending = call('customer/get', { customerId }).catch(() => 'aborted');
	await new Promise((r) => setTimeout(r, 50));
	await emu.stop();
	await pending;
	console.log(`${passed} passed, ${failed} failed`);
	process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
