import { sleep } from 'n8n-workflow';
import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { CalypsoClient, DEFAULT_SETTINGS } from '../CalypsoPay/transport';
import type { TransportSettings } from '../CalypsoPay/transport';
import { DeliveryMemory, pruneSeen, readSeen, sameSeen } from './dedupe';
import type { Seen } from './dedupe';
import {
	eventKey,
	flattenEvent,
	isSelectedEvent,
	parseEvent,
	transactionIdOf,
	verifyDelivery,
} from './delivery';
import type { CalypsoEvent } from './delivery';
import { asNodeError } from '../CalypsoPay/transport/errors';
import { isNotFound, storedSubscription, subscriptionKeys } from './subscription';
import type { StoredSubscription } from './subscription';

/** A transaction lookup inside a webhook call: Calypso waits for our answer, so retry briefly, then fail (500). */
const CONFIRM_SETTINGS: TransportSettings = {
	...DEFAULT_SETTINGS,
	retry: { retries: 2, baseDelayMs: 500, maxDelayMs: 2000, maxTotalWaitMs: 4000 },
	timeoutMs: 10_000,
};

/** Calypso retries any answer but a 200; this asks it to come back later (its next attempt is 30 s or more away). */
const RETRY_AFTER_S = 30;

function respond(
	ctx: IWebhookFunctions,
	status: number,
	message: string,
	headers: Record<string, string> = {},
): IWebhookResponseData {
	const res = ctx.getResponseObject();
	const body = JSON.stringify({ message });
	res.writeHead(status, {
		'Content-Type': 'application/json',
		'Content-Length': Buffer.byteLength(body),
		...headers,
	});
	res.end(body);
	return { noWebhookResponse: true };
}

/** Fetches the transaction an event is about: the current state, from Calypso itself. Not found → null. */
async function confirmTransaction(ctx: IWebhookFunctions, transactionId: string): Promise<IDataObject> {
	try {
		const transaction = await new CalypsoClient(ctx, CONFIRM_SETTINGS).request('transaction/get', {
			transactionId,
		});
		return { transaction };
	} catch (error) {
		// Calypso does not know the transaction (it may report mempool sightings it never records): say so in the
		// item rather than fail the delivery, which Calypso would then retry for a day and a half.
		const nodeError = asNodeError(ctx.getNode(), error);
		if (isNotFound(nodeError)) return { transaction: null, transactionError: nodeError.message };
		throw nodeError;
	}
}

/**
 * Calls `done(true)` once the answer to this request has been sent with a 2xx status, `done(false)` when it was not
 * (n8n failed after webhook() returned, or the connection closed first). Once only.
 */
function whenAnswered(ctx: IWebhookFunctions, done: (acknowledged: boolean) => void): void {
	const res = ctx.getResponseObject();
	let called = false;
	const once = (acknowledged: boolean) => {
		if (!called) done(acknowledged);
		called = true;
	};
	res.once('finish', () => once(res.statusCode >= 200 && res.statusCode < 300));
	res.once('close', () => once(false));
}

/** Sets the record n8n will save with this request, when it differs from what was loaded. */
function writeRecord(
	memory: DeliveryMemory,
	scope: string,
	stored: StoredSubscription,
	loaded: Seen,
	next: Seen,
): void {
	if (sameSeen(next, loaded)) return;
	stored.seen = next;
	memory.track(scope, stored);
}

/** How often, and for how long at most, the record is marked changed again while n8n has not answered. */
const REMARK = { everyMs: 2, forMs: 60_000 };

/**
 * n8n 2.41 (webhook-helpers.js) starts the execution before it saves the static data, and starting it wraps the
 * same static data in a new observable (workflow-runner.js, establishContextForPersistence), which clears n8n's
 * "changed" mark: the record set by webhook() would then not be saved with the request that started an execution
 * (only with the process's next request), and another process would run a re-delivery again. n8n saves before it
 * answers; until the answer is out, the record is set again every few milliseconds, so that save sees it changed.
 */
async function keepRecordMarked(stored: StoredSubscription, answered: () => boolean): Promise<void> {
	const until = Date.now() + REMARK.forMs;
	while (!answered() && Date.now() < until) {
		await sleep(REMARK.everyMs);
		if (!answered() && stored.seen && typeof stored.seen === 'object')
			stored.seen = { ...(stored.seen as Seen) };
	}
}

/**
 * One delivery: verify the signature over the bytes received, then de-duplicate (./dedupe.ts):
 * - an event this process is still processing (not yet answered 200): 503, so that Calypso retries it later and it
 *   is never acknowledged before it has been processed;
 * - an event acknowledged before (this process's memory, or the record loaded from the database): 200 "already
 *   received", nothing started; if the loaded record lacked ids this process remembers, it is repaired;
 * - a new event: processed; the record with its id is set on the static data, which n8n saves before it answers.
 *   This process answers re-deliveries of it with 503 until the 200 has been sent; if webhook() throws (n8n answers
 *   500 and saves nothing) or n8n does not answer 2xx, it is forgotten (and revoked from this process's later
 *   records), so Calypso's retry is processed.
 */
export async function receiveDelivery(
	this: IWebhookFunctions,
	memory: DeliveryMemory,
): Promise<IWebhookResponseData> {
	const stored = storedSubscription(this);
	const request = this.getRequestObject();
	// The signature is over the bytes Calypso sent, which n8n keeps as a Buffer in rawBody. Never over the parsed
	// body re-serialised: that would differ from what was signed (spacing, key order, \u escapes).
	if (!Buffer.isBuffer(request.rawBody)) {
		return respond(
			this,
			500,
			'n8n did not keep the raw body of this request, so its signature cannot be checked',
		);
	}
	const rawBody = request.rawBody;

	const keys = await subscriptionKeys(this, stored);
	const verdict = verifyDelivery(rawBody, this.getHeaderData(), keys);
	if (!verdict.ok) return respond(this, 401, `Calypso signature check failed: ${verdict.reason}`);

	const event: CalypsoEvent | undefined = parseEvent(rawBody);
	if (!event) return respond(this, 400, 'The body is not a JSON object');

	const events = this.getNodeParameter('events', []) as string[];
	if (!isSelectedEvent(event, events)) {
		return {
			webhookResponse: {
				message:
					typeof event.eventType === 'string'
						? `Event ${event.eventType} is not selected in this trigger; ignored`
						: `An event without a text eventType (${JSON.stringify(event.eventType) ?? 'none'}) is not selected in this trigger; ignored`,
			},
		};
	}

	const scope = stored.requestId ?? '';
	const id = eventKey(event);
	const nowS = Math.floor(Date.now() / 1000);
	const loaded = pruneSeen(readSeen(stored.seen), nowS);
	if (id !== undefined) {
		memory.absorb(scope, loaded);
		const state = memory.state(scope, id);
		if (state === 'processing' || state === 'handed') {
			return respond(this, 503, `Event ${id} is still being processed; retry later`, {
				'Retry-After': String(RETRY_AFTER_S),
			});
		}
		if (state === 'done') {
			writeRecord(memory, scope, stored, loaded, memory.record(scope, loaded, nowS));
			return { webhookResponse: { message: `Event ${id} was already received; ignored` } };
		}
		memory.begin(scope, id);
	}

	const item = flattenEvent(event);
	const transactionId = transactionIdOf(event);
	if (transactionId && (this.getNodeParameter('confirmTransaction', true) as boolean)) {
		try {
			Object.assign(item, await confirmTransaction(this, transactionId));
		} catch (error) {
			// Not processed: n8n answers 500 and saves nothing; Calypso's retry of this event is let through.
			if (id !== undefined) memory.release(scope, id);
			throw asNodeError(this.getNode(), error);
		}
	}
	if (id !== undefined) {
		memory.handOver(scope, id, nowS, nowS);
		writeRecord(memory, scope, stored, loaded, memory.record(scope, loaded, nowS));
		let answered = false;
		whenAnswered(this, (acknowledged) => {
			answered = true;
			if (acknowledged) memory.acknowledge(scope, id);
			else memory.release(scope, id);
		});
		void keepRecordMarked(stored, () => answered);
	}
	return { workflowData: [this.helpers.returnJsonArray([item])] };
}
