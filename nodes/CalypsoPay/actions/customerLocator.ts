import { NodeOperationError, isResourceLocatorValue } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { CalypsoClient } from '../transport';
import { findByExternalId } from './customer/create.operation';
import { MAX_EXTERNAL_ID } from './fields';
import * as validate from './validate';

/**
 * The customer an operation acts on, as the user named it: by Calypso's ID, or by the External ID (the merchant's
 * own user ID), which costs one customer/external/get per distinct value per run.
 */
export type CustomerRef = { by: 'id'; id: string } | { by: 'externalId'; externalId: string };

const MODES = ['id', 'externalId'] as const;

/**
 * A locator value. Besides n8n's `{__rl, mode, value}`, an object with a `value` and no mode counts (as an ID): the
 * editor makes one when "let the model define" (✨) is clicked on a field that holds a plain string, e.g. a new node's.
 */
function isLocator(value: unknown): value is { mode?: unknown; value: unknown } {
	return (
		isResourceLocatorValue(value) ||
		(typeof value === 'object' && value !== null && !Array.isArray(value) && 'value' in value)
	);
}

/**
 * Reads the Customer parameter of one item, without any I/O. It is a resource locator, `{__rl, mode, value}`; a plain
 * string is a Customer ID, as workflows saved before the locator hold it (and as the editor keeps such a value until a
 * mode is picked, typing into it without a mode gives mode '': also an ID).
 */
export function readCustomer(this: IExecuteFunctions, i: number, name = 'customerId'): CustomerRef {
	const raw = this.getNodeParameter(name, i) as unknown;
	if (!isLocator(raw)) return { by: 'id', id: unpickedId(this, i, raw) };
	if (raw.mode === '' || raw.mode === undefined) return { by: 'id', id: unpickedId(this, i, raw.value) };
	const mode = validate.oneOf(this, i, 'Customer mode', raw.mode, MODES);
	if (mode === 'id') return { by: 'id', id: validate.uuid(this, i, 'Customer ID', raw.value) };
	return {
		by: 'externalId',
		externalId: validate.text(this, i, 'Customer External ID', raw.value, MAX_EXTERNAL_ID, true),
	};
}

/**
 * A Customer ID given without a mode (a plain string, or typed before a mode was picked: the editor shows a new
 * version 1 node's mode list empty, as its default stays ''; from 1.1 a new node starts By ID). Not a UUID: the error
 * says where External IDs go.
 */
function unpickedId(ctx: IExecuteFunctions, i: number, value: unknown): string {
	return validate.uuid(
		ctx,
		i,
		'Customer ID',
		value,
		"No mode is picked in the Customer field, so the value is taken as Calypso's customer ID. If it is your own user ID, pick By External ID in the field's mode list.",
	);
}

/** Per run (one client per run): one look-up per distinct External ID, shared by the items, even concurrent ones. */
const lookups = new WeakMap<CalypsoClient, Map<string, Promise<IDataObject[]>>>();

function lookUp(api: CalypsoClient, externalId: string): Promise<IDataObject[]> {
	let perRun = lookups.get(api);
	if (!perRun) lookups.set(api, (perRun = new Map()));
	let found = perRun.get(externalId);
	if (!found) {
		found = findByExternalId(api, externalId);
		perRun.set(externalId, found);
	}
	return found;
}

/**
 * The Calypso customer ID of `ref`. By External ID: exactly one customer must have it; none, or several (Calypso allows
 * several), is an error naming the External ID (and listing the matches), never a pick.
 */
export async function resolveCustomerId(
	this: IExecuteFunctions,
	api: CalypsoClient,
	ref: CustomerRef,
	itemIndex: number,
): Promise<string> {
	if (ref.by === 'id') return ref.id;
	const { externalId } = ref;
	const customers = await lookUp(api, externalId);
	if (customers.length === 1) return String(customers[0].id);
	if (customers.length === 0) {
		throw new NodeOperationError(this.getNode(), `No customer has External ID "${externalId}"`, {
			itemIndex,
			description:
				'Calypso found no customer with this External ID under this merchant account. Check the value (External IDs are matched exactly), or create the customer first (Customer → Get or Create).',
		});
	}
	const listed = customers.slice(0, 10).map((customer) => String(customer.id));
	throw new NodeOperationError(
		this.getNode(),
		`${customers.length} customers have External ID "${externalId}": ${listed.join(', ')}${customers.length > 10 ? ', …' : ''}`,
		{
			itemIndex,
			description:
				'The node does not pick one. Choose the customer By ID instead (Customer → Get by External ID lists them all).',
		},
	);
}
