import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { INode, JsonObject } from 'n8n-workflow';

/** What a user can do about the errors Calypso documents. */
export const HINTS: Record<string, string> = {
	'001':
		'Calypso found the request malformed. If the message mentions the account, check that the Merchant Account in the Calypso credential is the one this API key belongs to.',
	'002':
		'Check the API Key in the Calypso credential: it must be the public key of an active API key (sandbox and live keys differ).',
	'003':
		'Check the Secret Key in the Calypso credential, and that no proxy between n8n and Calypso rewrites the request body.',
	'004': 'Check the ID: it must exist under this merchant account.',
	'011':
		'Calypso accepts timestamps within 3 minutes of its own clock: check the clock of the n8n host (enable NTP time sync).',
	'014':
		'Use an upper-case ticker such as BTC, ETH, USDT or USDT_TRX (not USDT-TRC20); the available list is per account.',
	'015':
		'The currency is not served by this blockchain: use the ticker with its network suffix, e.g. USDT_TRX.',
};

export interface ErrorContext {
	itemIndex?: number;
	/** Added to the description, e.g. "page 7 (600 transactions fetched before it)". */
	where?: string;
	/** Milliseconds the server clock is ahead of ours, when the response's Date header allows an estimate. */
	clockSkewMs?: number;
}

function describeSkew(skewMs: number | undefined): string {
	if (skewMs === undefined || !Number.isFinite(skewMs)) return '';
	const seconds = Math.round(Math.abs(skewMs) / 1000);
	return ` The n8n host's clock looks ${seconds} s ${skewMs > 0 ? 'behind' : 'ahead of'} Calypso's.`;
}

/** The message a JSON error body without a Calypso errorCode carries in its own words, if any. */
function ownMessage(data: Record<string, unknown>): string | undefined {
	for (const key of ['message', 'error_description', 'error', 'detail', 'title']) {
		const value = data[key];
		if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 200);
	}
	return undefined;
}

/** A JSON error body without a Calypso errorCode: its own message (or its JSON) goes to the user. */
function jsonApiError(
	node: INode,
	statusCode: number,
	data: Record<string, unknown>,
	context: ErrorContext,
): NodeApiError {
	const where = context.where ? ` (${context.where})` : '';
	const text = ownMessage(data) ?? JSON.stringify(data).slice(0, 200);
	const traceId = typeof data.traceId === 'string' ? data.traceId : undefined;
	const response: JsonObject = { message: text, httpCode: String(statusCode) };
	if (traceId) response.traceId = traceId;
	return new NodeApiError(node, response, {
		message: `Calypso answered HTTP ${statusCode}: ${text}${where}`,
		description: `The answer had no Calypso error code.${traceId ? ` Trace ID: ${traceId}.` : ''} If it did not come from Calypso, check the Base URL in the Calypso credential: the scheme and host of the Calypso API only.`,
		httpCode: String(statusCode),
		itemIndex: context.itemIndex,
	});
}

/** An HTTP error answer from Calypso (JSON in Calypso's shape, or anything else such as an HTML 502 page). */
export function calypsoApiError(
	node: INode,
	statusCode: number,
	body: unknown,
	context: ErrorContext = {},
): NodeApiError {
	const data =
		body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
	const errorCode = data && typeof data.errorCode === 'string' ? data.errorCode : undefined;
	const where = context.where ? ` (${context.where})` : '';
	if (errorCode === undefined && data) return jsonApiError(node, statusCode, data, context);
	if (errorCode === undefined) {
		const text =
			typeof body === 'string'
				? body
						.replace(/<[^>]*>/g, ' ')
						.replace(/\s+/g, ' ')
						.trim()
				: '';
		return new NodeApiError(
			node,
			{ httpCode: String(statusCode), body: text.slice(0, 200) },
			{
				message: `Calypso answered HTTP ${statusCode} without an API error body${where}`,
				description: `${text ? `The response said: "${text.slice(0, 200)}". ` : ''}This usually comes from a proxy or a Calypso outage; try again later, and check the Base URL in the credential.`,
				httpCode: String(statusCode),
				itemIndex: context.itemIndex,
			},
		);
	}
	const message = typeof data?.message === 'string' ? data.message : 'No message';
	const traceId = typeof data?.traceId === 'string' ? data.traceId : undefined;
	const hint = HINTS[errorCode] ?? '';
	const skew = errorCode === '011' ? describeSkew(context.clockSkewMs) : '';
	const response: JsonObject = { errorCode, message, httpCode: String(statusCode) };
	if (traceId) response.traceId = traceId;
	return new NodeApiError(node, response, {
		message: `Calypso error ${errorCode}: ${message}${where}`,
		description: [hint + skew, traceId ? `Trace ID (for Calypso support): ${traceId}` : '']
			.filter((part) => part.trim() !== '')
			.join(' '),
		// n8n shows this as the error's "Error code": Calypso's own code, not the HTTP status beside it.
		httpCode: errorCode,
		itemIndex: context.itemIndex,
	});
}

const NETWORK_REASONS: Record<string, string> = {
	ECONNREFUSED: 'the connection was refused',
	ECONNRESET: 'the connection was closed before an answer',
	ECONNABORTED: 'no answer in time',
	ETIMEDOUT: 'no answer in time',
	ENOTFOUND: 'the host name was not found',
	EAI_AGAIN: 'the host name could not be resolved',
};

/**
 * A request that never got an HTTP answer. The original error is not kept: it holds the signed request. The
 * code goes in the description: NodeApiError replaces any message that contains one with its generic text.
 */
export function calypsoNetworkError(node: INode, code: string, context: ErrorContext = {}): NodeApiError {
	const where = context.where ? ` (${context.where})` : '';
	const reason = NETWORK_REASONS[code] ?? 'no answer';
	return new NodeApiError(
		node,
		{ networkCode: code, message: `Could not reach Calypso: ${reason}` },
		{
			message: `Could not reach Calypso: ${reason}${where}`,
			description: `Network error ${code}. Check the Base URL in the Calypso credential and that the n8n host can reach it.`,
			itemIndex: context.itemIndex,
		},
	);
}

/**
 * A 2xx answer without the list the API documents under `key` (`customers`, `purses`, `result`; `where`: e.g.
 * "page 2 of 3"): never read as an empty list, which would let Get or Create, or the recovery of a create, create a
 * customer that may exist, or pass a short transaction list on as whole.
 */
export function wrongShapeError(
	node: INode,
	operation: string,
	key: string,
	body: unknown,
	where?: string,
): NodeOperationError {
	const keys = body && typeof body === 'object' ? Object.keys(body).slice(0, 10) : [];
	const had =
		body && typeof body === 'object'
			? keys.length > 0
				? `only ${keys.map((name) => `"${name}"`).join(', ')}`
				: 'no fields'
			: `no fields (it was ${body === '' || body === undefined || body === null ? 'empty' : `a ${typeof body}`})`;
	const at = where === undefined ? '' : ` (${where})`;
	return new NodeOperationError(node, `Calypso's answer to ${operation} has no "${key}" list${at}`, {
		description: `The API documents a "${key}" array here; the answer had ${had}. Nothing is returned rather than an empty list. Check that the Base URL in the credential points at the Calypso API itself, not at a proxy or another service.`,
	});
}

/**
 * The error as n8n shows it: the client's NodeApiError/NodeOperationError as they are (given the item index when
 * they have none), anything else wrapped.
 */
export function asNodeError(
	node: INode,
	error: unknown,
	itemIndex?: number,
): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		if (itemIndex !== undefined) error.context.itemIndex ??= itemIndex;
		return error;
	}
	return new NodeOperationError(node, error as Error, { itemIndex });
}

/** Marks an error after which a non-idempotent request (customer/create) may or may not have been processed. */
export function markAmbiguous(error: NodeApiError): NodeApiError {
	error.context.ambiguous = true;
	return error;
}

export function isAmbiguous(error: unknown): boolean {
	return error instanceof NodeApiError && error.context.ambiguous === true;
}

/**
 * A request that had no complete answer within Timeout (Ms): the deadline covers the whole exchange, body included,
 * so a server that trickles its answer does not hold the item.
 */
export function calypsoTimeoutError(
	node: INode,
	timeoutMs: number,
	context: ErrorContext = {},
): NodeApiError {
	const where = context.where ? ` (${context.where})` : '';
	return new NodeApiError(
		node,
		{ networkCode: 'ETIMEDOUT', message: 'Could not reach Calypso: no complete answer within the timeout' },
		{
			message: `Could not reach Calypso: no complete answer within the timeout${where}`,
			description: `No complete answer within ${timeoutMs} ms (the node's Timeout (Ms) option, which covers the whole answer, body included). Check that the n8n host can reach the Base URL, or raise the Timeout.`,
			itemIndex: context.itemIndex,
		},
	);
}

/** n8n cancelled the execution while a request or a wait was under way. */
export function cancelledError(node: INode, context: ErrorContext = {}): NodeApiError {
	return new NodeApiError(
		node,
		{ message: 'The execution was cancelled' },
		{
			message: 'The execution was cancelled before Calypso answered',
			description: 'n8n cancelled the execution; the node stopped waiting.',
			itemIndex: context.itemIndex,
		},
	);
}

/**
 * A 2xx answer to a request that must not be sent twice (customer/create) without a readable body: cut off after
 * the headers, empty or not JSON. The request was received and may have been processed.
 */
export function unreadableAnswerError(
	node: INode,
	statusCode: number,
	context: ErrorContext = {},
): NodeApiError {
	const where = context.where ? ` (${context.where})` : '';
	return new NodeApiError(
		node,
		{ httpCode: String(statusCode), message: 'Calypso answered without a readable body' },
		{
			message: `Calypso answered HTTP ${statusCode} without a readable body${where}`,
			description:
				'The answer was cut off, empty, not JSON or not a JSON object, so it does not say what was done.',
			httpCode: String(statusCode),
			itemIndex: context.itemIndex,
		},
	);
}

/** A 2xx answer to a create without the `id` of what it created (an empty object, a proxy's own "OK"). */
export function noIdError(
	node: INode,
	operation: string,
	body: unknown,
	context: ErrorContext = {},
): NodeApiError {
	const keys = body && typeof body === 'object' ? Object.keys(body).slice(0, 10) : [];
	const had = keys.length > 0 ? `only ${keys.map((name) => `"${name}"`).join(', ')}` : 'no fields';
	return new NodeApiError(
		node,
		{ message: `Calypso's answer to ${operation} has no "id"` },
		{
			message: `Calypso's answer to ${operation} has no "id"`,
			description: `The answer had ${had}, so it does not say what was created.`,
			itemIndex: context.itemIndex,
		},
	);
}
