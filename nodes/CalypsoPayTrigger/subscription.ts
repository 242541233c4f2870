import { randomUUID } from 'node:crypto';
import { NodeApiError, NodeOperationError, sleep } from 'n8n-workflow';
import type { IDataObject, IHookFunctions, INode, IWebhookFunctions } from 'n8n-workflow';

import { CalypsoClient, DEFAULT_TIMEOUT_MS } from '../CalypsoPay/transport';
import { recoveryWindowMs } from '../CalypsoPay/actions/customer/create.operation';
import { HINTS, asNodeError, isAmbiguous } from '../CalypsoPay/transport/errors';
import { EVENT_TYPES, SERVICE_TYPE, sameEvents, subscriptionsOf } from './delivery';
import type { Subscription, SubscriptionKeys } from './delivery';
import { openSecret, sealSecret } from './secret';

/**
 * The trigger's webhook subscription at Calypso, created on activation and deleted on deactivation. What Calypso
 * returns for it (the requestId we chose, the URL, and the key pair deliveries are signed with) is kept in the
 * node's static data, which n8n saves after these hooks run. The secretKey is kept sealed (./secret.ts), never in
 * clear; `seen` is the de-duplication record (./dedupe.ts), which belongs to the subscription.
 */
export const SUBSCRIPTION_PATH = '/api/v1/subscription/webhook';

/** The node's static data. */
export interface StoredSubscription extends IDataObject {
	requestId?: string;
	url?: string;
	events?: string[];
	publicKey?: string;
	/** The secretKey sealed under the credential (./secret.ts). */
	sealedSecretKey?: string;
	/** Earlier versions kept the secretKey here in clear: still read, and replaced by `sealedSecretKey`. */
	secretKey?: string;
	/** Event id → acknowledged at (epoch s): see ./dedupe.ts. */
	seen?: IDataObject;
}

const STORED_KEYS = [
	'requestId',
	'url',
	'events',
	'publicKey',
	'sealedSecretKey',
	'secretKey',
	'seen',
] as const;

export function storedSubscription(ctx: Pick<IHookFunctions, 'getWorkflowStaticData'>): StoredSubscription {
	return ctx.getWorkflowStaticData('node') as StoredSubscription;
}

/** Calypso's 004 (object not found). */
export function isNotFound(error: unknown): boolean {
	return (
		error instanceof NodeApiError && (error.errorResponse as IDataObject | undefined)?.errorCode === '004'
	);
}

function clearStored(stored: StoredSubscription): void {
	for (const key of STORED_KEYS) delete stored[key];
}

/** The error codes whose credential-Test hints also explain a failed publication (wrong key, secret or clock). */
const ACTIVATION_HINTS = ['002', '003', '011'];

/**
 * A webhook-method error as n8n shows it when publishing fails. n8n keeps only the message in its activation
 * errors, so Calypso's 002/003/011 get the same hint as the credential Test (HINTS) in the message itself.
 */
export function activationError(node: INode, error: unknown): NodeApiError | NodeOperationError {
	const nodeError = asNodeError(node, error);
	const code = (nodeError as NodeApiError).errorResponse?.errorCode;
	if (
		typeof code === 'string' &&
		ACTIVATION_HINTS.includes(code) &&
		!nodeError.message.includes(HINTS[code])
	) {
		nodeError.message = `${nodeError.message}. ${HINTS[code]}`;
	}
	return nodeError;
}

type KeysContext = IHookFunctions | IWebhookFunctions;

async function sealingCredential(ctx: KeysContext) {
	return await ctx.getCredentials('calypsoPayApi');
}

/**
 * The subscription's keys for verifying deliveries, from the static data:
 * - sealed under the current credential: opened;
 * - in clear (stored by an earlier version): used, and replaced by the sealed form (n8n saves the change);
 * - sealed under another credential (the credential was changed since): re-fetched from Calypso's list with the
 *   current credential and sealed again; when Calypso does not list it, there are no keys (deliveries are refused
 *   until the workflow is published again, which re-creates the subscription).
 * `listed` is the subscription as already listed, when the caller has the list.
 */
export async function subscriptionKeys(
	ctx: KeysContext,
	stored: StoredSubscription,
	listed?: Subscription,
): Promise<Partial<SubscriptionKeys>> {
	const { requestId, publicKey } = stored;
	if (typeof requestId !== 'string' || typeof publicKey !== 'string') return {};
	const credential = await sealingCredential(ctx);
	if (typeof stored.secretKey === 'string' && stored.secretKey !== '') {
		const secretKey = stored.secretKey;
		stored.sealedSecretKey = sealSecret(secretKey, credential, requestId);
		delete stored.secretKey;
		return { publicKey, secretKey };
	}
	const opened = openSecret(stored.sealedSecretKey, credential, requestId);
	if (opened !== undefined) return { publicKey, secretKey: opened };
	if (stored.sealedSecretKey === undefined) return {};
	const found =
		listed ?? (await listSubscriptions(new CalypsoClient(ctx))).find((s) => s.requestId === requestId);
	if (typeof found?.secretKey !== 'string' || found.secretKey === '' || found.publicKey !== publicKey)
		return {};
	stored.sealedSecretKey = sealSecret(found.secretKey, credential, requestId);
	return { publicKey, secretKey: found.secretKey };
}

/** The selected events: at least one, each a known Customer Purse event. */
export function selectedEvents(ctx: IHookFunctions): string[] {
	const value = ctx.getNodeParameter('events', []) as unknown;
	const events = Array.isArray(value) ? [...new Set(value.map(String))] : [];
	if (events.length === 0) {
		throw new NodeOperationError(ctx.getNode(), 'Select at least one event to listen to', {
			description: 'Choose the Customer Purse events that should start this workflow in "Events".',
		});
	}
	const unknown = events.filter((event) => !EVENT_TYPES.includes(event));
	if (unknown.length > 0) {
		throw new NodeOperationError(ctx.getNode(), `Unknown Calypso event: ${unknown.join(', ')}`, {
			description: `Calypso's Customer Purse events are ${EVENT_TYPES.join(', ')}.`,
		});
	}
	return events;
}

function webhookUrl(ctx: IHookFunctions): string {
	const url = ctx.getNodeWebhookUrl('default');
	if (!url) throw new NodeOperationError(ctx.getNode(), 'n8n gave no webhook URL for this trigger');
	return url;
}

async function listSubscriptions(client: CalypsoClient): Promise<Subscription[]> {
	return subscriptionsOf(await client.call({ method: 'POST', path: SUBSCRIPTION_PATH }));
}

/** DELETE /api/v1/subscription/webhook {requestId}. One that Calypso no longer knows (004) is already deleted. */
async function deleteSubscription(
	ctx: IHookFunctions,
	client: CalypsoClient,
	requestId: string,
): Promise<void> {
	try {
		await client.call({ method: 'DELETE', path: SUBSCRIPTION_PATH, payload: { requestId } });
	} catch (error) {
		if (!isNotFound(error)) throw asNodeError(ctx.getNode(), error);
	}
}

/**
 * Whether Calypso has blocked a subscription (calypso-api-notes.md, "Blocking": more than 100 failed deliveries with
 * no success within 10 minutes; it then delivers nothing until it is unblocked in Calypso's dashboard, which re-sends
 * the failed events). The list's field is not in Calypso's public docs: `state` or `status` "BLOCKED", or
 * `blocked: true`, are read.
 */
export function isBlocked(subscription: Subscription): boolean {
	const state = subscription.state ?? subscription.status;
	return (
		(typeof state === 'string' && state.toUpperCase() === 'BLOCKED') || subscription.blocked === true
	);
}

function blockedError(node: INode, blocked: Subscription[]): NodeOperationError {
	const which = blocked.map((s) => `${s.requestId} (${s.url})`).join(', ');
	return new NodeOperationError(
		node,
		"Calypso has blocked this trigger's webhook subscription, so it delivers no events: unblock it in Calypso's dashboard (Calypso then re-sends the failed events), then publish this workflow again",
		{
			description: `Calypso blocks a subscription after more than 100 failed deliveries with no successful one within 10 minutes. Blocked: ${which}. Events Calypso re-sends before the workflow is published again are answered 404 and retried by Calypso later (30 s, 60 s, 90 s, …): publish again promptly after unblocking. The trigger never deletes or replaces a blocked subscription, since that would discard the events Calypso holds for it; to discard them, delete the subscription in Calypso's dashboard, then publish.`,
		},
	);
}

/**
 * Publishing fails while Calypso has blocked this trigger's subscription, saying what to do (n8n shows the message
 * where publishing failed). Not when n8n (re)starts a published workflow (activation mode init or
 * leadershipChange): failing there would only leave the webhook unregistered for the events re-sent on unblocking.
 */
function refuseBlocked(ctx: IHookFunctions, blocked: Subscription[]): void {
	if (blocked.length === 0) return;
	const mode = ctx.getActivationMode();
	if (mode === 'init' || mode === 'leadershipChange') return;
	throw blockedError(ctx.getNode(), blocked);
}

function hasKeys(subscription: Subscription): boolean {
	const { publicKey, secretKey } = subscription;
	return typeof publicKey === 'string' && publicKey !== '' && typeof secretKey === 'string' && secretKey !== '';
}

/** Makes a subscription Calypso listed this trigger's own: its requestId and keys (sealed) in the static data. */
async function adopt(ctx: IHookFunctions, stored: StoredSubscription, subscription: Subscription, events: string[]) {
	const requestId = String(subscription.requestId);
	const sealedSecretKey = sealSecret(String(subscription.secretKey), await sealingCredential(ctx), requestId);
	clearStored(stored);
	Object.assign(stored, {
		requestId,
		url: subscription.url,
		events: Array.isArray(subscription.notificationEventTypes) ? subscription.notificationEventTypes : events,
		publicKey: subscription.publicKey,
		sealedSecretKey,
	});
}

/**
 * This trigger's subscriptions at Calypso: the stored one, and any for this trigger's webhook URL (which holds the
 * node's own webhook id, so nothing else subscribes it): left by a create whose answer never came (a timeout, a
 * dropped connection), or by static data that was lost.
 */
function oursIn(list: Subscription[], stored: StoredSubscription, url: string | undefined): Subscription[] {
	return list.filter(
		(s) =>
			typeof s.requestId === 'string' &&
			((stored.requestId !== undefined && s.requestId === stored.requestId) || (url !== undefined && s.url === url)),
	);
}

/**
 * checkExists (publish): is there a subscription for this trigger at Calypso, for this URL and these events?
 * - A blocked one fails the publish with what to do (refuseBlocked); it is never deleted or replaced, whatever its
 *   events, since that would discard the events Calypso holds for it (when n8n restarts, it is kept as it is).
 * - The stored one is kept when it fits; otherwise one for this URL that fits and whose keys the list gives is
 *   adopted (made by an earlier create whose answer never came), so re-publishing never makes a second one.
 * - Every other one of ours that is not blocked is deleted (it would otherwise be orphaned and, its deliveries
 *   refused, get blocked); stale static data is cleared. False makes n8n call `create`.
 */
export async function subscriptionExists(this: IHookFunctions): Promise<boolean> {
	const stored = storedSubscription(this);
	const url = webhookUrl(this);
	const events = selectedEvents(this);
	const client = new CalypsoClient(this);
	const ours = oursIn(await listSubscriptions(client), stored, url);
	refuseBlocked(this, ours.filter(isBlocked));

	const storedOne = ours.find((s) => s.requestId === stored.requestId);
	const fits = (s: Subscription) =>
		s.url === url &&
		(isBlocked(s) ||
			sameEvents(s.notificationEventTypes ?? (s === storedOne ? stored.events : undefined), events));
	let kept: Subscription | undefined;
	if (storedOne && fits(storedOne) && (await subscriptionKeys(this, stored, storedOne)).secretKey !== undefined) {
		kept = storedOne;
	} else {
		const others = ours.filter((s) => s !== storedOne && fits(s) && hasKeys(s));
		kept = others.find(isBlocked) ?? others.at(-1);
		if (kept) await adopt(this, stored, kept, events);
	}
	for (const s of ours) {
		if (s !== kept && !isBlocked(s)) await deleteSubscription(this, client, String(s.requestId));
	}
	if (!kept) clearStored(stored);
	return kept !== undefined;
}

/**
 * How long, after an unclear create, Calypso's list is looked at for it (as for customer/create): the request
 * timeout, twice. Tests shorten it.
 */
export const createRecovery = { windowMs: recoveryWindowMs(DEFAULT_TIMEOUT_MS) };

function mayOrMayNotExist(error: unknown, node: INode, detail: string): NodeApiError | NodeOperationError {
	const nodeError = asNodeError(node, error);
	nodeError.message = `The webhook subscription may or may not have been created: ${nodeError.message}`;
	nodeError.description = `${detail} ${nodeError.description ?? ''}`.trim();
	return nodeError;
}

/**
 * After an unclear create (a timeout, a dropped connection, a 5xx): Calypso's list is looked at for the requestId
 * we chose until it appears or the recovery window ends. The create itself is never sent again.
 */
async function findCreated(
	ctx: IHookFunctions,
	client: CalypsoClient,
	requestId: string,
	error: unknown,
): Promise<Subscription> {
	const windowMs = createRecovery.windowMs;
	const started = Date.now();
	const publishAgain =
		'Publish again: the trigger first looks for a subscription to its webhook URL at Calypso and uses it, rather than create another.';
	for (let check = 0; ; check++) {
		let found: Subscription | undefined;
		try {
			found = (await listSubscriptions(client)).find((s) => s.requestId === requestId);
		} catch (lookupError) {
			throw mayOrMayNotExist(
				error,
				ctx.getNode(),
				`Calypso did not confirm it, and looking for it (requestId ${requestId}) failed too (${(lookupError as Error).message}). ${publishAgain}`,
			);
		}
		if (found) return found;
		const elapsed = Date.now() - started;
		if (elapsed >= windowMs) break;
		await sleep(Math.min(250 * 2 ** check, 5_000, windowMs - elapsed));
	}
	throw mayOrMayNotExist(
		error,
		ctx.getNode(),
		`Calypso did not confirm it, and it (requestId ${requestId}) did not appear in Calypso's subscription list within ${Math.round(windowMs / 1000)} s; Calypso may still make it, so it was not sent again. ${publishAgain}`,
	);
}

/**
 * create: POST /api/v1/subscription/webhook/create with a requestId of our choosing. The request is not re-sent
 * after an answer that leaves it unclear whether Calypso made the subscription (a 5xx, a timeout, a dropped
 * connection): Calypso's list is looked at for that requestId instead (findCreated), so no second one is made.
 */
export async function createSubscription(this: IHookFunctions): Promise<boolean> {
	const events = selectedEvents(this);
	const url = webhookUrl(this);
	const requestId = randomUUID();
	const client = new CalypsoClient(this);
	let created: Subscription | undefined;
	try {
		created = (await client.call(
			{
				method: 'POST',
				path: `${SUBSCRIPTION_PATH}/create`,
				payload: {
					requestId,
					notificationEventTypes: events,
					notificationServiceTypes: [SERVICE_TYPE],
					url,
				},
			},
			{ idempotent: false },
		)) as Subscription;
	} catch (error) {
		if (!isAmbiguous(error)) throw asNodeError(this.getNode(), error);
		created = await findCreated(this, client, requestId, error);
	}

	const publicKey = created.publicKey;
	const secretKey = created.secretKey;
	if (
		typeof publicKey !== 'string' ||
		publicKey === '' ||
		typeof secretKey !== 'string' ||
		secretKey === ''
	) {
		// Deliveries could not be verified: undo the subscription rather than leave it unusable.
		await deleteSubscription(this, client, requestId);
		throw new NodeOperationError(
			this.getNode(),
			'Calypso created the webhook subscription without its keys',
			{
				description:
					'The answer had no publicKey/secretKey, which are needed to verify deliveries. The subscription was deleted again; try activating the workflow later.',
			},
		);
	}
	const stored = storedSubscription(this);
	clearStored(stored);
	const sealedSecretKey = sealSecret(secretKey, await sealingCredential(this), requestId);
	Object.assign(stored, { requestId, url, events, publicKey, sealedSecretKey });
	return true;
}

/**
 * delete (unpublish, and the first half of every re-publish in n8n 2.x): every subscription of this trigger at
 * Calypso (the stored one, and any for its webhook URL) is deleted, then forgotten; a blocked one is left as it is,
 * and stays stored, since deleting it would discard the events Calypso holds for it (publishing says so).
 * With nothing stored, a failing look-up is not an error: there may be nothing to delete.
 */
export async function removeSubscription(this: IHookFunctions): Promise<boolean> {
	const stored = storedSubscription(this);
	const client = new CalypsoClient(this);
	let ours: Subscription[];
	try {
		ours = oursIn(await listSubscriptions(client), stored, this.getNodeWebhookUrl('default'));
	} catch (error) {
		if (typeof stored.requestId === 'string') throw asNodeError(this.getNode(), error);
		return true;
	}
	for (const s of ours) {
		if (!isBlocked(s)) await deleteSubscription(this, client, String(s.requestId));
	}
	if (!ours.some((s) => s.requestId === stored.requestId && isBlocked(s))) clearStored(stored);
	return true;
}
