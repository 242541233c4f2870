/**
 * A run stopped by its first failing item (Continue On Fail off), under random fault schedules: Block, Update (by ID
 * or by External ID), Create and Get or Create (items sharing External IDs), concurrency 1 to 5, each request that
 * reaches the emulator getting a random outcome (refused, 503 before or after processing, with a Retry-After, dropped
 * after processing, 429, slow, past the timeout). Promises checked on every schedule that fails:
 * - the run's error is an item's own error, never the internal "Not sent" text;
 * - no item is named twice, and the failing item is not named among the others;
 * - an item said to have sent no change ("were about to send a change and did not") has no change that Calypso may
 *   have carried out (at most refused ones: a 4xx, which Calypso did not process);
 * - every change that reached Calypso and may have been carried out is the failing item's, or an item the error
 *   names as sent successfully, as sent but not confirmed, or as having failed too.
 */
import type { INodeParameters } from 'n8n-workflow';

import type { Fault, RecordedRequest } from '../emulator';
import { useEmulator } from '../helpers/calypso';
import { runNode } from '../helpers/engine';
import { faultsByArrival, fc, replays, scheduleProperty } from './property';

const server = useEmulator();

const OUTCOMES = [
	'ok',
	'ok',
	'rejected',
	'unprocessed-503',
	'processed-503',
	'processed-503-wait',
	'processed-dropped',
	'429',
	'slow',
	'slow-rejected',
	'rejected-paired',
	'past-timeout',
] as const;
type Outcome = (typeof OUTCOMES)[number];

type Operation = 'block' | 'update' | 'create' | 'getOrCreate';
/** Block / Update: the item's own customer by ID, by its External ID, or an External ID no customer has. */
type Target = 'id' | 'externalId' | 'missing';

interface Schedule {
	operation: Operation;
	concurrency: number;
	/** Per item: Block / Update target, Create / Get or Create External ID. */
	items: Array<{ target: Target; ext: 'A' | 'B' }>;
	/** Outcome of the n-th request to reach the server (any path), in arrival order (then 'ok'). */
	outcomes: Outcome[];
}

const TIMEOUT_MS = 300;
const CHANGE = /customer\/(create|update|block|unblock)$/;

function faultFor(outcome: Outcome): Omit<Fault, 'path' | 'match'> | undefined {
	switch (outcome) {
		case 'ok':
			return undefined;
		case 'rejected':
			return { status: 400, body: { errorCode: '004', message: 'Rejected by schedule', traceId: 'sched' } };
		case 'unprocessed-503':
			return { status: 503 };
		case 'processed-503':
			return { afterProcessing: true, status: 503 };
		case 'processed-503-wait':
			// A retry asked for a second later: the run may stop meanwhile.
			return { afterProcessing: true, status: 503, headers: { 'Retry-After': '1' } };
		case 'processed-dropped':
			return { afterProcessing: true, drop: true };
		case '429':
			return { status: 429, headers: { 'Retry-After': '0' }, body: { message: 'Too many requests' } };
		case 'slow':
			return { delayMs: 150 };
		case 'slow-rejected':
			return { ...faultFor('rejected'), delayMs: 150 };
		case 'rejected-paired':
			// Refused once another request is in flight beside it (at most 2 s).
			return { ...faultFor('rejected'), holdUntilInFlight: 2 };
		case 'past-timeout':
			return { landAfterMs: TIMEOUT_MS + 100 };
	}
}

const schedule: fc.Arbitrary<Schedule> = fc.record({
	operation: fc.constantFrom<Operation>('block', 'update', 'create', 'getOrCreate'),
	concurrency: fc.constantFrom(1, 2, 5),
	items: fc.array(
		fc.record({
			target: fc.constantFrom<Target>('id', 'externalId', 'externalId', 'missing'),
			ext: fc.constantFrom<'A' | 'B'>('A', 'B'),
		}),
		{ minLength: 1, maxLength: 6 },
	),
	outcomes: fc.array(fc.constantFrom(...OUTCOMES), { minLength: 1, maxLength: 8 }),
});

/** The item numbers of one sentence of the error's description ("… (item 0, 2)"). */
function named(description: string, sentence: RegExp): number[] {
	const match = sentence.exec(description);
	return match ? match[1].split(', ').map(Number) : [];
}

async function check(value: Schedule): Promise<boolean> {
	const { emulator } = server;
	emulator.reset();
	faultsByArrival(emulator, value.outcomes.map(faultFor));

	const options = {
		concurrency: value.concurrency,
		retry: 'custom',
		maxRetries: 2,
		retryDelay: 5,
		timeout: TIMEOUT_MS,
	};
	const customers = value.items.map((_, i) => emulator.seedCustomer({ externalId: `ext-${i}` }));
	let parameters: INodeParameters;
	let inputs: Array<Record<string, string>>;
	/** The item a change request belongs to. */
	let itemOf: (request: RecordedRequest) => number;
	const payload = (request: RecordedRequest) => (request.body?.payload ?? {}) as Record<string, string>;
	if (value.operation === 'block' || value.operation === 'update') {
		inputs = value.items.map(({ target }, i) =>
			target === 'id'
				? { mode: 'id', value: customers[i].id, description: `item-${i}` }
				: {
						mode: 'externalId',
						value: target === 'missing' ? `missing-${i}` : `ext-${i}`,
						description: `item-${i}`,
					},
		);
		const customer = { __rl: true, mode: '={{ $json.mode }}', value: '={{ $json.value }}' };
		parameters =
			value.operation === 'block'
				? { resource: 'customer', operation: 'block', customerId: customer, options }
				: {
						resource: 'customer',
						operation: 'update',
						customerId: customer,
						updateFields: { description: '={{ $json.description }}' },
						options,
					};
		const key = value.operation === 'block' ? 'customerId' : 'id';
		itemOf = (request) => customers.findIndex((c) => c.id === payload(request)[key]);
	} else {
		inputs = value.items.map(({ ext }, i) => ({ externalId: ext, description: `item-${i}` }));
		parameters =
			value.operation === 'create'
				? {
						resource: 'customer',
						operation: 'create',
						additionalFields: {
							externalId: '={{ $json.externalId }}',
							description: '={{ $json.description }}',
						},
						options,
					}
				: {
						resource: 'customer',
						operation: 'getOrCreate',
						externalId: '={{ $json.externalId }}',
						additionalFields: { description: '={{ $json.description }}' },
						options,
					};
		itemOf = (request) => Number(payload(request).description.replace('item-', ''));
	}

	const run = await runNode(server.credentials, parameters, inputs);
	if (run.status !== 'error') return true;
	const error = run.error as { message: string; description?: string; context?: { itemIndex?: number } };
	if (error.message.startsWith('Not sent'))
		throw new Error(`the run's error is the internal one: ${error.message}`);
	const failing = error.context?.itemIndex;
	const description = error.description ?? '';
	const completed = named(description, /had already been sent successfully \(item ([\d, ]+)\)/);
	const held = named(description, /were about to send a change and did not \(item ([\d, ]+)\)/);
	const unconfirmed = named(description, /it may have been carried out \(item ([\d, ]+)\)/);
	const failedToo = named(description, /other item\(s\) failed too \(item ([\d, ]+)\)/);
	const all = [...completed, ...held, ...unconfirmed, ...failedToo];
	if (new Set(all).size !== all.length) throw new Error(`an item is named twice: ${description}`);
	if (failing !== undefined && all.includes(failing))
		throw new Error(`the failing item ${failing} is named among the others: ${description}`);

	const changes = emulator.requests.filter((request) => CHANGE.test(request.path));
	for (const request of changes) {
		const i = itemOf(request);
		// A 4xx (429 and Calypso's refusals): not processed.
		const mayHaveLanded = !(request.status >= 400 && request.status < 500);
		if (held.includes(i) && mayHaveLanded)
			throw new Error(
				`item ${i} is said to have sent no change, but its ${request.path} reached Calypso (status ${request.status}): ${description}`,
			);
		if (mayHaveLanded && i !== failing && ![...completed, ...unconfirmed, ...failedToo].includes(i))
			throw new Error(
				`item ${i}'s ${request.path} reached Calypso (status ${request.status}) and the error does not name it (failing item ${failing}): ${description}`,
			);
	}
	return true;
}

describe('a run stopped by its first failing item, under fault schedules', () => {
	// Found on the code of e717d49 (seed 771866145; made deterministic): item 1's Block was processed and answered 503,
	// its retry was on its way when item 0 failed, and was refused; the error named item 0 only, and nothing said that
	// item 1's Block had landed.
	replays(
		'two Blocks both failing, the second one processed before its retry was refused',
		{
			operation: 'block',
			concurrency: 2,
			items: [
				{ target: 'id', ext: 'A' },
				{ target: 'id', ext: 'A' },
			],
			outcomes: ['slow-rejected', 'processed-503', 'slow-rejected'],
		},
		check,
	);

	// 80 schedules (about 30 s): with only the unconfirmed-retry fix undone, the fixed seed broke it at the 46th (a
	// Block timed out, its retry held back by the stop, and the item said to have sent nothing).
	scheduleProperty('stop: the description is true of the changes that reached Calypso', schedule, check, {
		runs: 80,
	});
});
