import { NodeApiError, NodeOperationError, sleep } from 'n8n-workflow';
import type {
	ICredentialsDecrypted,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	INode,
} from 'n8n-workflow';

import { runBounded } from '../pool';
import { normalizeBaseUrl } from './signing';
import {
	calypsoApiError,
	calypsoNetworkError,
	calypsoTimeoutError,
	cancelledError,
	markAmbiguous,
	unreadableAnswerError,
	wrongShapeError,
	type ErrorContext,
} from './errors';

/**
 * The only module that talks HTTP. A `CalypsoClient` is made once per node run; every request goes through
 * `request` (signed by the credential when it is built, retried when that is safe) and every Find through `findAll`.
 */
export const CUSTOMER_PURSE = '/api/v1/customer-purse/';

/** What the client needs from n8n: execute, hook (trigger lifecycle) and webhook contexts all have it. */
export interface RequestContext {
	getNode(): INode;
	getCredentials: IExecuteFunctions['getCredentials'];
	helpers: { httpRequestWithAuthentication: IExecuteFunctions['helpers']['httpRequestWithAuthentication'] };
	/** Fires when n8n cancels the execution (execute contexts only). */
	getExecutionCancelSignal?(): AbortSignal | undefined;
}

/** A request outside the Customer Purse paths (webhook subscriptions): full path, method, optional payload. */
export interface RawCall {
	method: 'POST' | 'DELETE';
	path: string;
	payload?: IDataObject;
}

export interface RetryPolicy {
	/** Retries after the first attempt. */
	retries: number;
	/** First backoff; doubles per retry, with full jitter. */
	baseDelayMs: number;
	/** Most a single wait may be. */
	maxDelayMs: number;
	/** Most all waits of one request may add up to, Retry-After included. */
	maxTotalWaitMs: number;
}

export interface TransportSettings {
	retry: RetryPolicy;
	timeoutMs: number;
	/** Whether an unconfirmed create may be followed by look-ups to find out what happened (false: Retry Off). */
	recovery: boolean;
}

export const DEFAULT_RETRY: RetryPolicy = {
	retries: 3,
	baseDelayMs: 1000,
	maxDelayMs: 20_000,
	maxTotalWaitMs: 60_000,
};
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_SETTINGS: TransportSettings = {
	retry: DEFAULT_RETRY,
	timeoutMs: DEFAULT_TIMEOUT_MS,
	recovery: true,
};

/** Statuses worth another attempt. 429 means "not processed"; 502/503/504 may or may not have been processed. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Connection errors where the request never reached the server: safe to re-send even a create. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

interface FullResponse {
	statusCode: number;
	headers?: Record<string, unknown>;
	body: unknown;
}

type Attempt =
	| { response: FullResponse; sentAt: number }
	| { networkError: unknown; ended?: 'deadline' | 'cancelled' };

export interface CallOptions extends ErrorContext {
	/**
	 * False for requests that must not be sent twice (customer/create): they are re-sent only when the server
	 * certainly did not process them (429, connection refused). Every answer that does not settle it is marked
	 * ambiguous (see `certainlyRejected`).
	 */
	idempotent?: boolean;
}

/** A text body parsed as JSON when it is JSON; anything else as it came. */
export function parseBody(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	try {
		return JSON.parse(body);
	} catch {
		return body;
	}
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
	const value = headers?.[name];
	return typeof value === 'string' ? value : undefined;
}

function clockSkewMs(headers: Record<string, unknown> | undefined, sentAt: number): number | undefined {
	const server = Date.parse(header(headers, 'date') ?? '');
	return Number.isNaN(server) ? undefined : server - sentAt;
}

/** Retry-After as milliseconds: delta seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
	if (value === undefined || value.trim() === '') return undefined;
	if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with full jitter: a random wait in [base·2^n / 2, base·2^n], capped. */
export function backoffMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
	const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
	return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

type ErrorChain = { code?: unknown; httpCode?: unknown; message?: unknown; cause?: unknown } | undefined;

/** The socket-level code (ECONNRESET, ETIMEDOUT, ECONNABORTED, …) of an error or its causes, if it has one. */
function networkCode(error: unknown): string | undefined {
	let current = error as ErrorChain;
	for (let depth = 0; current && depth < 4; depth++) {
		// n8n's NodeApiError keeps the socket code as its httpCode.
		const code = current.code ?? current.httpCode;
		if (typeof code === 'string' && /^E[A-Z]+(_[A-Z]+)?$/.test(code) && !code.startsWith('ERR_')) return code;
		current = current.cause as ErrorChain;
	}
	return undefined;
}

/** The message of the innermost error: n8n wraps what the credential throws while signing. */
function rootMessage(error: unknown): string {
	let current = error as ErrorChain;
	let message = 'Request failed';
	for (let depth = 0; current && depth < 4; depth++) {
		if (typeof current.message === 'string' && current.message !== '') message = current.message;
		current = current.cause as ErrorChain;
	}
	return message;
}

/**
 * Whether an error answer says, in terms Calypso documents, that the request was refused and not carried out: its
 * 4xx answers with an error code other than 000, and 429. A 5xx (Calypso's 000 "internal error" included), a
 * gateway's page or any other answer may come after the request was processed.
 */
function certainlyRejected(statusCode: number, body: unknown): boolean {
	if (statusCode === 429) return true;
	if (statusCode < 400 || statusCode >= 500 || !body || typeof body !== 'object') return false;
	const { errorCode } = body as { errorCode?: unknown };
	return typeof errorCode === 'string' && errorCode !== '000';
}

export interface FindOptions {
	returnAll: boolean;
	limit: number;
	pageSize: number;
}

/** Upper bound on pages fetched by one Find, whatever the server says, so a misbehaving server cannot loop us. */
export const MAX_PAGES = 10_000;

/** The requests that change something at Calypso: once the run has stopped (CalypsoClient.stop), none is sent. */
const CHANGES = new Set(
	['customer/create', 'customer/update', 'customer/block', 'customer/unblock'].map(
		(path) => CUSTOMER_PURSE + path,
	),
);

/**
 * Thrown instead of sending a change after the run stopped: the router drops it, as the run fails with its cause.
 * `unconfirmed`: an earlier attempt of this very request was sent and may have been carried out (a 5xx, a timeout, a
 * dropped connection, a redirect): only its retry was held back, so the change may have landed all the same.
 */
export class RunStopped extends Error {
	constructor(
		path: string,
		readonly unconfirmed = false,
	) {
		super(`Not sent (${path}): an earlier failure stopped the run`);
	}
}

export class CalypsoClient {
	/** Requests sent (attempts, retries included) by this client: reported by tests and the benchmark. */
	requestCount = 0;

	private readonly stopping = new AbortController();

	/**
	 * The run stops (an item failed and Continue On Fail is off): from now on no change (CHANGES) is sent, not even a
	 * retry, and a change waiting to be retried stops waiting. Requests in flight finish; look-ups still go out, so a
	 * create left unconfirmed can still be checked.
	 */
	stop(): void {
		this.stopping.abort();
	}

	constructor(
		private readonly ctx: RequestContext,
		readonly settings: TransportSettings = DEFAULT_SETTINGS,
	) {}

	/** The node this client runs for (errors name it). */
	get node(): INode {
		return this.ctx.getNode();
	}

	private credentials?: Promise<ICredentialsDecrypted>;

	/**
	 * The credential, loaded (and decrypted) by n8n once per client instead of once per request: handed back to
	 * n8n with each request, whose credential `authenticate` signs it. The client never reads the secret itself.
	 */
	private credential(): Promise<ICredentialsDecrypted> {
		this.credentials ??= this.ctx
			.getCredentials('calypsoPayApi')
			.then((data) => ({ id: 'calypsoPayApi', name: 'Calypso Pay API', type: 'calypsoPayApi', data }));
		return this.credentials;
	}

	/** n8n's signal for a cancelled execution, when this context has one. */
	private get cancelSignal(): AbortSignal | undefined {
		return this.ctx.getExecutionCancelSignal?.();
	}

	/**
	 * Waits `ms`, or throws as soon as n8n cancels the execution, or returns early when `wake` fires: every wait of the
	 * package goes through here.
	 */
	async pause(ms: number, context: ErrorContext = {}, wake?: AbortSignal): Promise<void> {
		const cancel = this.cancelSignal;
		if (cancel?.aborted) throw cancelledError(this.node, context);
		if (wake?.aborted) return;
		const sources = [cancel, wake].filter((signal): signal is AbortSignal => signal !== undefined);
		if (sources.length === 0) return await sleep(ms);
		// The listener goes on a signal of this wait's own, not on the execution's or the run's: many items waiting
		// at once (Concurrency up to 100) would otherwise pile listeners on one signal (Node 20 warns past 10).
		const interrupt = AbortSignal.any(sources);
		let onAbort = () => {};
		const interrupted = new Promise<void>((resolve, reject) => {
			// Cancelled and woken at once: the cancellation wins.
			onAbort = () => (cancel?.aborted ? reject(cancelledError(this.node, context)) : resolve());
			interrupt.addEventListener('abort', onAbort, { once: true });
		});
		try {
			await Promise.race([sleep(ms), interrupted]);
		} finally {
			interrupt.removeEventListener('abort', onAbort);
		}
	}

	/**
	 * One signed POST. The credential builds `{account, timestamp, payload}` and signs it as it is sent. Timeout (Ms)
	 * is a deadline for the whole exchange, body included (n8n's own `timeout` only bounds an idle socket), and the
	 * request is abandoned at once when n8n cancels the execution.
	 */
	private async send({ method, path, payload }: RawCall): Promise<Attempt> {
		const cancel = this.cancelSignal;
		const deadline = AbortSignal.timeout(this.settings.timeoutMs);
		const abortSignal = cancel === undefined ? deadline : AbortSignal.any([deadline, cancel]);
		const request: IHttpRequestOptions = {
			method,
			url: path,
			body: payload === undefined ? {} : { payload },
			json: true,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			// A redirect would carry the Key header and the signed body wherever it points: `call` decides.
			disableFollowRedirect: true,
			timeout: this.settings.timeoutMs,
			abortSignal,
		};
		// n8n sets a request's abortSignal to the execution's cancel signal of the context it is called on: called on
		// a view of the context whose cancel signal is this combined one, the deadline stays in force.
		const via = Object.create(this.ctx, {
			getExecutionCancelSignal: { value: () => abortSignal },
		}) as RequestContext;
		const credentialsDecrypted = await this.credential();
		this.requestCount++;
		const sentAt = Date.now();
		try {
			const response = (await this.ctx.helpers.httpRequestWithAuthentication.call(
				via as unknown as IExecuteFunctions,
				'calypsoPayApi',
				request,
				{ credentialsDecrypted },
			)) as FullResponse;
			return { response, sentAt };
		} catch (error) {
			if (cancel?.aborted) return { networkError: error, ended: 'cancelled' };
			if (deadline.aborted) return { networkError: error, ended: 'deadline' };
			return { networkError: error };
		}
	}

	/**
	 * Where a 3xx answer points, when that is the same origin as the Base URL and the request may be sent again; a
	 * redirect to another origin is an error naming the target, so the Key header and the signed body (replayable
	 * for minutes) never go there, and so is a Location that is not a URL. A request that must not be sent twice
	 * (customer/create) follows no redirect: the server may have processed it before redirecting, so the error is
	 * marked ambiguous.
	 */
	private async redirectTarget(
		call: RawCall,
		response: FullResponse,
		options: CallOptions,
	): Promise<URL | undefined> {
		const { statusCode } = response;
		if (statusCode < 300 || statusCode >= 400) return undefined;
		const location = header(response.headers, 'location');
		if (location === undefined) return undefined;
		const idempotent = options.idempotent !== false;
		const fail = (error: NodeApiError) => (idempotent ? error : markAmbiguous(error));
		const base = new URL(normalizeBaseUrl((await this.credential()).data?.baseUrl));
		let target: URL;
		try {
			target = new URL(location, new URL(call.path, base));
		} catch {
			throw fail(
				redirectError(
					this.node,
					statusCode,
					JSON.stringify(location.slice(0, 200)),
					'a Location that is not a URL',
					options,
				),
			);
		}
		const to = `${target.origin}${target.pathname}`;
		if (target.origin !== base.origin) {
			throw fail(
				redirectError(
					this.node,
					statusCode,
					to,
					`another origin than the Base URL (${base.origin})`,
					options,
				),
			);
		}
		if (!idempotent) {
			throw fail(
				redirectError(
					this.node,
					statusCode,
					to,
					'not followed, as this request must not be sent twice',
					options,
				),
			);
		}
		return target;
	}

	/**
	 * POST `{payload}` to `/api/v1/customer-purse/{path}` and return Calypso's JSON answer, retrying transient
	 * failures (429, 502, 503, 504, dropped or timed-out connections) with backoff and Retry-After; every attempt
	 * is freshly timestamped and signed. Throws a NodeApiError in Calypso's terms.
	 */
	async request(path: string, payload: IDataObject, options: CallOptions = {}): Promise<IDataObject> {
		return await this.call({ method: 'POST', path: CUSTOMER_PURSE + path, payload }, options);
	}

	/** `request` for an answer that carries a list under `key`: a 2xx answer without that list is an error. */
	async list(
		path: string,
		payload: IDataObject,
		key: string,
		options: CallOptions = {},
	): Promise<IDataObject[]> {
		const response = await this.request(path, payload, options);
		const list = response[key];
		if (!Array.isArray(list)) throw wrongShapeError(this.node, path, key, response);
		return list as IDataObject[];
	}

	/** `request` for any Calypso path and method: the same signing, retries and errors. */
	async call(request: RawCall, options: CallOptions = {}): Promise<IDataObject> {
		let call = request;
		const { retry } = this.settings;
		const idempotent = options.idempotent !== false;
		let waited = 0;
		let redirects = 0;
		/** Whether an attempt already sent may have been carried out (not certainly refused). */
		let unconfirmed = false;
		const change = CHANGES.has(request.path);
		for (let attempt = 0; ; attempt++) {
			if (change && this.stopping.signal.aborted) throw new RunStopped(request.path, unconfirmed);
			const outcome = await this.send(call);
			const target =
				'response' in outcome ? await this.redirectTarget(call, outcome.response, options) : undefined;
			if (target !== undefined && 'response' in outcome) {
				unconfirmed = true;
				// Same origin: sent again to the new path, freshly signed, a few times at most.
				if (redirects++ >= MAX_REDIRECTS)
					throw redirectError(
						this.node,
						outcome.response.statusCode,
						`${target.origin}${target.pathname}`,
						'too many redirects',
						options,
					);
				call = { ...call, path: target.pathname + target.search };
				attempt--;
				continue;
			}
			let error;
			let safeToResend: boolean;
			let wait: number | undefined;
			// For a request that must not be sent twice, this is the one place that decides whether a failure settles
			// that it was not carried out (thrown as it is, or re-sent) or leaves it unclear (marked ambiguous).
			if ('response' in outcome) {
				const { statusCode, headers } = outcome.response;
				const body = parseBody(outcome.response.body);
				if (statusCode >= 200 && statusCode < 300) {
					// Only a JSON object is an answer; an array or a bare value does not say what was done.
					if (body && typeof body === 'object' && !Array.isArray(body)) return body as IDataObject;
					const empty = body === undefined || body === null || body === '';
					// An empty success (a DELETE may answer with no body) is a success, not an error; for a create it
					// does not say what was created: the answer may have been cut off after the headers.
					if (empty && idempotent) return {};
					if (!idempotent) throw markAmbiguous(unreadableAnswerError(this.node, statusCode, options));
				}
				error = calypsoApiError(this.node, statusCode, body, {
					...options,
					clockSkewMs: clockSkewMs(headers, outcome.sentAt),
				});
				if (!idempotent && !certainlyRejected(statusCode, body)) throw markAmbiguous(error);
				if (!RETRYABLE_STATUS.has(statusCode)) throw error;
				safeToResend = statusCode === 429;
				wait = retryAfterMs(header(headers, 'retry-after'));
			} else if (outcome.ended === 'cancelled') {
				const cancelled = cancelledError(this.node, options);
				throw idempotent ? cancelled : markAmbiguous(cancelled);
			} else if (outcome.ended === 'deadline') {
				error = calypsoTimeoutError(this.node, this.settings.timeoutMs, options);
				safeToResend = false;
			} else {
				const code = networkCode(outcome.networkError);
				// No socket error: the request was never sent (the credential refused to sign it, or the run was cancelled).
				if (code === undefined)
					throw new NodeOperationError(this.node, rootMessage(outcome.networkError), {
						itemIndex: options.itemIndex,
					});
				error = calypsoNetworkError(this.node, code, options);
				safeToResend = NOT_SENT_CODES.has(code);
			}
			if (!idempotent && !safeToResend) throw markAmbiguous(error);
			if (attempt >= retry.retries) {
				if (attempt > 0)
					error.description = `${error.description ?? ''} Gave up after ${attempt + 1} attempts.`.trim();
				throw error;
			}
			wait ??= backoffMs(retry, attempt);
			if (waited + wait > retry.maxTotalWaitMs) {
				error.description =
					`${error.description ?? ''} Stopped after ${attempt + 1} of ${retry.retries + 1} attempts: waiting ${Math.ceil(wait / 1000)} s more would pass the retry time limit of ${retry.maxTotalWaitMs / 1000} s.`.trim();
				throw error;
			}
			waited += wait;
			if (!safeToResend) unconfirmed = true;
			// A change's retry is not waited for once the run has stopped: it would not be sent.
			await this.pause(wait, options, change ? this.stopping.signal : undefined);
		}
	}

	/**
	 * The one pagination function. Page 1 is fetched first; it tells the real page size (Calypso may cap the size
	 * asked for, and may echo the size asked for: while more pages follow, page 1's row count is the size), `total`
	 * pages and `totalElements`. The other pages needed — all of them, or just enough for `limit` — are then
	 * fetched concurrently (bounded; one at a time in order when page 1 gave no `totalElements` to compare), each
	 * its own freshly signed request, and assembled in page order with duplicates removed by id (by content for
	 * rows without an id).
	 *
	 * Rows move while paging (a deposit arrives: newest first pushes every row one place down, oldest first makes
	 * the last page grow). So while the last page fetched was full and brought new rows, and the answers say more
	 * pages exist (or give no page count at all), the next page is fetched too, one at a time, until the limit is
	 * in hand.
	 *
	 * Pages answered concurrently may come back in any order, so every page's `totalElements` is compared (see
	 * `firstStalePage`; next to a page whose answer has no count, pages are read again in order unless they
	 * already were): when a page saw fewer transactions than a page before it (it was answered before a
	 * deposit that the page before it saw, so a row may have moved onto it unseen, or a transaction went away),
	 * the pages from there are read again, one at a time and in order; with a Limit the pages must show one
	 * moment. When two rounds of re-reading do not settle it, the Find fails with "changed while they were being
	 * fetched". Nothing changed, nothing is read twice. A Return All with fewer different rows than page 1
	 * reported is an error, never a silently short list; more (rows that arrived meanwhile) are returned. An
	 * answer without its `result` list is an error.
	 */
	async findAll(path: string, query: IDataObject, options: FindOptions): Promise<IDataObject[]> {
		const want = options.returnAll ? Infinity : options.limit;
		const pageSize = Math.min(options.pageSize, want);
		const answers: PageAnswer[] = [];
		/** The most pages any answer reported (0 when none said). */
		let reportedPages = 0;
		/** Answers received so far: orders the answers (see `PageAnswer.since`). */
		let answered = 0;
		const fetchPage = async (pageNumber: number): Promise<IDataObject> => {
			const of = reportedPages > 0 ? ` of ${reportedPages}` : '';
			const where = `page ${pageNumber}${of}`;
			const since = answered;
			const page = await this.request(path, { ...query, pageNumber, pageSize }, { where });
			const rows = page.result as IDataObject[];
			if (!Array.isArray(rows)) throw wrongShapeError(this.node, path, 'result', page, where);
			if (typeof page.total === 'number') reportedPages = Math.max(reportedPages, page.total);
			answers[pageNumber - 1] = {
				rows,
				elements: typeof page.totalElements === 'number' ? page.totalElements : undefined,
				since,
				seq: ++answered,
			};
			return page;
		};

		const first = await fetchPage(1);
		const counted = typeof first.total === 'number';
		const firstRows = answers[0].rows.length;
		const reportedSize = typeof first.size === 'number' && first.size > 0 ? first.size : firstRows;
		// A server may cap the rows and still echo the size asked for: while `total` says more pages follow, page 1
		// is full, so its row count is the real page size.
		const size =
			counted && (first.total as number) > 1 && firstRows > 0
				? Math.min(reportedSize, firstRows)
				: reportedSize;
		/** One page at a time from `next`: a server without a page count, or rows that moved past the pages read. */
		const readOn = async (next: number): Promise<void> => {
			for (;;) {
				const { distinct, fresh } = tally(answers);
				const last = answers[next - 2];
				if (
					next > MAX_PAGES ||
					distinct >= want ||
					size <= 0 ||
					(last?.rows.length ?? 0) < size ||
					// Without a page count, a page that brought nothing new may be the last one repeated: stop.
					(!counted && fresh[next - 2] === 0) ||
					!(reportedPages === 0 ? !counted : next <= reportedPages)
				)
					return;
				await fetchPage(next++);
			}
		};
		try {
			// Concurrent pages are checked against each other by their counts: without a count on page 1 they are
			// read one at a time, in order, instead.
			if (counted && size > 0 && answers[0].elements !== undefined) {
				const planned = Math.min(first.total as number, MAX_PAGES, Math.ceil(want / size));
				await runBounded(planned - 1, PAGE_CONCURRENCY, true, async (index) => {
					await fetchPage(index + 2);
				});
			}
			for (let round = 0; ; ) {
				const stale = firstStalePage(answers, options.returnAll);
				if (stale !== undefined) {
					if (round >= MAX_REREADS) throw changedError(this.node, answers);
					// Read again in order, one page at a time, from the first page that may be stale (all of them the
					// second time round): each page is then answered after the one before it.
					for (let page = round === 0 ? stale : 1; page <= answers.length; page++) await fetchPage(page);
					round++;
					continue;
				}
				const read = answers.length;
				await readOn(read + 1);
				if (answers.length === read) break;
			}
		} catch (error) {
			const pageError = error as NodeApiError;
			pageError.description =
				`${pageError.description ?? ''} ${countItems(answers)} transactions had been fetched; none are returned, so no partial list is passed on as whole.`.trim();
			throw pageError;
		}

		const rows = answers.flatMap((answer) => answer.rows);
		const { distinct } = tally(answers);
		// `distinct` counts each row the first time its key came in: equal to all rows, there is nothing to remove.
		const items = distinct === rows.length ? rows : uniqueByKey(rows);
		const expected = answers[0].elements;
		if (options.returnAll && counted && expected !== undefined && items.length < expected) {
			throw new NodeOperationError(
				this.node,
				`Calypso reported ${expected} transactions but ${items.length} different ones came back`,
				{ description: CHANGED_DESCRIPTION },
			);
		}
		return options.returnAll ? items : items.slice(0, options.limit);
	}
}

/** One page of a Find as last read: its rows and the `totalElements` it reported. */
interface PageAnswer {
	rows: IDataObject[];
	elements?: number;
	/** Answers the Find had received when this page was requested. */
	since: number;
	/** This answer's place among the Find's answers (1 = first answered). */
	seq: number;
}

/** Rounds of re-reading pages that changed while a Find was paging, before it gives up. */
export const MAX_REREADS = 2;

const CHANGED_DESCRIPTION =
	'The transactions changed while they were being fetched page by page (some moved onto a page already read). Run the node again; nothing was returned from this attempt.';

/**
 * What makes a row the same row: its id, or (a row without an id) all of its content, so that a repeated page
 * of rows without ids is not counted as new ones.
 */
function rowKey(row: IDataObject): unknown {
	return row.id !== undefined ? row.id : `content:${JSON.stringify(row)}`;
}

/**
 * Distinct rows (by `rowKey`) of the pages in page order, and per page how many of its rows no page before it had.
 */
function tally(answers: PageAnswer[]): { distinct: number; fresh: number[] } {
	const seen = new Set<unknown>();
	const fresh = answers.map((answer) => {
		let added = 0;
		for (const row of answer?.rows ?? []) {
			const key = rowKey(row);
			if (seen.has(key)) continue;
			seen.add(key);
			added++;
		}
		return added;
	});
	return { distinct: fresh.reduce((sum, n) => sum + n, 0), fresh };
}

/**
 * The first page (1-based) that must be read again, or undefined when the pages fit together. Each answer tells
 * how many transactions matched when it was made. Counts that only grow from page to page mean each page was
 * answered no earlier than the one before it, so an arrival can only repeat a row (removed by id), never hide one.
 * A page with a lower count than a page before it was answered before an arrival that an earlier page saw (a row
 * of that earlier page may have moved onto it unseen), or after a transaction went away (rows moved back onto a
 * page already read): read from it again (from page 1 when the count fell below page 1's). Equal counts with a
 * repeated row mean a row moved (its amount or state changed under the sort): read all again. With a Limit the
 * rows must be one moment's first rows: one arrival at most between the pages, or they are read again.
 */
export function firstStalePage(answers: PageAnswer[], returnAll: boolean): number | undefined {
	if (answers.length < 2) return undefined;
	// A page without a count cannot be compared with its neighbours. Next to one, a page is accepted only when it
	// was requested after the page before it was answered (as a server without counts is read page by page);
	// otherwise it is read again, in order.
	for (let page = 1; page < answers.length; page++) {
		const [before, answer] = [answers[page - 1], answers[page]];
		const comparable = before.elements !== undefined && answer.elements !== undefined;
		if (!comparable && answer.since < before.seq) return page + 1;
	}
	const known = answers
		.map((answer, index) => ({ page: index + 1, count: answer?.elements }))
		.filter((entry): entry is { page: number; count: number } => entry.count !== undefined);
	if (known.length === 0) return undefined;
	let most = known[0].count;
	for (const { page, count } of known.slice(1)) {
		if (count < most) return count < known[0].count ? 1 : page;
		most = count;
	}
	const spread = known[known.length - 1].count - known[0].count;
	const repeated = tally(answers).distinct < countItems(answers);
	if (spread === 0 && repeated && known.length > 1) return 1;
	if (!returnAll && spread > 1) return known.find(({ count }) => count !== known[0].count)?.page;
	return undefined;
}

function changedError(node: INode, answers: PageAnswer[]): NodeOperationError {
	const counts = answers
		.map((answer) => answer.elements)
		.filter((count): count is number => count !== undefined);
	const reported =
		counts.length > 0
			? `: Calypso reported ${Math.min(...counts)} to ${Math.max(...counts)} of them across the pages`
			: '';
	return new NodeOperationError(
		node,
		`The transactions changed while they were being fetched${reported}, also after reading them again`,
		{ description: CHANGED_DESCRIPTION },
	);
}

/** Same-origin redirects followed for one request. */
const MAX_REDIRECTS = 3;

/** A redirect that is not followed (`to`: where it points, or the unreadable Location quoted). */
function redirectError(
	node: INode,
	statusCode: number,
	to: string,
	why: string,
	context: ErrorContext = {},
): NodeApiError {
	const message = `Calypso's answer redirected the request to ${to}: ${why}`;
	return new NodeApiError(
		node,
		{ httpCode: String(statusCode), message },
		{
			message,
			description:
				'Signed requests are not sent on to it: they carry the API key and a signed body. Check the Base URL in the Calypso Pay API credential (scheme and host of the Calypso API, e.g. https://api.calypso.money).',
			httpCode: String(statusCode),
			itemIndex: context.itemIndex,
		},
	);
}

/** Pages fetched at once by one Find. */
export const PAGE_CONCURRENCY = 10;

function countItems(answers: PageAnswer[]): number {
	return answers.reduce((sum, answer) => sum + (answer?.rows.length ?? 0), 0);
}

function uniqueByKey(items: IDataObject[]): IDataObject[] {
	const seen = new Set<unknown>();
	return items.filter((item) => {
		const key = rowKey(item);
		if (seen.has(key)) return false;
		seen.add(key);
		return true;
	});
}
