import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import type { CalypsoClient } from '../../transport';
import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';
import {
	createCustomer,
	customerFields,
	findByExternalId,
	LOOKUP_BEFORE_CREATE,
	type CreateParams,
} from './create.operation';

/** Items of one run asking for the same external ID share one lookup-or-create, so a run never creates it twice. */
const inFlight = new WeakMap<CalypsoClient, Map<string, Promise<IDataObject>>>();

/**
 * The customer with this External ID, or a new one. `externalIdMatches` says how many customers share the External
 * ID (Calypso allows several): when more than one, the first Calypso lists is returned and a hint says so.
 */
async function getOrCreate(
	this: IExecuteFunctions,
	api: CalypsoClient,
	params: CreateParams & { externalId: string },
): Promise<IDataObject> {
	const existing = await findByExternalId(api, params.externalId, LOOKUP_BEFORE_CREATE);
	if (existing.length > 1) {
		this.addExecutionHints({
			message: `${existing.length} customers have External ID "${params.externalId}"; the first Calypso listed (${String(existing[0].id)}) was returned. Use Get by External ID to see them all.`,
			location: 'outputPane',
		});
	}
	if (existing.length > 0) return { ...existing[0], created: false, externalIdMatches: existing.length };
	return { ...(await createCustomer(api, params, existing)), created: true, externalIdMatches: 1 };
}

export const operation = defineOperation<CreateParams & { externalId: string }>({
	description: [
		{ ...fields.externalId, required: true },
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			description: 'Used only when the customer is created',
			options: [fields.customerDescription, fields.email],
		},
	],
	prepare(i) {
		const externalId = validate.text(
			this,
			i,
			'External ID',
			this.getNodeParameter('externalId', i),
			fields.MAX_EXTERNAL_ID,
			true,
		);
		const extra = this.getNodeParameter('additionalFields', i, {}) as IDataObject;
		return {
			...customerFields.call(this, { email: extra.email, description: extra.description }, i),
			externalId,
		};
	},
	async execute(params, api) {
		let perRun = inFlight.get(api);
		if (!perRun) inFlight.set(api, (perRun = new Map()));
		const earlier = perRun.get(params.externalId);
		if (earlier) return { ...(await earlier), created: false };
		const result = getOrCreate.call(this, api, params);
		perRun.set(params.externalId, result);
		return await result;
	},
});
