// @ts-check
'use strict';
/**
 * Test emulator of the Calypso Pay "Customer Purse" HTTP API, and of its webhook subscriptions.
 * Zero dependencies: Node built-ins only. Request payloads are validated against the
 * OpenAPI file that sits beside this module (read at runtime); the subscription endpoints, which
 * that file does not describe, are validated by hand (see SUBSCRIPTION_PATH).
 */
const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const SPEC_FILE = path.join(__dirname, 'calypso-customer-purse.openapi.json');
const PREFIX = '/api/v1/customer-purse/';
const TIMESTAMP_WINDOW_MS = 180000;
/** findFaults.answerOrder: a held find page goes anyway once no find arrived or was answered for this long. */
const ORDER_GRACE_MS = 300;
/** list: POST (no payload); create: POST …/create; delete: DELETE with a JSON body. */
const SUBSCRIPTION_PATH = '/api/v1/subscription/webhook';
/** Not Calypso's: the emulator's own control route, for `node test/emulator/cli.js send-event` (see sendTestEvent). */
const SEND_EVENT_PATH = '/_emulator/send-event';
/**
 * Calypso's blocking rule (calypso-api-notes.md, "Blocking"): a subscription is blocked after MORE than this many
 * errors (any answer to a delivery but 200, or no answer) with no successful delivery within BLOCK_WINDOW_MS.
 */
const BLOCK_AFTER_ERRORS = 100;
const BLOCK_WINDOW_MS = 10 * 60 * 1000;
/** The Customer Purse events, with the `level` their deliveries carry. */
const EVENT_LEVELS = {
	CUSTOMER_PURSE_EXPIRED: 'WARNING',
	CUSTOMER_PURSE_MEM_POOL_FOUND: 'INFO',
	CUSTOMER_PURSE_PENDING_COMPLIANCE: 'INFO',
	CUSTOMER_PURSE_COMPLIANCE_DECLINED: 'WARNING',
	CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE: 'SUCCESS',
	CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED: 'SUCCESS',
};
const EVENT_TYPES = Object.keys(EVENT_LEVELS);
const SERVICE_TYPES = ['CUSTOMER_PURSE'];
/** Hand-written schemas for the subscription requests (same validator as the OpenAPI ones). */
/**
 * What other servers answer at a Calypso path, for `options.impersonate`: a Base URL pointing at the wrong
 * server must not look like Calypso. Bodies are what such servers typically send.
 */
const FOREIGN_ANSWERS = {
	'not-found-json': {
		status: 404,
		body: {
			timestamp: '2026-01-01T00:00:00.000+00:00',
			status: 404,
			error: 'Not Found',
			path: '/api/v1/customer-purse/customer/external/get',
		},
	},
	'not-found-html': {
		status: 404,
		body: '<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>',
	},
	'welcome-page': {
		status: 200,
		body: '<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>',
	},
	'unauthorized-json': { status: 401, body: { message: 'Unauthorized: missing or invalid credentials' } },
};

const SUBSCRIPTION_SCHEMAS = {
	envelope: {
		type: 'object',
		required: ['account', 'timestamp'],
		properties: {
			account: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
			timestamp: { type: 'integer', format: 'int64' },
		},
	},
	create: {
		type: 'object',
		required: ['requestId', 'notificationEventTypes', 'notificationServiceTypes', 'url'],
		properties: {
			requestId: { type: 'string', format: 'uuid' },
			notificationEventTypes: { type: 'array', items: { type: 'string', enum: EVENT_TYPES } },
			notificationServiceTypes: { type: 'array', items: { type: 'string', enum: SERVICE_TYPES } },
			url: { type: 'string', maxLength: 2048 },
		},
	},
	delete: {
		type: 'object',
		required: ['requestId'],
		properties: { requestId: { type: 'string', format: 'uuid' } },
	},
};

/** @type {Record<string, string>} currency -> blockchain */
const CHAIN_OF = {
	BTC: 'BTC',
	ETH: 'ETH',
	USDT: 'ETH',
	USDC: 'ETH',
	DAI: 'ETH',
	TRX: 'TRX',
	USDT_TRX: 'TRX',
	USDC_TRX: 'TRX',
	BNB: 'BSC',
	USDT_BSC: 'BSC',
	POL: 'POLYGON',
	USDT_MATIC: 'POLYGON',
	LTC: 'LTC',
	XDG: 'XDG',
};
const CURRENCIES = Object.keys(CHAIN_OF);
/** @type {Record<string, string>} */
const COMPLIANCE_OF = {
	MEM_POOL_FOUND: 'UNCHECKED',
	PENDING_COMPLIANCE_CHECK: 'IN_PROGRESS',
	CONFIRMED: 'CHECKED',
	DECLINED: 'DECLINE',
};
const TX_FIELDS = [
	'id',
	'amount',
	'addressFrom',
	'currency',
	'transactionHash',
	'transactionState',
	'complianceState',
	'translationToAccountCompleted',
	'createdDate',
];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** Error that becomes a Calypso-shaped error response. */
class ApiError extends Error {
	/** @param {number} status @param {string} code @param {string} message */
	constructor(status, code, message) {
		super(message);
		this.status = status;
		this.code = code;
	}
}
/** @param {string} msg */
/** A fault that only shapes the normal answer (trickleMs / cutBodyAt without status, body or drop). @param {any} fault */
const shapesOnly = (fault) =>
	(fault.trickleMs !== undefined || fault.cutBodyAt !== undefined) &&
	fault.status === undefined &&
	fault.body === undefined &&
	!fault.drop;

const badRequest = (msg) => new ApiError(400, '001', msg);
/** @param {string} what */
const notFound = (what) => new ApiError(400, '004', `${what} not found`);

// ---------------------------------------------------------------- schema validation

/**
 * Minimal JSON-schema validator for the OpenAPI subset used by the spec.
 * Returns the first error message ("<path>: <problem>") or null.
 * @param {any} spec @param {any} schema @param {any} value @param {string} at
 * @returns {string | null}
 */
function validate(spec, schema, value, at) {
	if (schema && schema.$ref) schema = resolveRef(spec, schema.$ref);
	if (!schema) return null;
	const fail = (/** @type {string} */ m) => `${at}: ${m}`;
	switch (schema.type) {
		case 'object': {
			if (value === null || typeof value !== 'object' || Array.isArray(value))
				return fail('must be an object');
			for (const name of schema.required || []) {
				if (value[name] === undefined || value[name] === null) return `${at}.${name}: is required`;
			}
			for (const [name, sub] of Object.entries(schema.properties || {})) {
				if (value[name] === undefined || value[name] === null) continue;
				const err = validate(spec, sub, value[name], `${at}.${name}`);
				if (err) return err;
			}
			return null;
		}
		case 'array': {
			if (!Array.isArray(value)) return fail('must be an array');
			for (let i = 0; i < value.length; i++) {
				const err = validate(spec, schema.items, value[i], `${at}[${i}]`);
				if (err) return err;
			}
			return null;
		}
		case 'string': {
			if (typeof value !== 'string') return fail('must be a string');
			if (schema.enum && !schema.enum.includes(value))
				return fail(`must be one of [${schema.enum.join(', ')}]`);
			if (schema.format === 'uuid' && !UUID_RE.test(value)) return fail('must be a uuid');
			if (schema.pattern && !new RegExp(schema.pattern).test(value))
				return fail(`must match "${schema.pattern}"`);
			// JSON Schema counts a string's length in characters (Unicode code points), not UTF-16 units.
			const chars = [...value].length;
			if (schema.maxLength !== undefined && chars > schema.maxLength)
				return fail(`length must be at most ${schema.maxLength}`);
			if (schema.minLength !== undefined && chars < schema.minLength)
				return fail(`length must be at least ${schema.minLength}`);
			return null;
		}
		case 'integer': {
			if (typeof value !== 'number' || !Number.isInteger(value)) return fail('must be an integer');
			if (schema.format === 'int32' && (value < -2147483648 || value > 2147483647))
				return fail('must be a 32-bit integer');
			if (!Number.isSafeInteger(value)) return fail('must be a 64-bit integer');
			return null;
		}
		case 'number':
			return typeof value === 'number' && Number.isFinite(value) ? null : fail('must be a number');
		case 'boolean':
			return typeof value === 'boolean' ? null : fail('must be a boolean');
		default:
			return null;
	}
}

/** @param {any} spec @param {string} ref */
function resolveRef(spec, ref) {
	if (!ref.startsWith('#/')) throw new Error(`Unsupported $ref ${ref}`);
	return ref
		.slice(2)
		.split('/')
		.reduce((node, key) => (node ? node[key] : undefined), spec);
}

// ---------------------------------------------------------------- fake chain data

/** @param {string} alphabet @param {number} n */
function randomChars(alphabet, n) {
	const bytes = crypto.randomBytes(n);
	let out = '';
	for (let i = 0; i < n; i++) out += alphabet[bytes[i] % alphabet.length];
	return out;
}
/** @param {string} chain */
function fakeAddress(chain) {
	switch (chain) {
		case 'TRX':
			return 'T' + randomChars(B58, 33);
		case 'BTC':
			return 'bc1q' + randomChars(BECH32, 38);
		case 'LTC':
			return 'ltc1q' + randomChars(BECH32, 38);
		case 'XDG':
			return 'D' + randomChars(B58, 33);
		default:
			return '0x' + crypto.randomBytes(20).toString('hex'); // ETH, BSC, POLYGON
	}
}
/** @param {string} chain */
function fakeTxHash(chain) {
	const hex = crypto.randomBytes(32).toString('hex');
	return ['ETH', 'BSC', 'POLYGON'].includes(chain) ? '0x' + hex : hex;
}

// ---------------------------------------------------------------- output projections

/** @param {any} obj @param {string[]} keys */
function pick(obj, keys) {
	/** @type {any} */
	const out = {};
	for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) out[k] = obj[k];
	return out;
}
/** @param {any} c */
const customerDTO = (c) => pick(c, ['id', 'email', 'description', 'externalId', 'blocked']);
/** @param {any} p */
const purseDTO = (p) => ({
	id: p.id,
	address: p.address,
	currencies: [...p.currencies],
	createdDate: p.createdDate,
});
/** @param {any} t */
const txDTO = (t) => ({
	...pick(t, TX_FIELDS),
	complianceState: COMPLIANCE_OF[t.transactionState] || t.complianceState,
});

// ---------------------------------------------------------------- transaction/find helpers

/** @param {any} f @param {any} v @param {boolean} fuzzy */
function matchesFilter(f, v, fuzzy) {
	if (!f) return true;
	if (f.equals != null && v !== f.equals) return false;
	if (f.notEquals != null && v === f.notEquals) return false;
	if (f.specified != null && (v != null) !== f.specified) return false;
	if (f.in != null && !f.in.includes(v)) return false;
	if (f.notIn != null && f.notIn.includes(v)) return false;
	if (fuzzy) {
		const s = String(v ?? '').toUpperCase();
		if (f.contains != null && !s.includes(String(f.contains).toUpperCase())) return false;
		if (f.doesNotContain != null && s.includes(String(f.doesNotContain).toUpperCase())) return false;
	}
	return true;
}
/** @param {any} a @param {any} b */
function compareValues(a, b) {
	if (a == null || b == null) return a == null ? (b == null ? 0 : -1) : 1;
	if (typeof a === 'number' && typeof b === 'number') return a - b;
	if (typeof a === 'boolean') return Number(a) - Number(b);
	return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------- emulator

/**
 * @param {Partial<import('./index').EmulatorOptions>} [options]
 * @returns {import('./index').Emulator}
 */
function createEmulator(options = {}) {
	const spec = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8'));
	/** @type {Record<string, any>} operation name -> container schema */
	const containers = {};
	for (const [p, item] of Object.entries(spec.paths)) {
		if (!p.startsWith(PREFIX) || !item.post) continue;
		const schema = item.post.requestBody?.content?.['application/json']?.schema;
		containers[p.slice(PREFIX.length)] = schema && schema.$ref ? resolveRef(spec, schema.$ref) : schema;
	}

	/** @type {Required<import('./index').EmulatorOptions>} */
	const opts = {
		apiKey: 'emu-public-key-0001',
		apiSecret: 'emu-secret-key-0001-do-not-leak',
		account: '0x1111111111111111111111111111111111111111',
		maxPageSize: 100,
		latencyMs: 0,
		clockOffsetMs: 0,
		impersonate: 'none',
		clock: () => Date.now(),
	};
	for (const [k, v] of Object.entries(options)) if (v !== undefined) /** @type {any} */ (opts)[k] = v;

	const state = {
		/** @type {Map<string, any>} */ customers: new Map(),
		/** @type {Map<string, any>} */ purses: new Map(),
		/** @type {Map<string, any>} */ transactions: new Map(),
		/** @type {Map<string, any>} */ subscriptions: new Map(),
	};
	/**
	 * Per subscription, what Calypso's blocking rule reads (times from `opts.clock`): errors since the last
	 * successful delivery, and when that streak's 10 minutes started (the last success, the creation or the unblocking).
	 * @type {Map<string, { errors: number, since: number, lastSuccessAt?: number, blockedAt?: number }>}
	 */
	const health = new Map();
	const clockNow = () => Number(opts.clock ? opts.clock() : Date.now());
	/** Bumped whenever a transaction is added or changed (updateTransaction) or all are removed: what `findIndex` is valid for. */
	let txVersion = 0;
	/** Sorted, filtered transaction lists by find query (see sortedTransactions). */
	const findIndex = { version: 0, rows: 0, /** @type {Map<string, any[]>} */ lists: new Map() };
	/** @type {any[]} */
	const requests = [];
	/** @type {any[]} */
	const deliveries = [];
	let nextEventId = 1001;
	/** @type {any[]} */
	const faults = [];
	/** @type {import('./index').FindFaults} */
	const findFaults = {};
	let inFlight = 0;
	/** findFaults.answerOrder: pages of transaction/find answered so far (first answers), and the answers held. */
	const findOrder = {
		/** @type {Set<number>} */ answered: new Set(),
		/** @type {Set<{ page: number }>} */ waiting: new Set(),
		/** The answerOrder `answered` is about. @type {number[] | undefined} */ order: undefined,
		/** Find answers given (any page), for beforeAnswer / afterAnswer. */
		answers: 0,
		/** Date.now() of the last arrival or answer of a find: a hold ends when nothing moved for ORDER_GRACE_MS. */
		lastProgress: 0,
	};
	/** Answers held by findFaults.holdUntilInFlight, each with the most requests in flight since it arrived. */
	const held = new Set();
	/** @type {Set<import('node:net').Socket>} */
	const sockets = new Set();
	/** @type {Set<{timer: NodeJS.Timeout, resolve: () => void}>} */
	const timers = new Set();
	/** @type {http.Server | null} */
	let server = null;
	let baseUrl = '';
	let stopping = false;
	/** Counts reset() calls: a request still landing from before a reset is dropped. */
	let resets = 0;

	const now = () => Date.now() + (Number(opts.clockOffsetMs) || 0);
	const isoNow = () => new Date(now()).toISOString();
	/** @param {number} ms @returns {Promise<void>} */
	const sleep = (ms) =>
		new Promise((resolve) => {
			if (!(ms > 0)) return resolve();
			const entry = {
				timer: setTimeout(() => {
					timers.delete(entry);
					resolve();
				}, ms),
				resolve,
			};
			timers.add(entry);
		});

	/** @param {string} id */
	function getCustomer(id) {
		const c = state.customers.get(id);
		if (!c) throw notFound('Customer');
		return c;
	}

	/** Returns the customer's purse for the currency's chain, creating it when missing. @param {string} customerId @param {string} currency */
	function ensurePurse(customerId, currency) {
		const chain = CHAIN_OF[currency];
		if (!chain) throw new ApiError(400, '014', 'Invalid currency');
		for (const p of state.purses.values()) {
			if (p.customerId === customerId && CHAIN_OF[p.currencies[0]] === chain) return p;
		}
		const purse = {
			id: crypto.randomUUID(),
			address: fakeAddress(chain),
			currencies: CURRENCIES.filter((c) => CHAIN_OF[c] === chain),
			createdDate: isoNow(),
			customerId,
		};
		state.purses.set(purse.id, purse);
		return purse;
	}

	/** @type {Record<string, (p: any) => any>} */
	const operations = {
		'customer/create': (p) => {
			const c = {
				id: crypto.randomUUID(),
				email: p.email ?? undefined,
				description: p.description ?? undefined,
				externalId: p.externalId ?? undefined,
				blocked: false,
			};
			state.customers.set(c.id, c);
			return customerDTO(c);
		},
		'customer/get': (p) => customerDTO(getCustomer(p.customerId)),
		'customer/external/get': (p) => ({
			customers: [...state.customers.values()].filter((c) => c.externalId === p.externalId).map(customerDTO),
		}),
		'customer/update': (p) => {
			const c = getCustomer(p.id);
			if (p.email != null) c.email = p.email;
			if (p.description != null) c.description = p.description;
			return customerDTO(c);
		},
		'customer/block': (p) => {
			const c = getCustomer(p.customerId);
			c.blocked = true;
			return customerDTO(c);
		},
		'customer/unblock': (p) => {
			const c = getCustomer(p.customerId);
			c.blocked = false;
			return customerDTO(c);
		},
		'purse/get-all': (p) => {
			getCustomer(p.customerId);
			return {
				purses: [...state.purses.values()].filter((x) => x.customerId === p.customerId).map(purseDTO),
			};
		},
		'address/get': (p) => {
			getCustomer(p.customerId);
			return purseDTO(ensurePurse(p.customerId, p.currency));
		},
		'transaction/get': (p) => {
			const t = state.transactions.get(p.transactionId);
			if (!t) throw notFound('Transaction');
			return txDTO(t);
		},
		'transaction/find': (p) => {
			if (p.pageNumber < 1) throw badRequest('payload.pageNumber: must be greater than or equal to 1');
			if (p.pageSize < 1) throw badRequest('payload.pageSize: must be greater than or equal to 1');
			if (!TX_FIELDS.includes(p.properties))
				throw badRequest(`payload.properties: unknown sort property '${p.properties}'`);
			getCustomer(p.customerId);
			const all = sortedTransactions(p);
			const size = Math.max(1, Math.min(p.pageSize, Number(opts.maxPageSize) || p.pageSize));
			const total = Math.ceil(all.length / size);
			// findFaults.repeatLastPage: a page past the end answers with the last page again.
			const pageNumber =
				findFaults.repeatLastPage && total > 0 ? Math.min(p.pageNumber, total) : p.pageNumber;
			const start = (pageNumber - 1) * size;
			const page = { result: all.slice(start, start + size), page: p.pageNumber, size };
			return findFaults.noTotal ? page : { ...page, total, totalElements: all.length };
		},
	};

	/**
	 * The customer's transactions matching a find's filters, as the API shows them, in the find's order: filtered,
	 * projected and sorted once, then kept (as a database keeps an index) until a transaction is added or the
	 * emulator is reset, so a find costs what its page costs, not a sort of every row. @param {any} p a find payload
	 */
	function sortedTransactions(p) {
		if (findIndex.version !== txVersion || findIndex.rows !== state.transactions.size) {
			findIndex.lists.clear();
			findIndex.version = txVersion;
			findIndex.rows = state.transactions.size;
		}
		const cacheKey = JSON.stringify([p.customerId, p.properties, p.sort, p.currencyFilter, p.transactionStateFilter]);
		const cached = findIndex.lists.get(cacheKey);
		if (cached) return cached;
		const dir = p.sort === 'DESC' ? -1 : 1;
		const key = p.properties;
		const all = [...state.transactions.values()]
			.filter(
				(t) =>
					t.customerId === p.customerId &&
					matchesFilter(p.currencyFilter, t.currency, true) &&
					matchesFilter(p.transactionStateFilter, t.transactionState, false),
			)
			.map(txDTO)
			.sort((a, b) => dir * compareValues(a[key], b[key]) || compareValues(a.id, b.id));
		findIndex.lists.set(cacheKey, all);
		return all;
	}

	/**
	 * Checks Key and Sign, then parses the body. Throws ApiError on failure.
	 * @param {string} rawBody @param {http.IncomingHttpHeaders} headers @returns {any}
	 */
	function authenticate(rawBody, headers) {
		const key = headers['key'];
		if (typeof key !== 'string' || key !== opts.apiKey) throw new ApiError(401, '002', 'Invalid API key');
		const sign = headers['sign'];
		const expected = Buffer.from(
			crypto.createHmac('sha512', opts.apiSecret).update(rawBody, 'utf8').digest('hex'),
		);
		const given = Buffer.from(typeof sign === 'string' ? sign : '');
		if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
			throw new ApiError(400, '003', 'Wrong sign');
		}
		/** @type {any} */
		let body;
		try {
			body = JSON.parse(rawBody);
		} catch {
			throw badRequest('body: must be valid JSON');
		}
		if (body === null || typeof body !== 'object' || Array.isArray(body))
			throw badRequest('body: must be an object');
		return body;
	}

	/** Account and timestamp of a parsed, schema-checked body. @param {any} body */
	function checkAccountAndTime(body) {
		if (body.account !== opts.account) throw badRequest('Account not found for this API key');
		if (Math.abs(body.timestamp - now()) > TIMESTAMP_WINDOW_MS)
			throw new ApiError(400, '011', 'Invalid timestamp');
	}

	/**
	 * Authenticates, validates and runs one request. Throws ApiError on failure.
	 * @param {string} op @param {string} rawBody @param {http.IncomingHttpHeaders} headers
	 */
	function processRequest(op, rawBody, headers) {
		const body = authenticate(rawBody, headers);
		const container = containers[op];
		const { payload: payloadSchema, ...envelopeProps } = container.properties;
		const envelope = {
			...container,
			properties: envelopeProps,
			required: (container.required || []).filter((/** @type {string} */ r) => r !== 'payload'),
		};
		const envErr = validate(spec, envelope, body, 'body');
		if (envErr) throw badRequest(envErr.replace(/^body\./, ''));
		checkAccountAndTime(body);
		if (body.payload === undefined || body.payload === null) {
			if ((container.required || []).includes('payload')) throw badRequest('payload: is required');
		} else {
			const err = validate(spec, payloadSchema, body.payload, 'payload');
			if (err) throw badRequest(err);
		}
		return operations[op](body.payload || {});
	}

	/** @param {any} s */
	const subscriptionDTO = (s) => ({
		requestId: s.requestId,
		notificationEventTypes: [...s.notificationEventTypes],
		notificationServiceTypes: [...s.notificationServiceTypes],
		url: s.url,
		publicKey: s.publicKey,
		secretKey: s.secretKey,
		createdDate: s.createdDate,
		state: s.state ?? 'ACTIVE',
	});

	/** The subscription operation a request is for, if any. @param {string | undefined} method @param {string} urlPath */
	function subscriptionOp(method, urlPath) {
		if (urlPath === SUBSCRIPTION_PATH && method === 'POST') return 'list';
		if (urlPath === SUBSCRIPTION_PATH && method === 'DELETE') return 'delete';
		if (urlPath === `${SUBSCRIPTION_PATH}/create` && method === 'POST') return 'create';
		return undefined;
	}

	/**
	 * The webhook subscription endpoints: same Key/Sign/account/timestamp checks as every request.
	 * @param {'list' | 'create' | 'delete'} op @param {string} rawBody @param {http.IncomingHttpHeaders} headers
	 */
	function processSubscription(op, rawBody, headers) {
		const body = authenticate(rawBody, headers);
		const envErr = validate(spec, SUBSCRIPTION_SCHEMAS.envelope, body, 'body');
		if (envErr) throw badRequest(envErr.replace(/^body\./, ''));
		checkAccountAndTime(body);
		if (op === 'list') return { subscriptions: [...state.subscriptions.values()].map(subscriptionDTO) };
		const p = body.payload;
		if (p === undefined || p === null) throw badRequest('payload: is required');
		const err = validate(spec, SUBSCRIPTION_SCHEMAS[op], p, 'payload');
		if (err) throw badRequest(err);
		if (op === 'delete') {
			const s = state.subscriptions.get(p.requestId);
			if (!s) throw notFound('Subscription');
			state.subscriptions.delete(p.requestId);
			health.delete(p.requestId);
			return { requestId: p.requestId };
		}
		if (p.notificationEventTypes.length === 0)
			throw badRequest('payload.notificationEventTypes: must not be empty');
		if (p.notificationServiceTypes.length === 0)
			throw badRequest('payload.notificationServiceTypes: must not be empty');
		/** @type {URL} */
		let url;
		try {
			url = new URL(p.url);
		} catch {
			throw badRequest('payload.url: must be a URL');
		}
		if (url.protocol !== 'http:' && url.protocol !== 'https:')
			throw badRequest('payload.url: must be an http(s) URL');
		if (state.subscriptions.has(p.requestId)) throw badRequest('payload.requestId: already used');
		const s = {
			requestId: p.requestId,
			notificationEventTypes: [...new Set(/** @type {string[]} */ (p.notificationEventTypes))],
			notificationServiceTypes: [...new Set(/** @type {string[]} */ (p.notificationServiceTypes))],
			url: p.url,
			publicKey: crypto.randomBytes(16).toString('hex'),
			secretKey: crypto.randomBytes(16).toString('hex'),
			createdDate: isoNow().replace(/Z$/, ''),
			state: 'ACTIVE',
		};
		state.subscriptions.set(s.requestId, s);
		health.set(s.requestId, { errors: 0, since: clockNow() });
		return subscriptionDTO(s);
	}

	/**
	 * The `data` of an event: from a seeded transaction (`transactionId`) or customer (`customerId`), if given.
	 * @param {any} event
	 */
	function eventData(event) {
		/** @type {Record<string, unknown>} */
		const data = {};
		const t = event.transactionId ? state.transactions.get(event.transactionId) : undefined;
		if (event.transactionId && !t)
			throw new Error(`deliverEvent: unknown transaction ${event.transactionId}`);
		const customerId = t ? t.customerId : event.customerId;
		if (customerId) {
			const c = state.customers.get(customerId);
			if (!c) throw new Error(`deliverEvent: unknown customer ${customerId}`);
			data.customerId = c.id;
			data.customerBlocked = !!c.blocked;
			const purse = t
				? ensurePurse(c.id, t.currency)
				: [...state.purses.values()].find((x) => x.customerId === c.id);
			if (purse) {
				data.purseId = purse.id;
				data.address = purse.address;
			}
		}
		if (t) {
			data.transactionId = t.id;
			data.amount = t.amount;
			data.currency = t.currency;
		}
		return data;
	}

	/**
	 * POSTs a body to a URL and reads the answer. No keep-alive: nothing stays open afterwards. `abort`: send the
	 * whole body's Content-Length but only its first `afterBytes` bytes, then drop the connection `afterMs` later.
	 * @param {string} url @param {string | Buffer} body @param {Record<string, string>} headers @param {number} timeoutMs
	 * @param {{ afterBytes: number, afterMs: number }} [abort]
	 * @returns {Promise<{ status: number, body: any, headers: http.IncomingHttpHeaders }>}
	 */
	function post(url, body, headers, timeoutMs, abort) {
		const target = new URL(url);
		const lib = target.protocol === 'https:' ? https : http;
		return new Promise((resolve, reject) => {
			const req = lib.request(
				target,
				{
					method: 'POST',
					agent: false,
					timeout: timeoutMs,
					headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' },
				},
				(res) => {
					const chunks = /** @type {Buffer[]} */ ([]);
					res.on('data', (chunk) => chunks.push(chunk));
					res.on('end', () => {
						const text = Buffer.concat(chunks).toString('utf8');
						/** @type {any} */
						let parsed = text;
						try {
							parsed = JSON.parse(text);
						} catch {
							/* not JSON */
						}
						resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
					});
					res.on('error', reject);
				},
			);
			req.on('timeout', () =>
				req.destroy(new Error(`deliverEvent: no answer from ${url} in ${timeoutMs} ms`)),
			);
			req.on('error', reject);
			if (!abort) {
				req.end(body);
				return;
			}
			req.write(Buffer.from(body).subarray(0, abort.afterBytes));
			setTimeout(() => req.destroy(new Error(`deliverEvent: upload aborted after ${abort.afterBytes} bytes`)), abort.afterMs);
		});
	}

	/** @param {string} code @param {string} message */
	const errorBody = (code, message) => ({
		errorCode: code,
		message,
		traceId: crypto.randomBytes(16).toString('hex'),
	});

	/**
	 * POST SEND_EVENT_PATH: sends one event, like Calypso, to the subscription a developer most likely means: the one
	 * whose URL contains `url` if given, else the newest test webhook ("Listen for test event": URL with
	 * /webhook-test/), else the newest subscription. The event is about the newest CONFIRMED transaction (or the
	 * given one); CUSTOMER_PURSE_EXPIRED is about the first customer. Answers what the receiver answered.
	 * @param {any} p {url?, eventType?, transactionId?, forge?}
	 * @returns {Promise<import('./index').SendEventResult>}
	 */
	async function sendTestEvent(p = {}) {
		const all = [...state.subscriptions.values()].reverse(); // newest first
		if (all.length === 0) {
			throw new ApiError(404, '004', 'No webhook subscription: click "Listen for test event" on the trigger in the n8n editor, or publish its workflow, then send again');
		}
		const matching = p.url ? all.filter((s) => s.url.includes(String(p.url))) : all;
		const sub = matching.find((s) => s.url.includes('/webhook-test/')) ?? matching[0];
		if (!sub) throw new ApiError(404, '004', `No subscription URL contains "${p.url}"; subscribed: ${all.map((s) => s.url).join(', ')}`);
		const eventType = p.eventType ?? sub.notificationEventTypes[0];
		if (!sub.notificationEventTypes.includes(eventType)) {
			throw new ApiError(400, '001', `eventType: ${sub.url} is subscribed to ${sub.notificationEventTypes.join(', ')}, not ${eventType}`);
		}
		if (p.transactionId && !state.transactions.has(p.transactionId)) {
			throw new ApiError(400, '001', `transactionId: no transaction ${p.transactionId} in the emulator`);
		}
		/** @type {Record<string, unknown>} */
		const event = { eventType };
		if (eventType === 'CUSTOMER_PURSE_EXPIRED') event.customerId = [...state.customers.keys()][0];
		else {
			const txs = [...state.transactions.values()].reverse();
			event.transactionId = p.transactionId ?? (txs.find((t) => t.transactionState === 'CONFIRMED') ?? txs[0])?.id;
		}
		if (sub.state === 'BLOCKED') {
			throw new ApiError(409, '000', `Subscription ${sub.requestId} (${sub.url}) is BLOCKED: Calypso delivers nothing to it until it is unblocked`);
		}
		try {
			const r = await emulator.deliverEvent(sub.requestId, event, { forge: !!p.forge, timeoutMs: 20000 });
			return {
				url: sub.url, requestId: sub.requestId, eventId: r.id, eventType, forged: !!p.forge,
				transactionId: /** @type {string | undefined} */ (event.transactionId), status: r.status, body: r.body,
			};
		} catch (e) {
			throw new ApiError(502, '000', `${/** @type {Error} */ (e).message} (subscription ${sub.url})`);
		}
	}

	/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
	async function handle(req, res) {
		const urlPath = (req.url || '/').split('?')[0];
		const chunks = [];
		for await (const chunk of req) chunks.push(chunk);
		const rawBody = Buffer.concat(chunks).toString('utf8');
		/** @type {any} */
		let parsed;
		try {
			parsed = JSON.parse(rawBody);
		} catch {
			parsed = undefined;
		}
		/** @type {Record<string, string | undefined>} */
		const headers = {};
		for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
		const started = Date.now();
		const record = {
			method: req.method || '',
			path: urlPath,
			headers,
			rawBody,
			body: parsed,
			status: 0,
			response: /** @type {any} */ (undefined),
			at: now(),
			inFlight: ++inFlight,
		};
		if (urlPath === SEND_EVENT_PATH && req.method === 'POST') {
			inFlight--; // a control call, not an API request
			let status = 200;
			/** @type {unknown} */
			let answer;
			try {
				answer = await sendTestEvent(parsed);
			} catch (e) {
				const err = e instanceof ApiError ? e : new ApiError(400, '001', /** @type {Error} */ (e).message);
				status = err.status;
				answer = errorBody(err.code, err.message);
			}
			res.writeHead(status, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify(answer));
			return;
		}
		for (const waiter of held) waiter.peak = Math.max(waiter.peak, inFlight);
		requests.push(record);
		let answered = false;
		const done = () => {
			if (!answered) inFlight--;
			answered = true;
		};
		res.on('close', done);

		/**
		 * @param {number} status @param {any} payload @param {Record<string, string>} [extraHeaders]
		 * @param {{ trickleMs?: number, cutBodyAt?: number }} [shape] a fault's trickleMs / cutBodyAt
		 */
		const send = async (status, payload, extraHeaders = {}, shape = {}) => {
			await sleep(Number(opts.latencyMs) || 0);
			done();
			const isRaw = typeof payload === 'string';
			const text = isRaw ? payload : JSON.stringify(payload);
			record.status = status;
			record.response = payload;
			if (res.destroyed || res.writableEnded || stopping) {
				emulator.onRequest?.(record, Date.now() - started);
				return;
			}
			/** @type {Record<string, string>} */
			const h = {
				Date: new Date(now()).toUTCString(),
				'Content-Type':
					isRaw && payload.trimStart().startsWith('<') ? 'text/html; charset=utf-8' : 'application/json',
				'Content-Length': String(Buffer.byteLength(text)),
				...extraHeaders,
			};
			const bytes = Buffer.from(text);
			record.bodyBytes = bytes.length;
			record.bodyBytesSent = 0;
			record.finished = false;
			if (shape.cutBodyAt !== undefined) {
				// The body ends early, cleanly framed (no Content-Length, connection closed): a short 2xx body.
				delete h['Content-Length'];
				h.Connection = 'close';
				res.writeHead(status, h);
				const part = bytes.subarray(0, Math.max(0, shape.cutBodyAt));
				record.bodyBytesSent = part.length;
				res.end(part);
				record.finished = true;
				emulator.onRequest?.(record, Date.now() - started);
				return;
			}
			if (shape.trickleMs !== undefined) {
				// Headers at once, then the body one byte every trickleMs while the client listens.
				res.writeHead(status, h);
				for (let i = 0; i < bytes.length; i++) {
					if (res.destroyed || stopping) break;
					res.write(bytes.subarray(i, i + 1));
					record.bodyBytesSent = i + 1;
					if (i === bytes.length - 1) break;
					await sleep(shape.trickleMs);
				}
				if (!res.destroyed && !stopping) {
					res.end();
					record.finished = record.bodyBytesSent === bytes.length;
				}
				emulator.onRequest?.(record, Date.now() - started);
				return;
			}
			res.writeHead(status, h);
			res.end(text);
			record.bodyBytesSent = bytes.length;
			record.finished = true;
			emulator.onRequest?.(record, Date.now() - started);
		};

		/** @param {any} fault @param {{ status: number, result: any }} [processed] the normal answer, if processed */
		const applyFault = async (fault, processed) => {
			await sleep(fault.delayMs || 0);
			if (fault.drop) {
				record.status = 0;
				record.response = undefined;
				done();
				req.socket.destroy();
				emulator.onRequest?.(record, Date.now() - started);
				return;
			}
			const shape = { trickleMs: fault.trickleMs, cutBodyAt: fault.cutBodyAt };
			// trickleMs / cutBodyAt alone: the normal answer, shaped.
			if (processed && shapesOnly(fault)) return send(processed.status, processed.result, fault.headers || {}, shape);
			const body = fault.body !== undefined ? fault.body : errorBody('000', 'Injected fault');
			await send(fault.status || 500, body, fault.headers || {}, shape);
		};

		let fault = faults.find((f) => {
			if (!(f.times > 0)) return false;
			if (f.method && f.method !== req.method) return false;
			if (f.path && !urlPath.endsWith(f.path)) return false;
			if (f.match) {
				try {
					if (!f.match({ path: urlPath, body: parsed })) return false;
				} catch {
					return false;
				}
			}
			return true;
		});
		if (fault) fault.times--;

		const op = urlPath.startsWith(PREFIX) ? urlPath.slice(PREFIX.length) : '';
		/** Carries the request out (state changes happen here). @returns {{ status: number, result: any }} */
		const processNow = () => {
			const subscriptionOperation = subscriptionOp(req.method, urlPath);
			if (!subscriptionOperation && (req.method !== 'POST' || !containers[op])) {
				return { status: 404, result: errorBody('004', `No endpoint ${req.method} ${urlPath}`) };
			}
			try {
				const result = subscriptionOperation
					? processSubscription(subscriptionOperation, rawBody, req.headers)
					: processRequest(op, rawBody, req.headers);
				return { status: 200, result };
			} catch (e) {
				const err =
					e instanceof ApiError
						? e
						: new ApiError(500, '000', `Internal error: ${/** @type {Error} */ (e).message}`);
				return { status: err.status, result: errorBody(err.code, err.message) };
			}
		};

		/** Waits until `count` requests are in flight at once (this one included), at most 2 s. @param {number} count */
		const holdUntilInFlight = async (count) => {
			const waiter = { peak: record.inFlight };
			const until = Date.now() + 2000;
			held.add(waiter);
			while (waiter.peak < count && Date.now() < until && !stopping) await sleep(2);
			held.delete(waiter);
		};
		if (fault?.holdUntilInFlight) {
			await holdUntilInFlight(fault.holdUntilInFlight);
			// Nothing else to do: after its delay the request is answered normally.
			if (fault.status === undefined && fault.body === undefined && !fault.drop && fault.landAfterMs === undefined) {
				await sleep(fault.delayMs || 0);
				fault = undefined;
			}
		}

		if (fault && fault.landAfterMs !== undefined && !shapesOnly(fault)) {
			// A slow backend: the request lands later, whatever the client was told or did meanwhile.
			const era = resets;
			const landing = sleep(fault.landAfterMs).then(() =>
				stopping || era !== resets ? undefined : processNow(),
			);
			if (fault.status !== undefined || fault.drop || fault.body !== undefined) return applyFault(fault);
			const landed = await landing;
			return landed ? send(landed.status, landed.result) : undefined;
		}
		if (fault && !fault.afterProcessing && !shapesOnly(fault)) return applyFault(fault);
		const foreign = FOREIGN_ANSWERS[/** @type {keyof typeof FOREIGN_ANSWERS} */ (opts.impersonate)];
		if (foreign) return send(foreign.status, foreign.body);
		if (op === 'transaction/find') return answerFind(fault);
		const { status, result } = processNow();
		if (fault) return applyFault(fault, { status, result });
		return send(status, result);

		/** Answers one transaction/find, with findFaults' holds, hooks and deposits. @param {any} fault */
		async function answerFind(fault) {
			const payload = parsed?.payload ?? {};
			const pageNumber = Number(payload.pageNumber);
			await findTurn(pageNumber);
			findFaults.beforeAnswer?.({ page: pageNumber, index: findOrder.answers });
			const { status, result } = processNow();
			try {
				if (fault) return await applyFault(fault, { status, result });
				if (status !== 200) return await send(status, result);
				return await answerFoundPage(status, result);
			} finally {
				findOrder.answered.add(pageNumber);
				findOrder.lastProgress = Date.now();
				const index = findOrder.answers++;
				findFaults.afterAnswer?.({ page: pageNumber, index });
			}
		}

		/** @param {number} status @param {any} result */
		async function answerFoundPage(status, result) {
			const { pageNumber, customerId, currencyFilter } = parsed.payload;
			// findFaults.holdUntilInFlight: pages after the first wait for company (at most 2 s).
			if (pageNumber > 1 && findFaults.holdUntilInFlight) await holdUntilInFlight(findFaults.holdUntilInFlight);
			await send(status, result);
			if (findFaults.depositAfterPage === pageNumber) {
				// A deposit arrives once this page is out: created now, so newest first puts it on top, oldest first last.
				delete findFaults.depositAfterPage;
				const currency = currencyFilter?.in?.[0] ?? currencyFilter?.equals ?? 'USDT_TRX';
				emulator.seedTransactions(customerId, 1, { startDate: new Date(now()), currency, amount: 1.5 });
			}
		}
	}

	/**
	 * findFaults.answerOrder: a page listed there waits (before it is computed, so its answer shows the data as it
	 * is when it goes out) until every page listed before it has been answered once. When no find moved for
	 * ORDER_GRACE_MS (a listed page that is never asked for) the earliest-listed waiting page goes.
	 * @param {number} page
	 */
	async function findTurn(page) {
		findOrder.lastProgress = Date.now();
		const order = findFaults.answerOrder;
		if (order !== findOrder.order) {
			// A new order counts the answers given after it was set.
			findOrder.order = order;
			findOrder.answered.clear();
		}
		if (!order || !order.includes(page) || findOrder.answered.has(page)) return;
		const waiter = { page };
		findOrder.waiting.add(waiter);
		while (!stopping) {
			const ahead = order.slice(0, order.indexOf(page));
			if (ahead.every((p) => findOrder.answered.has(p))) break;
			const earliest = [...findOrder.waiting].sort((a, b) => order.indexOf(a.page) - order.indexOf(b.page))[0];
			if (earliest === waiter && Date.now() - findOrder.lastProgress > ORDER_GRACE_MS) break;
			await sleep(2);
		}
		findOrder.waiting.delete(waiter);
	}

	/** @param {unknown} requestId @param {string} caller */
	function subscriptionOf(requestId, caller) {
		const id = typeof requestId === 'string' ? requestId : /** @type {any} */ (requestId)?.requestId;
		const sub = state.subscriptions.get(String(id));
		if (!sub) throw new Error(`${caller}: no subscription ${id}`);
		return sub;
	}
	/** @param {any} sub */
	function healthOf(sub) {
		let h = health.get(sub.requestId);
		if (!h) health.set(sub.requestId, (h = { errors: 0, since: clockNow() }));
		return h;
	}
	/** Blocks or unblocks, as Calypso (or its dashboard) does; unblocking starts a fresh 10 minutes. @param {any} sub @param {'ACTIVE' | 'BLOCKED'} next */
	function setState(sub, next) {
		const h = healthOf(sub);
		if (next === 'BLOCKED' && sub.state !== 'BLOCKED') h.blockedAt = clockNow();
		if (next === 'ACTIVE') Object.assign(h, { errors: 0, since: clockNow(), blockedAt: undefined });
		sub.state = next;
	}
	/**
	 * Calypso's blocking rule, applied to the outcome of one counted delivery: a 200 ends the error streak; an error
	 * blocks the subscription once the streak has MORE than BLOCK_AFTER_ERRORS errors and no delivery succeeded in
	 * the last BLOCK_WINDOW_MS (since the last success, or the creation or unblocking when none succeeded since).
	 * @param {any} sub @param {boolean} ok
	 */
	function noteOutcome(sub, ok) {
		const h = healthOf(sub);
		const t = clockNow();
		if (ok) {
			Object.assign(h, { errors: 0, since: t, lastSuccessAt: t });
			return;
		}
		h.errors++;
		if (sub.state !== 'BLOCKED' && h.errors > BLOCK_AFTER_ERRORS && t - h.since >= BLOCK_WINDOW_MS) setState(sub, 'BLOCKED');
	}

	/**
	 * Sends one envelope (as written, `rawBody`) to a subscription's URL, signed with its keys unless `o` says
	 * otherwise, and records it. A counted delivery (not forged, unsigned or sent with another Key: those stand for
	 * someone else than Calypso) to a BLOCKED subscription is recorded as not sent; its outcome feeds the blocking rule.
	 * @param {any} sub @param {any} envelope @param {string} rawBody @param {import('./index').DeliverOptions} o
	 */
	async function dispatch(sub, envelope, rawBody, o) {
		const type = o.contentType === null ? {} : { 'Content-Type': o.contentType ?? 'application/json' };
		const encoding = o.contentEncoding ? { 'Content-Encoding': o.contentEncoding } : {};
		/** @type {Record<string, string>} */
		const headers = { ...type, ...encoding, Key: o.key ?? sub.publicKey };
		if (!o.unsigned) headers.Sign = sign(o.forge ? `forged-${sub.secretKey}` : sub.secretKey, rawBody);
		const sentBody = o.tamper ? o.tamper(rawBody) : rawBody;
		const counted = !o.forge && !o.unsigned && o.key === undefined;
		const record = {
			requestId: sub.requestId,
			id: envelope.id,
			eventType: envelope.eventType,
			envelope,
			rawBody,
			headers,
			redelivery: !!o.redeliver,
			forged: !!o.forge,
			unsigned: !!o.unsigned,
			counted,
			sent: true,
			status: 0,
			response: /** @type {any} */ (undefined),
			at: now(),
		};
		deliveries.push(record); // before sending: a failed delivery can be re-delivered like Calypso would
		if (counted && sub.state === 'BLOCKED') {
			record.sent = false; // Calypso delivers nothing to a blocked subscription
			return { status: 0, body: undefined, id: envelope.id, envelope, rawBody, sent: false };
		}
		// `origin`: the subscription's path on another host, as a load balancer in front of several receivers routes it.
		const url = o.origin ? new URL(new URL(sub.url).pathname + new URL(sub.url).search, o.origin).href : sub.url;
		let answer;
		try {
			const compress = { gzip: zlib.gzipSync, deflate: zlib.deflateSync }[o.contentEncoding ?? ''];
			const wire = compress ? compress(sentBody) : sentBody;
			const abort = o.abortAfterBytes === undefined ? undefined : { afterBytes: o.abortAfterBytes, afterMs: o.abortAfterMs ?? 500 };
			answer = await post(url, wire, headers, o.timeoutMs ?? 30000, abort);
		} catch (e) {
			if (counted) noteOutcome(sub, false); // no answer is an error too
			throw e;
		}
		record.status = answer.status;
		record.response = answer.body;
		if (counted) noteOutcome(sub, answer.status === 200);
		return { status: answer.status, body: answer.body, id: envelope.id, envelope, rawBody, sent: true };
	}

	/** @type {import('./index').Emulator} */
	const emulator = {
		get baseUrl() {
			return baseUrl;
		},
		get credentials() {
			return { apiKey: opts.apiKey, apiSecret: opts.apiSecret, account: opts.account, baseUrl };
		},
		requests,
		deliveries,
		options: opts,
		findFaults,
		state,
		get subscriptions() {
			return [...state.subscriptions.values()];
		},
		onRequest: undefined,

		start(port = 0) {
			if (server) return Promise.resolve(baseUrl);
			stopping = false;
			const srv = http.createServer((req, res) => {
				handle(req, res).catch((e) => {
					if (!res.headersSent && !res.destroyed) {
						res.writeHead(500, { 'Content-Type': 'application/json' });
						res.end(JSON.stringify(errorBody('000', String(e && e.message))));
					}
				});
			});
			srv.on('connection', (socket) => {
				sockets.add(socket);
				socket.on('close', () => sockets.delete(socket));
			});
			server = srv;
			return new Promise((resolve, reject) => {
				srv.once('error', reject);
				srv.listen(port, '127.0.0.1', () => {
					const addr = /** @type {import('node:net').AddressInfo} */ (srv.address());
					baseUrl = `http://127.0.0.1:${addr.port}`;
					resolve(baseUrl);
				});
			});
		},

		/** @returns {Promise<void>} */
		stop() {
			const srv = server;
			if (!srv) return Promise.resolve();
			server = null;
			stopping = true;
			for (const t of timers) {
				clearTimeout(t.timer);
				t.resolve();
			}
			timers.clear();
			return new Promise((resolve) => {
				srv.close(() => resolve(undefined));
				for (const s of sockets) s.destroy();
				sockets.clear();
				srv.closeAllConnections?.();
			});
		},

		reset() {
			resets++;
			state.customers.clear();
			state.purses.clear();
			state.transactions.clear();
			txVersion++;
			state.subscriptions.clear();
			health.clear();
			requests.length = 0;
			deliveries.length = 0;
			faults.length = 0;
			for (const key of Object.keys(findFaults)) delete (/** @type {any} */ (findFaults)[key]);
			findOrder.answered.clear();
			findOrder.answers = 0;
		},

		async deliverEvent(target, event = {}, o = {}) {
			const requestId = typeof target === 'string' ? target : target?.requestId;
			const sub = state.subscriptions.get(String(requestId));
			if (!sub) throw new Error(`deliverEvent: no subscription ${requestId}`);
			/** @type {any} */
			let envelope;
			/** @type {string} */
			let rawBody;
			if (o.redeliver !== undefined && o.redeliver !== false) {
				const earlier = deliveries.filter(
					(d) => d.requestId === sub.requestId && (o.redeliver === true || d.id === o.redeliver),
				);
				const previous = earlier[earlier.length - 1];
				if (!previous) throw new Error(`deliverEvent: nothing to redeliver (${o.redeliver})`);
				envelope = previous.envelope;
				rawBody = previous.rawBody;
			} else {
				const eventType = event.eventType ?? sub.notificationEventTypes[0];
				if (!sub.notificationEventTypes.includes(eventType) && !o.anyEvent) {
					throw new Error(`deliverEvent: subscription ${sub.requestId} does not list ${eventType}`);
				}
				envelope = {
					requestId: sub.requestId,
					id: event.id ?? nextEventId++,
					createdDate: event.createdDate ?? isoNow().replace(/Z$/, ''),
					level: event.level ?? /** @type {Record<string, string>} */ (EVENT_LEVELS)[eventType] ?? 'INFO',
					service: 'CUSTOMER_PURSE',
					eventType,
					data: { ...eventData(event), ...event.data },
				};
				rawBody = o.serialize ? o.serialize(envelope) : JSON.stringify(envelope);
			}
			return dispatch(sub, envelope, rawBody, o);
		},

		subscriptionHealth(requestId) {
			const sub = subscriptionOf(requestId, 'subscriptionHealth');
			const h = healthOf(sub);
			return { state: sub.state, errors: h.errors, lastSuccessAt: h.lastSuccessAt, blockedAt: h.blockedAt };
		},

		setSubscriptionState(requestId, next) {
			if (next !== 'ACTIVE' && next !== 'BLOCKED') throw new Error(`setSubscriptionState: state ${next}`);
			setState(subscriptionOf(requestId, 'setSubscriptionState'), next);
		},

		async unblockSubscription(requestId) {
			const sub = subscriptionOf(requestId, 'unblockSubscription');
			setState(sub, 'ACTIVE');
			// The failed events: each event whose latest counted delivery was not answered 200, oldest first.
			/** @type {Map<number, any>} */
			const latest = new Map();
			for (const d of deliveries) if (d.requestId === sub.requestId && d.counted) latest.set(d.id, d);
			const results = [];
			for (const d of latest.values()) {
				if (d.status === 200) continue;
				try {
					const r = await dispatch(sub, d.envelope, d.rawBody, { redeliver: true });
					results.push({ id: d.id, status: r.status, sent: r.sent });
				} catch (e) {
					results.push({ id: d.id, status: 0, sent: true, error: /** @type {Error} */ (e).message });
				}
			}
			return results;
		},

		injectFault(fault) {
			faults.push({ ...fault, times: fault.times === undefined ? 1 : fault.times });
		},

		seedCustomer(c = {}) {
			const customer = {
				id: c.id || crypto.randomUUID(),
				email: c.email,
				description: c.description,
				externalId: c.externalId,
				blocked: !!c.blocked,
			};
			state.customers.set(customer.id, customer);
			return customerDTO(customer);
		},

		seedPurse(customerId, currency) {
			if (!state.customers.has(customerId)) throw new Error(`seedPurse: unknown customer ${customerId}`);
			if (!CHAIN_OF[currency]) throw new Error(`seedPurse: unsupported currency ${currency}`);
			return purseDTO(ensurePurse(customerId, currency));
		},

		updateTransaction(id, change) {
			const t = state.transactions.get(id);
			if (!t) throw new Error(`updateTransaction: unknown transaction ${id}`);
			if (change.transactionState !== undefined) {
				if (!COMPLIANCE_OF[change.transactionState])
					throw new Error(`updateTransaction: unknown state ${change.transactionState}`);
				t.transactionState = change.transactionState;
				t.complianceState = COMPLIANCE_OF[change.transactionState];
				t.translationToAccountCompleted = change.transactionState === 'CONFIRMED';
			}
			if (change.amount !== undefined) t.amount = change.amount;
			txVersion++; // the find index holds copies: a changed row must not be served from it
			return txDTO(t);
		},

		seedTransactions(customerId, count, o = {}) {
			if (!state.customers.has(customerId))
				throw new Error(`seedTransactions: unknown customer ${customerId}`);
			const currencies = [o.currency ?? 'USDT_TRX'].flat();
			const states = [o.state ?? 'CONFIRMED'].flat();
			for (const cur of currencies)
				if (!CHAIN_OF[cur]) throw new Error(`seedTransactions: unsupported currency ${cur}`);
			for (const st of states)
				if (!COMPLIANCE_OF[st]) throw new Error(`seedTransactions: unknown state ${st}`);
			const step = o.stepMs ?? 60000;
			const start = o.startDate ? o.startDate.getTime() : now() - count * step;
			const out = [];
			for (let i = 0; i < count; i++) {
				const currency = currencies[i % currencies.length];
				const transactionState = states[i % states.length];
				const t = {
					id: crypto.randomUUID(),
					amount: o.amount ?? Math.round((i + 1) * 10.25 * 100) / 100,
					addressFrom: fakeAddress(CHAIN_OF[currency]),
					currency,
					transactionHash: fakeTxHash(CHAIN_OF[currency]),
					transactionState,
					complianceState: COMPLIANCE_OF[transactionState],
					translationToAccountCompleted: transactionState === 'CONFIRMED',
					createdDate: new Date(start + i * step).toISOString(),
					customerId,
				};
				state.transactions.set(t.id, t);
				txVersion++;
				out.push(txDTO(t));
			}
			return out;
		},
	};
	return emulator;
}

/**
 * Lowercase hex HMAC-SHA512 of the body, as Calypso expects in the `Sign` header.
 * @param {string} secret @param {string} body
 */
function sign(secret, body) {
	return crypto.createHmac('sha512', secret).update(body, 'utf8').digest('hex');
}

module.exports = {
	createEmulator,
	SEND_EVENT_PATH,
	sign,
	SUPPORTED_CURRENCIES: CURRENCIES,
	CHAIN_OF,
	EVENT_TYPES,
	SUBSCRIPTION_PATH,
	FOREIGN_ANSWERS,
};
