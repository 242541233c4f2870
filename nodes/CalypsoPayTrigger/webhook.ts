import type { IDataObject, IWebhookFunctions, IWebhookResponseData } from 'n8n-workflow';

import { CalypsoClient, DEFAULT_SETTINGS } from '../CalypsoPay/transport';
import type { TransportSettings } from '../CalypsoPay/transport';
import { asNodeError } from '../CalypsoPay/transport/errors';
import { eventTimeS, pruneSeen, readSeen } from './dedupe';
import type { DeliveryMemory } from './dedupe';
import {
	eventKey,
	flattenEvent,
	isSelectedEvent,
	parseEvent,
	safeEqual,
	transactionIdOf,
	verifyDelivery,
} from './delivery';
import type { CalypsoEvent } from './delivery';
import { storedSubscription, subscriptionKeys } from './subscription';

/**
 * A transaction look-up inside a webhook call: Calypso waits for our answer, so retry briefly. If it still fails,
 * the event is handed to the workflow with the error (never a non-200 answer: see `confirm`).
 */
const CONFIRM_SETTINGS: TransportSettings = {
	...DEFAULT_SETTINGS,
	retry: { retries: 2, baseDelayMs: 500, maxDelayMs: 2000, maxTotalWaitMs: 4000 },
	timeoutMs: 10_000,
};

/** Calypso retries any answer but a 200; this asks it to come back later (its next attempt is 30 s or more away). */
const RETRY_AFTER_S = 30;

type Answer = IWebhookResponseData;

function respond(
	ctx: IWebhookFunctions,
	status: number,
	message: string,
	headers: Record<string, string> = {},
): Answer {
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

const refuse = (ctx: IWebhookFunctions, reason: string) =>
	respond(ctx, 401, `Calypso signature check failed: ${reason}`);
const acknowledge = (message: string): Answer => ({ webhookResponse: { message } });

/**
 * n8n's reader failed on a body the node reads itself (version 1.1, a content type n8n does not parse): over n8n's
 * size limit (413), an upload that broke off, or a Content-Encoding that does not decode (400). Answered here: thrown,
 * n8n would record a failed execution of the workflow for each such request.
 */
function unreadable(ctx: IWebhookFunctions, error: unknown): Answer {
	const { status, statusCode, message } = (error ?? {}) as {
		status?: unknown;
		statusCode?: unknown;
		message?: unknown;
	};
	if (status === 413 || statusCode === 413) {
		return respond(ctx, 413, 'The body is larger than this n8n accepts (N8N_PAYLOAD_SIZE_MAX); not verified');
	}
	return respond(ctx, 400, `The body could not be read (${String(message)}); not verified`);
}

function header(ctx: IWebhookFunctions, name: string): string | undefined {
	const value = ctx.getHeaderData()[name];
	return typeof value === 'string' ? value : undefined;
}

/**
 * The look-up of the transaction an event is about: its current state, from Calypso itself. Whatever goes wrong
 * (Calypso does not know it, or the API fails or is down), the event still starts the workflow, with
 * `transaction: null` and the reason in `transactionError`: answering Calypso with an error instead would have it
 * re-send the event, and more than 100 errors without a 200 in 10 minutes get the subscription blocked.
 */
async function confirm(ctx: IWebhookFunctions, transactionId: string): Promise<IDataObject> {
	try {
		const transaction = await new CalypsoClient(ctx, CONFIRM_SETTINGS).request('transaction/get', {
			transactionId,
		});
		return { transaction };
	} catch (error) {
		return { transaction: null, transactionError: asNodeError(ctx.getNode(), error).message };
	}
}

/**
 * One delivery, in order (the record's bookkeeping is ./dedupe.ts's DeliveryMemory):
 * 1. the key: the `Key` header must be the subscription's stored public key and a `Sign` header must be there, or
 *    401 before anything else (no credential read, no request to Calypso);
 * 2. the body: read with n8n's reader when n8n left it unread (413 too large, 400 unreadable; 415 for a form, whose
 *    bytes n8n does not keep); its signature, over the raw bytes received, with the subscription's secret key (opened
 *    once per process and `KEYS_WINDOW_MS`; re-fetched from Calypso at most as often when the credential changed)
 *    → 401;
 * 3. the event: a signed body that is not a JSON object, or an event type not selected, is acknowledged (200) and
 *    ignored: sending the same bytes again cannot change that;
 * 4. classify: in flight in this process (503, Retry-After: Calypso comes back once it is processed), repeated
 *    (200 "already received"; the record repaired if this process knew more), too old for the record to tell it
 *    from a replay (200, not started), or new;
 * 5. confirm the transaction (Confirm Transaction): a failed look-up goes to the workflow as `transactionError`;
 * 6. record: the event's id on the static data, which n8n saves before it answers, once the events handed to n8n
 *    before it are answered (so the writes land in order); this process then follows n8n's answer
 *    (DeliveryMemory.watch): 2xx → acknowledged; anything else → forgotten, so Calypso's retry is processed.
 *    A caller that hung up meanwhile is treated like one still waiting: the workflow runs once and is recorded;
 *    Calypso, having no 200, re-sends, and gets "already received".
 */
export async function receiveDelivery(this: IWebhookFunctions, memory: DeliveryMemory): Promise<Answer> {
	const stored = storedSubscription(this);

	// 1. The key.
	const { requestId, publicKey } = stored;
	if (typeof requestId !== 'string' || typeof publicKey !== 'string' || publicKey === '') {
		return refuse(this, 'no subscription keys are stored for this trigger (activate the workflow again)');
	}
	const key = header(this, 'key');
	if (key === undefined) return refuse(this, 'the Key header is missing');
	if (!safeEqual(key.trim(), publicKey))
		return refuse(this, 'the Key header is not this subscription public key');
	if (header(this, 'sign') === undefined) return refuse(this, 'the Sign header is missing');

	// 2. The body. The signature is over the bytes Calypso sent, which n8n keeps as a Buffer in rawBody; never over
	// the parsed body re-serialised (spacing, key order and \u escapes would differ).
	// n8n reads it for a version 1 node, and from version 1.1 only for the content types it parses (JSON, text, form,
	// XML): any other is read here, with n8n's own reader (its size limit and decompression).
	const req = this.getRequestObject();
	if (req.rawBody === undefined && !req.readableEnded) {
		try {
			await req.readRawBody();
		} catch (error) {
			return unreadable(this, error);
		}
	}
	const rawBody = req.rawBody;
	if (!Buffer.isBuffer(rawBody) && req.contentType === 'multipart/form-data') {
		// n8n reads such a body as a form (its files to disk) and keeps no raw bytes: not a misconfigured n8n.
		return respond(
			this,
			415,
			'A multipart/form-data body is read by n8n as a form, without its raw bytes, so its signature cannot be checked (Calypso sends application/json)',
		);
	}
	if (!Buffer.isBuffer(rawBody)) {
		return respond(
			this,
			500,
			'n8n did not keep the raw body of this request, so its signature cannot be checked',
		);
	}
	// What the keys are opened from: when it changes (re-sealed, re-published), they are opened again. A secret key
	// stored in clear by an earlier version is sealed by every request that loaded it (n8n saves each request's copy).
	const stamp = `${publicKey}|${String(stored.sealedSecretKey)}`;
	const keys =
		typeof stored.secretKey === 'string'
			? await subscriptionKeys(this, stored)
			: await memory.keys(requestId, stamp, Date.now(), async () => await subscriptionKeys(this, stored));
	const verdict = verifyDelivery(rawBody, this.getHeaderData(), keys);
	if (!verdict.ok) return refuse(this, verdict.reason);

	// 3. The event.
	const event: CalypsoEvent | undefined = parseEvent(rawBody);
	if (!event) return acknowledge('The body is not a JSON object; ignored');
	const events = this.getNodeParameter('events', []) as string[];
	if (!isSelectedEvent(event, events)) {
		return acknowledge(
			typeof event.eventType === 'string'
				? `Event ${event.eventType} is not selected in this trigger; ignored`
				: `An event without a text eventType (${JSON.stringify(event.eventType) ?? 'none'}) is not selected in this trigger; ignored`,
		);
	}

	// 4. Classify.
	const id = eventKey(event);
	const nowS = Math.floor(Date.now() / 1000);
	const timeS = eventTimeS(event.createdDate);
	const loaded = id === undefined ? {} : pruneSeen(readSeen(stored.seen), nowS);
	if (id !== undefined) {
		switch (memory.classify(requestId, id, loaded, timeS, nowS)) {
			case 'in flight':
				return respond(this, 503, `Event ${id} is still being processed; retry later`, {
					'Retry-After': String(RETRY_AFTER_S),
				});
			case 'repeated':
				if (memory.writeRecord(requestId, stored, loaded, nowS)) {
					await memory.inOrder(requestId, this.getResponseObject());
				}
				return acknowledge(`Event ${id} was already received; ignored`);
			case 'too old':
				return acknowledge(
					`Event ${id} is older than the trigger's record of received events covers (${String(event.createdDate)}); ignored`,
				);
			case 'new':
				break;
		}
	}

	try {
		// 5. Confirm.
		const item = flattenEvent(event);
		const transactionId = transactionIdOf(event);
		if (transactionId && (this.getNodeParameter('confirmTransaction', true) as boolean)) {
			Object.assign(item, await confirm(this, transactionId));
		}

		// 6. Record, and follow n8n's answer.
		if (id !== undefined) {
			memory.start(requestId, id, timeS ?? nowS, stored, loaded, this.getResponseObject());
			await memory.afterEarlier(requestId, id);
		}
		return { workflowData: [this.helpers.returnJsonArray([item])] };
	} catch (error) {
		// Not started: n8n answers 500 and saves nothing; Calypso's retry of this event is let through.
		if (id !== undefined) memory.release(requestId, id);
		throw asNodeError(this.getNode(), error);
	}
}
