import type { IDataObject, NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { CalypsoClient } from '../../transport';
import { isAmbiguous, markAmbiguous, noIdError } from '../../transport/errors';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';

export interface CreateParams {
	email?: string;
	description?: string;
	externalId?: string;
}

/** Reads the optional customer fields of one item (Additional Fields), validated. */
export function customerFields(
	this: Parameters<typeof validate.text>[0],
	extra: IDataObject,
	i: number,
): CreateParams {
	const params: CreateParams = {};
	if (!validate.isEmpty(extra.email)) params.email = validate.email(this, i, 'Email', extra.email);
	if (!validate.isEmpty(extra.description)) {
		params.description = validate.text(this, i, 'Description', extra.description, fields.MAX_DESCRIPTION);
	}
	if (!validate.isEmpty(extra.externalId)) {
		params.externalId = validate.text(this, i, 'External ID', extra.externalId, fields.MAX_EXTERNAL_ID);
	}
	return params;
}

/** What a failed look-up before a create says: nothing was created, since the create was not sent yet. */
export const LOOKUP_BEFORE_CREATE = 'looking up the External ID before creating; no customer was created';

export async function findByExternalId(
	api: CalypsoClient,
	externalId: string,
	where?: string,
): Promise<IDataObject[]> {
	return await api.list('customer/external/get', { externalId }, 'customers', { where });
}

function mayOrMayNotExist(
	error: NodeApiError | NodeOperationError,
	detail: string,
): NodeApiError | NodeOperationError {
	error.message = `The customer may or may not have been created: ${error.message}`;
	error.description = `${detail} ${error.description ?? ''}`.trim();
	return error;
}

/** How long, after an unconfirmed create, Calypso may still be processing it: the request timeout covers it twice. */
export function recoveryWindowMs(timeoutMs: number): number {
	return Math.min(2 * timeoutMs + 2_000, 62_000);
}

const checkAgain = (externalId: string) =>
	`Before running this again, check with Customer → Get by External ID "${externalId}".`;

/** The same text for a field: absent, null and "" alike; emails compared without case. */
function sameField(sent: string | undefined, stored: unknown, ignoreCase = false): boolean {
	const a = sent ?? '';
	const b = typeof stored === 'string' ? stored : '';
	return ignoreCase ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** Whether a customer carries what this create sent: a customer made by another create is not passed off as it. */
function madeBy(params: CreateParams, customer: IDataObject): boolean {
	return sameField(params.email, customer.email, true) && sameField(params.description, customer.description);
}

/**
 * After an unconfirmed create (timeout, dropped connection, 5xx, a 2xx cut off): the customers with its External ID
 * are looked up until one appears that was not there before the create and carries this create's email and
 * description, or the recovery window ends. The create itself is never sent again: Calypso may still be processing
 * it.
 */
async function findCreated(
	api: CalypsoClient,
	params: CreateParams & { externalId: string },
	before: IDataObject[],
	error: NodeApiError,
): Promise<IDataObject> {
	const { externalId } = params;
	const known = new Set(before.map((customer) => customer.id));
	const windowMs = recoveryWindowMs(api.settings.timeoutMs);
	const started = Date.now();
	let others: IDataObject[] = [];
	for (let check = 0; ; check++) {
		let mine: IDataObject[];
		try {
			const appeared = (await findByExternalId(api, externalId)).filter(
				(customer) => !known.has(customer.id),
			);
			mine = appeared.filter((customer) => madeBy(params, customer));
			others = appeared.filter((customer) => !madeBy(params, customer));
		} catch (lookupError) {
			throw mayOrMayNotExist(
				error,
				`Checking for it failed too (${(lookupError as Error).message}). ${checkAgain(externalId)}`,
			);
		}
		if (mine.length === 1) return mine[0];
		if (mine.length > 1) {
			throw mayOrMayNotExist(
				error,
				`${mine.length} new customers with External ID "${externalId}" and this email and description appeared meanwhile (${mine.map((customer) => customer.id).join(', ')}): something else creates customers with this External ID at the same time. Check which one is yours. ${checkAgain(externalId)}`,
			);
		}
		const elapsed = Date.now() - started;
		if (elapsed >= windowMs) break;
		try {
			await api.pause(Math.min(250 * 2 ** check, 5_000, windowMs - elapsed));
		} catch {
			throw mayOrMayNotExist(error, `The execution was cancelled while checking. ${checkAgain(externalId)}`);
		}
	}
	const otherNote =
		others.length > 0
			? ` ${others.length} other new customer(s) with this External ID appeared (${others.map((customer) => customer.id).join(', ')}), with another email or description than this create sent: not taken for it.`
			: '';
	throw mayOrMayNotExist(
		error,
		`Calypso did not confirm the create, and no new customer with External ID "${externalId}" and this create's fields appeared within ${Math.round(windowMs / 1000)} s; Calypso may still create it, so the node did not send it again.${otherNote} ${checkAgain(externalId)}`,
	);
}

/** Per run (client) and External ID: the tail of the creates queued for it. */
const queues = new WeakMap<CalypsoClient, Map<string, Promise<void>>>();

/**
 * Runs `task` once every earlier task of this run with the same key has finished: the creates of one run that share
 * an External ID go one after another (the router runs items concurrently), so a recovery never mistakes a sibling
 * item's customer for its own and each sees the customers created before it.
 */
export async function oneAtATime<T>(api: CalypsoClient, key: string, task: () => Promise<T>): Promise<T> {
	let perRun = queues.get(api);
	if (!perRun) queues.set(api, (perRun = new Map()));
	const previous = perRun.get(key) ?? Promise.resolve();
	const result = previous.then(task);
	const tail = result.then(
		() => undefined,
		() => undefined,
	);
	perRun.set(key, tail);
	try {
		return await result;
	} finally {
		if (perRun.get(key) === tail) perRun.delete(key);
	}
}

/**
 * customer/create is never sent twice while the first may still land: the transport re-sends it only when Calypso
 * certainly did not process it (429, connection refused). After any other failure (a 5xx, a dropped or timed-out
 * connection, a 2xx cut off), with an External ID and Retry not Off, the customers that had that External ID before
 * the create (`before`, looked up first unless the caller already did) tell which one this create made; otherwise
 * the error says it may or may not have been created. Creates of one run with the same External ID go one at a time.
 */
export async function createCustomer(
	api: CalypsoClient,
	params: CreateParams,
	before?: IDataObject[],
): Promise<IDataObject> {
	const { externalId } = params;
	if (externalId === undefined) return await createOnce(api, params, before);
	return await oneAtATime(api, externalId, async () => await createOnce(api, params, before));
}

async function createOnce(
	api: CalypsoClient,
	params: CreateParams,
	before?: IDataObject[],
): Promise<IDataObject> {
	const { externalId } = params;
	const recover = api.settings.recovery && externalId !== undefined;
	const known = recover ? (before ?? (await findByExternalId(api, externalId, LOOKUP_BEFORE_CREATE))) : [];
	try {
		const created = await api.request('customer/create', { ...params }, { idempotent: false });
		// A success that does not name the customer does not say what was created: unclear, like a cut-off answer.
		if (typeof created.id !== 'string' || created.id === '') {
			throw markAmbiguous(noIdError(api.node, 'customer/create', created));
		}
		return created;
	} catch (error) {
		const apiError = error as NodeApiError;
		if (!isAmbiguous(apiError)) throw apiError;
		if (externalId === undefined) {
			throw mayOrMayNotExist(
				apiError,
				'Calypso did not confirm the request, and without an External ID the node cannot check. Look for the customer in the Calypso dashboard before running this again; set an External ID to let the node find out by itself.',
			);
		}
		if (!recover)
			throw mayOrMayNotExist(apiError, `Retry is Off, so the node did not check. ${checkAgain(externalId)}`);
		return await findCreated(api, { ...params, externalId }, known, apiError);
	}
}

export const operation = defineOperation<CreateParams>({
	description: [
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: [fields.customerDescription, fields.email, fields.externalId],
		},
	],
	prepare(i) {
		return customerFields.call(this, this.getNodeParameter('additionalFields', i, {}) as IDataObject, i);
	},
	async execute(params, api) {
		return await createCustomer(api, params);
	},
});
