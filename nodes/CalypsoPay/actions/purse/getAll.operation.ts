import type { IDataObject } from 'n8n-workflow';

import { customerIdOperation } from '../customerById';

/** One output item per purse. */
export const operation = customerIdOperation('purse/get-all', (response) =>
	Array.isArray(response.purses) ? (response.purses as IDataObject[]) : [],
);
