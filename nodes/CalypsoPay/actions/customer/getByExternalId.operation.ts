import * as fields from '../fields';
import { defineOperation } from '../types';
import * as validate from '../validate';
import { findByExternalId } from './create.operation';

export const operation = defineOperation<string>({
	description: [{ ...fields.externalId, required: true }],
	prepare(i) {
		return validate.text(
			this,
			i,
			'External ID',
			this.getNodeParameter('externalId', i),
			fields.MAX_EXTERNAL_ID,
			true,
		);
	},
	async execute(externalId, api) {
		return await findByExternalId(api, externalId);
	},
});
