import { customerIdOperation } from '../customerById';

/** One output item per purse. */
export const operation = customerIdOperation('purse/get-all', 'purses');
