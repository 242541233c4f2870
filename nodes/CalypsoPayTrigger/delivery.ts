import { timingSafeEqual } from 'node:crypto';
import type { IDataObject } from 'n8n-workflow';

import { sign } from '../CalypsoPay/transport/signing';

/**
 * Pure functions behind the Calypso Pay Trigger's webhook: checking a delivery's signature, reading its envelope,
 * and shaping the output item. No n8n context, no I/O: unit-tested on their own.
 */

/** The Customer Purse events a subscription can list in `notificationEventTypes`. */
export const EVENTS = [
	{
		value: 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE',
		name: 'Funds Received',
		description: 'A deposit to a customer address passed the checks and was received',
	},
	{
		value: 'CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED',
		name: 'Credited to Account',
		description: "A received deposit was credited to the merchant's account",
	},
	{
		value: 'CUSTOMER_PURSE_MEM_POOL_FOUND',
		name: 'Seen in Mempool',
		description: 'A deposit was seen in the mempool (not yet confirmed; not always reported)',
	},
	{
		value: 'CUSTOMER_PURSE_PENDING_COMPLIANCE',
		name: 'Pending Compliance Check',
		description: 'A deposit is waiting for its compliance check',
	},
	{
		value: 'CUSTOMER_PURSE_COMPLIANCE_DECLINED',
		name: 'Compliance Declined',
		description: 'A deposit failed the compliance check; the address is blocked',
	},
	{
		value: 'CUSTOMER_PURSE_EXPIRED',
		name: 'Purse Expired',
		description: 'A customer deposit address expired',
	},
] as const;

export const EVENT_TYPES: string[] = EVENTS.map((event) => event.value);

/** The service a Customer Purse subscription is for (`notificationServiceTypes`). */
export const SERVICE_TYPE = 'CUSTOMER_PURSE';

/** What a webhook needs to verify deliveries: the subscription's own key pair (not the API key pair). */
export interface SubscriptionKeys {
	publicKey: string;
	secretKey: string;
}

type HeaderValue = string | string[] | undefined;

/** Compares two strings in constant time for equal lengths (the length itself is not secret here). */
export function safeEqual(given: string, expected: string): boolean {
	const a = Buffer.from(given, 'utf8');
	const b = Buffer.from(expected, 'utf8');
	return a.length === b.length && timingSafeEqual(a, b);
}

function single(value: HeaderValue): string | undefined {
	if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
	return value;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks a delivery: header `Key` must be the subscription's public key and header `Sign` the lowercase hex
 * HMAC-SHA512 of the raw body keyed with the subscription's secret key. Header names are lower-case, as Node
 * delivers them. The signature is computed over the bytes received, never over a re-serialised body.
 */
export function verifyDelivery(
	rawBody: Buffer | string,
	headers: Record<string, HeaderValue>,
	keys: Partial<SubscriptionKeys>,
): Verdict {
	if (!keys.publicKey || !keys.secretKey) {
		return {
			ok: false,
			reason: 'no subscription keys are stored for this trigger (activate the workflow again)',
		};
	}
	const key = single(headers.key);
	const signature = single(headers.sign);
	if (key === undefined) return { ok: false, reason: 'the Key header is missing' };
	if (signature === undefined) return { ok: false, reason: 'the Sign header is missing' };
	if (!safeEqual(key.trim(), keys.publicKey))
		return { ok: false, reason: 'the Key header is not this subscription public key' };
	if (!safeEqual(signature.trim().toLowerCase(), sign(keys.secretKey, rawBody))) {
		return { ok: false, reason: 'the Sign header does not match the body' };
	}
	return { ok: true };
}

/** The JSON envelope Calypso delivers. */
export interface CalypsoEvent extends IDataObject {
	id?: number | string;
	requestId?: string;
	createdDate?: string;
	level?: string;
	service?: string;
	eventType?: string;
	data?: IDataObject;
}

/** Index just past the JSON value (valid JSON, as JSON.parse already accepted it) starting at `start`. */
function skipValue(text: string, start: number): number {
	let depth = 0;
	let i = start;
	do {
		const c = text[i];
		if (c === '"') {
			for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
			i++;
		} else if (c === '{' || c === '[') {
			depth++;
			i++;
		} else if (c === '}' || c === ']') {
			depth--;
			i++;
		} else if (depth > 0) {
			i++;
		} else {
			while (i < text.length && !/[\s,}\]]/.test(text[i])) i++;
		}
	} while (depth > 0 && i < text.length);
	return i;
}

/**
 * The source text of the top-level "id" member when it is a number (the last one, as JSON.parse keeps the last),
 * so that ids above 2^53, which JSON.parse rounds, are kept exactly.
 */
function topLevelIdText(text: string): string | undefined {
	let found: string | undefined;
	const skipSpace = (from: number) => {
		let i = from;
		while (/\s/.test(text[i] ?? '')) i++;
		return i;
	};
	let i = skipSpace(0) + 1; // past "{"
	for (;;) {
		i = skipSpace(i);
		if (text[i] !== '"') return found;
		const keyEnd = skipValue(text, i);
		const key = JSON.parse(text.slice(i, keyEnd)) as string;
		i = skipSpace(skipSpace(keyEnd) + 1); // past ":"
		const valueEnd = skipValue(text, i);
		if (key === 'id') found = /^-?\d/.test(text.slice(i, valueEnd)) ? text.slice(i, valueEnd) : undefined;
		i = skipSpace(valueEnd);
		if (text[i] !== ',') return found;
		i++;
	}
}

/**
 * Parses a (verified) body; `undefined` when it is not a JSON object. A numeric `id` too large to be exact as a
 * JavaScript number (above 2^53) is kept as the text Calypso sent, so two such events stay distinct.
 */
export function parseEvent(rawBody: Buffer | string): CalypsoEvent | undefined {
	const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		return undefined;
	}
	if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
	const event = parsed as CalypsoEvent;
	if (typeof event.id === 'number' && Number.isInteger(event.id) && !Number.isSafeInteger(event.id)) {
		event.id = topLevelIdText(text) ?? event.id;
	}
	return event;
}

/** The event's id as a dedupe key, when it has one. */
export function eventKey(event: CalypsoEvent): string | undefined {
	const { id } = event;
	return (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id !== '')
		? String(id)
		: undefined;
}

/**
 * Whether the trigger runs for this event: its `eventType` is one of the selected events. An event without a
 * text `eventType` (missing, a number, a list) is not selected, rather than let past the filter.
 */
export function isSelectedEvent(event: CalypsoEvent, selected: readonly string[]): boolean {
	return typeof event.eventType === 'string' && selected.includes(event.eventType);
}

/** The transaction a (transaction) event is about. */
export function transactionIdOf(event: CalypsoEvent): string | undefined {
	const id = event.data?.transactionId;
	return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * One flat item for n8n users: the envelope's fields (`id` as `eventId`), then the event's `data` fields
 * (customerId, customerBlocked, purseId, address, transactionId, amount, currency, and any others Calypso adds),
 * then `raw`: the whole envelope as received.
 */
export function flattenEvent(event: CalypsoEvent): IDataObject {
	const item: IDataObject = {
		eventId: event.id,
		eventType: event.eventType,
		level: event.level,
		service: event.service,
		createdDate: event.createdDate,
		requestId: event.requestId,
	};
	const data = event.data && typeof event.data === 'object' && !Array.isArray(event.data) ? event.data : {};
	for (const [key, value] of Object.entries(data)) {
		if (!(key in item) && key !== 'raw' && key !== 'transaction') item[key] = value;
	}
	for (const key of Object.keys(item)) if (item[key] === undefined) delete item[key];
	item.raw = event;
	return item;
}

/** A subscription as Calypso lists or creates it. */
export interface Subscription extends IDataObject {
	requestId?: string;
	notificationEventTypes?: string[];
	url?: string;
	publicKey?: string;
	secretKey?: string;
}

/** The subscriptions in a list answer: `{subscriptions: [...]}` (or, defensively, a bare list or `result`). */
export function subscriptionsOf(answer: unknown): Subscription[] {
	const list = Array.isArray(answer)
		? answer
		: answer && typeof answer === 'object'
			? ((answer as IDataObject).subscriptions ?? (answer as IDataObject).result)
			: undefined;
	return Array.isArray(list) ? (list.filter((s) => s && typeof s === 'object') as Subscription[]) : [];
}

/** Same set of event types, in any order. */
export function sameEvents(a: unknown, b: string[]): boolean {
	if (!Array.isArray(a)) return false;
	const left = new Set(a.map(String));
	return left.size === new Set(b).size && b.every((event) => left.has(event));
}
