// Hand-written declarations for the Calypso Customer Purse API emulator (index.js).

export type TransactionState = 'MEM_POOL_FOUND' | 'PENDING_COMPLIANCE_CHECK' | 'CONFIRMED' | 'DECLINED';
export type ComplianceState = 'UNCHECKED' | 'IN_PROGRESS' | 'CHECKED' | 'DECLINE';

export interface EmulatorOptions {
	/** Default 'emu-public-key-0001'. */
	apiKey?: string;
	/** Default 'emu-secret-key-0001-do-not-leak'. */
	apiSecret?: string;
	/** Default '0x1111111111111111111111111111111111111111'. */
	account?: string;
	/** Server cap for transaction/find pageSize (silently applied; response `size` shows it). Default 100. */
	maxPageSize?: number;
	/** Delay added before each response. Default 0. */
	latencyMs?: number;
	/** Emulator clock = Date.now() + offset (timestamp checks, `Date` header, createdDate). Default 0. */
	clockOffsetMs?: number;
	/**
	 * Answer every request as another server would, before any Calypso check (injected faults still come first):
	 * a Base URL pointing at the wrong server. Default 'none' (be Calypso).
	 */
	impersonate?: 'none' | ForeignServer;
	/**
	 * The time (epoch ms) Calypso's subscription-blocking rule reads, and only that rule (request timestamps, dates
	 * and `clockOffsetMs` are not affected): a test sets `options.clock = () => t` and advances `t` to simulate ten
	 * minutes of deliveries without waiting. Default `Date.now`. Not restored by reset().
	 */
	clock?: () => number;
}

/**
 * A subscription's state as the list endpoint reports it. Calypso blocks a subscription after MORE than 100 errors
 * (any answer to a delivery but 200, or no answer) with no successful delivery within 10 minutes (since the last
 * 200, or since the subscription was created or unblocked when none came since); a blocked one gets no deliveries
 * until it is unblocked (in Calypso's dashboard: `unblockSubscription`), which re-sends the failed events.
 */
export type SubscriptionState = 'ACTIVE' | 'BLOCKED';

/** What the blocking rule knows about one subscription (`subscriptionHealth`). */
export interface SubscriptionHealth {
	state: SubscriptionState;
	/** Errors since the last successful delivery (or creation, or unblocking). */
	errors: number;
	/** `clock` time of the last delivery answered 200. */
	lastSuccessAt?: number;
	/** `clock` time it was blocked, while it is. */
	blockedAt?: number;
}

/** One event `unblockSubscription` re-sent. */
export interface Resent {
	id: number;
	/** The receiver's answer; 0 when not sent (blocked again meanwhile) or when there was no answer. */
	status: number;
	sent: boolean;
	/** The network error, when there was no answer. */
	error?: string;
}

/** 404 with a JSON body (a Spring-style error), 404 HTML page, 200 HTML welcome page, 401 JSON without errorCode. */
export type ForeignServer = 'not-found-json' | 'not-found-html' | 'welcome-page' | 'unauthorized-json';

/** What `impersonate` answers for each kind of server. */
export const FOREIGN_ANSWERS: Record<
	ForeignServer,
	{ status: number; body: string | Record<string, unknown> }
>;

export interface Fault {
	/** Path suffix ('customer/create') or full path; undefined = any path. */
	path?: string;
	/** HTTP method ('POST', 'DELETE'); undefined = any method. */
	method?: string;
	/** Extra matcher; `body` is the parsed JSON body (undefined if not JSON). */
	match?: (req: { path: string; body: Record<string, unknown> | undefined }) => boolean;
	/** How many matching requests this fault applies to. Default 1. */
	times?: number;
	/** Response status (default 500 when neither `drop` nor `status` is given). */
	status?: number;
	/** Response body: string sent raw (text/html if it starts with '<'), object as JSON. Default: a Calypso error body with errorCode '000'. */
	body?: string | object;
	headers?: Record<string, string>;
	/** Destroy the socket without responding. */
	drop?: boolean;
	/** Wait this long before acting. */
	delayMs?: number;
	/** Process the request normally (state changes), then replace the response with the fault. */
	afterProcessing?: boolean;
	/**
	 * A slow backend: the request is processed (its state change lands) this long after it arrived, whatever the
	 * client did meanwhile. With `status`, `body` or `drop` that answer is given at once (after `delayMs`), like a
	 * gateway giving up in front of a backend that still finishes; without them the normal answer comes on landing.
	 */
	landAfterMs?: number;
	/**
	 * First wait until this many requests are in flight at once, this one included (at most 2 s); with
	 * `RecordedRequest.inFlight` a test sees requests were sent concurrently without timing anything. Alone (no
	 * `status`, `body`, `drop` or `landAfterMs`) the request is then answered normally, after `delayMs`.
	 */
	holdUntilInFlight?: number;
	/**
	 * A server that answers slowly: the status and headers at once, then the body one byte every `trickleMs`
	 * (`RecordedRequest.bodyBytesSent` / `finished` show how far it got). Alone (no `status`, `body` or `drop`) the
	 * request is processed and its normal answer is trickled; with `afterProcessing` and `status`/`body`, that answer.
	 */
	trickleMs?: number;
	/**
	 * A body cut off after the headers: only the first `cutBodyAt` bytes of the answer's body are sent, framed so the
	 * client sees a complete (short) body: no Content-Length, connection closed. Alone (no `status`, `body` or
	 * `drop`) the request is processed first (e.g. a create lands) and its normal answer is cut.
	 */
	cutBodyAt?: number;
}

export interface RecordedRequest {
	method: string;
	path: string;
	/** Header names are lower-case (as Node delivers them). */
	headers: Record<string, string | undefined>;
	rawBody: string;
	/** Parsed JSON body, or undefined if the body was not JSON. */
	body: { account?: string; timestamp?: number; payload?: Record<string, unknown> } | undefined;
	/** Response status; 0 while pending or when the socket was dropped. */
	status: number;
	/** Response body sent (object, or raw string for injected string bodies). */
	response: unknown;
	/** Emulator-clock ms when the request arrived. */
	at: number;
	/** Requests the emulator was handling (arrived, not yet answered) when this one arrived, itself included. */
	inFlight: number;
	/** Bytes of the response body: all of it, and how many were sent so far (a `trickleMs` fault sends them slowly). */
	bodyBytes?: number;
	bodyBytesSent?: number;
	/** Whether the whole response went out (false while a trickle is under way or after the client hung up). */
	finished?: boolean;
}

/** Switches that make transaction/find behave like a live server under change; all off until set, cleared by reset(). */
export interface FindFaults {
	/** Once this page of a find has been answered, a deposit arrives for that customer: one CONFIRMED transaction
	 * created now (newest first puts it on top, oldest first at the end), in the filter's first currency. Once. */
	depositAfterPage?: number;
	/** Answers carry no `total` (page count) and no `totalElements`. */
	noTotal?: boolean;
	/** A page past the last one answers with the last page again instead of an empty one. */
	repeatLastPage?: boolean;
	/** Answers to pages after the first wait until this many requests are in flight (at most 2 s): with
	 * `RecordedRequest.inFlight` this shows pages were fetched concurrently without timing anything. */
	holdUntilInFlight?: number;
	/**
	 * Pages answered in this order: a listed page is held (before its answer is computed, so it shows the data as
	 * they are when it goes out) until every page listed before it has been answered once. Pages not listed, and
	 * pages asked again, are not held. When no find arrives or is answered for 300 ms (a listed page that is never
	 * asked for), the earliest-listed held page goes anyway.
	 */
	answerOrder?: number[];
	/** Called just before a find's answer is computed (after any answerOrder hold): change data here with
	 * seedTransactions / updateTransaction to have it land "just before page k". `index`: finds answered so far. */
	beforeAnswer?: (find: { page: number; index: number }) => void;
	/** Called once a find's answer is out; `index` counts from 0 (the first find answered in this test is 0). */
	afterAnswer?: (find: { page: number; index: number }) => void;
}

export interface Customer {
	id: string;
	email?: string;
	description?: string;
	externalId?: string;
	blocked: boolean;
}

export interface Purse {
	id: string;
	address: string;
	currencies: string[];
	createdDate: string;
	customerId: string;
}

export interface PurseDTO {
	id: string;
	address: string;
	currencies: string[];
	createdDate: string;
}

export interface Transaction {
	id: string;
	amount: number;
	addressFrom: string;
	currency: string;
	transactionHash?: string;
	transactionState: TransactionState;
	complianceState: ComplianceState;
	translationToAccountCompleted: boolean;
	createdDate: string;
}

export interface SeedTransactionsOptions {
	/** Cycled round-robin. Default 'USDT_TRX'. */
	currency?: string | string[];
	/** Cycled round-robin. Default 'CONFIRMED'. */
	state?: TransactionState | TransactionState[];
	/** Default: emulator now - count * stepMs. */
	startDate?: Date;
	/** Default 60000. */
	stepMs?: number;
	/** Default: varying amounts (10.25, 20.5, ...). */
	amount?: number;
}

export type CustomerPurseEvent =
	| 'CUSTOMER_PURSE_EXPIRED'
	| 'CUSTOMER_PURSE_MEM_POOL_FOUND'
	| 'CUSTOMER_PURSE_PENDING_COMPLIANCE'
	| 'CUSTOMER_PURSE_COMPLIANCE_DECLINED'
	| 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE'
	| 'CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED';

/** A webhook subscription, as the list and create endpoints return it. */
export interface Subscription {
	requestId: string;
	notificationEventTypes: string[];
	notificationServiceTypes: string[];
	url: string;
	/** Sent as the `Key` header of every delivery. */
	publicKey: string;
	/** Signs every delivery (`Sign` = hex HMAC-SHA512 of the body). */
	secretKey: string;
	/** No timezone, like Calypso's dates. */
	createdDate: string;
	/** Reported by the list (and create) endpoint; see SubscriptionState. Absent on objects put into `state` by hand = ACTIVE. */
	state?: SubscriptionState;
}

/** The JSON body of a delivery. */
export interface EventEnvelope {
	/** The subscription's requestId. */
	requestId: string;
	/** The event id: increasing numbers (from 1001), unless given. */
	id: number;
	createdDate: string;
	level: 'SUCCESS' | 'INFO' | 'WARNING' | string;
	service: 'CUSTOMER_PURSE';
	eventType: string;
	/** customerId, customerBlocked, purseId, address; transactionId, amount, currency for transaction events. */
	data: Record<string, unknown>;
}

export interface EventSpec {
	/** Default: the subscription's first event type. */
	eventType?: CustomerPurseEvent | string;
	/** Fill `data` from this seeded transaction (its customer, purse, amount, currency). */
	transactionId?: string;
	/** Fill `data` from this seeded customer (and its first purse), for purse events. */
	customerId?: string;
	/** Merged over the derived data. */
	data?: Record<string, unknown>;
	id?: number;
	level?: string;
	createdDate?: string;
}

export interface DeliverOptions {
	/** Re-send an earlier delivery to this subscription byte for byte: `true` = the latest, a number = that event id. */
	redeliver?: boolean | number;
	/** Sign with a wrong secret. */
	forge?: boolean;
	/** Send no `Sign` header. */
	unsigned?: boolean;
	/** Send this `Key` header instead of the subscription's publicKey. */
	key?: string;
	/** Change the body after it was signed. */
	tamper?: (rawBody: string) => string;
	/** Write the body with this instead of compact JSON.stringify (e.g. pretty-printed, with \u escapes); it is signed as written. */
	serialize?: (envelope: EventEnvelope) => string;
	/** Deliver an event type the subscription does not list (normally an error). */
	anyEvent?: boolean;
	/** The Content-Type header: default 'application/json' (Calypso's); null sends none. */
	contentType?: string | null;
	/** Compress the body on the wire ('Content-Encoding' header); the signature stays over the uncompressed bytes. */
	contentEncoding?: 'gzip' | 'deflate';
	/**
	 * An upload that breaks off: send the whole body's Content-Length but only its first this many bytes, then drop
	 * the connection (after `abortAfterMs`, default 500): deliverEvent rejects, like a delivery left unanswered.
	 */
	abortAfterBytes?: number;
	abortAfterMs?: number;
	/** Default 30000. */
	timeoutMs?: number;
	/**
	 * Send to the subscription URL's path at this origin ('http://127.0.0.1:5690') instead: one of several
	 * receivers behind one public URL (n8n's webhook processors behind a load balancer).
	 */
	origin?: string;
}

export interface Delivery {
	requestId: string;
	id: number;
	eventType: string;
	envelope: EventEnvelope;
	/** The body as signed (a `tamper`ed body is not recorded). */
	rawBody: string;
	headers: Record<string, string>;
	redelivery: boolean;
	forged: boolean;
	unsigned: boolean;
	/** Whether Calypso's blocking rule counts it: not forged, not unsigned, not sent with another `key` (those stand for someone else than Calypso). */
	counted: boolean;
	/** False for a counted delivery to a BLOCKED subscription: Calypso did not send it (status 0). */
	sent: boolean;
	/** The receiver's answer; 0 while pending, when it failed at the network level, or when not sent. */
	status: number;
	response: unknown;
	at: number;
}

/**
 * The answer of the emulator's control route POST SEND_EVENT_PATH (body: {url?, eventType?, transactionId?, forge?}),
 * which `node test/emulator/cli.js send-event` calls: where the event went and what the receiver answered.
 * To a BLOCKED subscription it sends nothing and answers 409 saying so.
 */
export interface SendEventResult {
	url: string;
	requestId: string;
	eventId: number;
	eventType: string;
	forged: boolean;
	transactionId?: string;
	/** The receiver's HTTP status. */
	status: number;
	body: unknown;
}

export interface Emulator {
	/** Listens on 127.0.0.1 (port 0 = random); resolves the base URL, e.g. 'http://127.0.0.1:34567'. */
	start(port?: number): Promise<string>;
	/** Closes the server and every open socket (keep-alive too) and cancels pending delays. */
	stop(): Promise<void>;
	readonly baseUrl: string;
	readonly credentials: { apiKey: string; apiSecret: string; account: string; baseUrl: string };
	readonly requests: RecordedRequest[];
	/** Every webhook delivery sent by deliverEvent, oldest first. */
	readonly deliveries: Delivery[];
	/** The current webhook subscriptions (also `state.subscriptions`, by requestId). */
	readonly subscriptions: Subscription[];
	/**
	 * POSTs a signed event envelope to a subscription's URL, like Calypso: headers `Key` (publicKey) and `Sign`
	 * (HMAC-SHA512 of the body with secretKey). Resolves with the receiver's answer; rejects on a network error.
	 * Counted deliveries (see Delivery.counted) feed Calypso's blocking rule (SubscriptionState); to a BLOCKED
	 * subscription one is recorded but not sent, and resolves with `sent: false`, status 0.
	 */
	deliverEvent(
		subscription: string | { requestId: string },
		event?: EventSpec,
		opts?: DeliverOptions,
	): Promise<{ status: number; body: unknown; id: number; envelope: EventEnvelope; rawBody: string; sent: boolean }>;
	/** The blocking rule's view of a subscription. */
	subscriptionHealth(subscription: string | { requestId: string }): SubscriptionHealth;
	/** Sets a subscription's state directly (Calypso blocked it for any reason, or it is active again): nothing is re-sent. */
	setSubscriptionState(subscription: string | { requestId: string }, state: SubscriptionState): void;
	/**
	 * Unblocks, as Calypso's dashboard does: ACTIVE again with a fresh 10 minutes, then every failed event (each event
	 * whose latest counted delivery was not answered 200, not-sent ones included) is re-sent byte for byte, oldest
	 * first, one at a time. Resolves when all were answered.
	 */
	unblockSubscription(subscription: string | { requestId: string }): Promise<Resent[]>;
	/** Mutable at runtime. */
	options: Required<EmulatorOptions>;
	/** Set at runtime; reset() turns them all off. */
	findFaults: FindFaults;
	/** Clears state (subscriptions too), recorded requests and deliveries, queued faults and findFaults (options are kept). */
	reset(): void;
	/** Queue a fault; the first matching fault with times left applies. */
	injectFault(fault: Fault): void;
	seedCustomer(c?: {
		email?: string;
		description?: string;
		externalId?: string;
		blocked?: boolean;
		id?: string;
	}): Customer;
	/** Extra helper: the customer's purse for the currency's chain (created if missing). */
	seedPurse(customerId: string, currency: string): PurseDTO;
	seedTransactions(customerId: string, count: number, opts?: SeedTransactionsOptions): Transaction[];
	/** Changes a transaction's state (compliance state and translation flag follow) and/or amount; finds see it at
	 * once (the find index is invalidated). Change transactions this way, not through `state`. */
	updateTransaction(id: string, change: { transactionState?: TransactionState; amount?: number }): Transaction;
	state: {
		customers: Map<string, Customer>;
		purses: Map<string, Purse>;
		transactions: Map<string, Transaction & { customerId: string }>;
		subscriptions: Map<string, Subscription>;
	};
	/** Optional hook called after each response is sent (or the socket dropped); used by cli.js for logging. */
	onRequest?: (req: RecordedRequest, elapsedMs: number) => void;
}

export function createEmulator(options?: EmulatorOptions): Emulator;

/** Lowercase hex HMAC-SHA512(secret, body) — the value of the `Sign` header. */
export function sign(secret: string, body: string): string;

export const SUPPORTED_CURRENCIES: string[];
export const CHAIN_OF: Record<string, string>;
export const EVENT_TYPES: CustomerPurseEvent[];
/** '/_emulator/send-event': not Calypso's; see SendEventResult. */
export const SEND_EVENT_PATH: string;
/** '/api/v1/subscription/webhook' */
export const SUBSCRIPTION_PATH: string;
