import { randomUUID } from 'node:crypto';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IHookFunctions, INode, IWebhookFunctions } from 'n8n-workflow';

import { CalypsoClient } from '../CalypsoPay/transport';
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
 * checkExists: is the stored subscription still at Calypso, for this URL and these events? A subscription of ours
 * that points elsewhere or lists other events is deleted (it would otherwise be orphaned); stale static data is
 * cleared. False makes n8n call `create`.
 */
export async function subscriptionExists(this: IHookFunctions): Promise<boolean> {
	const stored = storedSubscription(this);
	if (typeof stored.requestId !== 'string') return false;
	const client = new CalypsoClient(this);
	const found = (await listSubscriptions(client)).find((s) => s.requestId === stored.requestId);
	if (
		found &&
		found.url === webhookUrl(this) &&
		sameEvents(found.notificationEventTypes ?? stored.events, selectedEvents(this)) &&
		(await subscriptionKeys(this, stored, found)).secretKey !== undefined
	) {
		return true;
	}
	if (found) await deleteSubscription(this, client, stored.requestId);
	clearStored(stored);
	return false;
}

/**
 * create: POST /api/v1/subscription/webhook/create with a requestId of our choosing. The request is not re-sent
 * after an answer that leaves it unclear whether Calypso made the subscription (a 5xx, a dropped connection);
 * the list is checked for that requestId instead, so no duplicate subscription is made.
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
		created = (await listSubscriptions(client)).find((s) => s.requestId === requestId);
		if (!created) throw asNodeError(this.getNode(), error);
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

/** delete: DELETE /api/v1/subscription/webhook {requestId}, then forget it. */
export async function removeSubscription(this: IHookFunctions): Promise<boolean> {
	const stored = storedSubscription(this);
	if (typeof stored.requestId === 'string') {
		await deleteSubscription(this, new CalypsoClient(this), stored.requestId);
	}
	clearStored(stored);
	return true;
}
