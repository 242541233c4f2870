import { customerIdOperation } from '../customerById';

export const operation = customerIdOperation('customer/unblock');
