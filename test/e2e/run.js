#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * End-to-end suite (`npm run test:e2e`): runs workflows through a real n8n (scripts/n8n-local.js: import:workflow,
 * then `n8n execute --id`) with this package installed, against the Calypso emulator, and asserts on the
 * executions and on the requests the emulator received.
 *
 * Two lanes run side by side (two n8n processes at a time; an execute costs ≈2.5 s of mostly CPU), each with its
 * own emulator and n8n user folder, running its executions one after another so requests can be attributed:
 *   operations: customer + purse operations, transactions (multi-page Find), API error + continue-on-fail;
 *   examples:   the three workflows of examples/ against the demo data, the sweep three times (the third with a
 *               deposit arriving while its Return All pages).
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 * Options: --no-build (use the existing dist/), --verbose (print n8n's output of failed executions in full).
 */
const assert = require('node:assert/strict');
const { ROOT, tally, say, secs, check, n8nOutput, runScript, cleanUpUserFolder } = require('./checks');
const { ensureN8n, createUserFolder, diedAfterNote, N8N_VERSION } = require('../../scripts/n8n-local');
const { createEmulator } = require('../emulator');
const {
	EXAMPLES,
	loadExamples,
	seedDemo,
	credentialFor,
	nodeOutput: out,
	describeFailure,
} = require('../../scripts/examples');
const {
	IDS,
	customerWorkflow,
	transactionWorkflow,
	errorWorkflow,
	errorOutputWorkflow,
	outOfOrderWorkflow,
	trickleWorkflow,
	locatorWorkflow,
	savedBeforeLocatorWorkflow,
} = require('./workflows');

const args = new Set(process.argv.slice(2));
const VERBOSE = args.has('--verbose');
const TIMEOUT_MS = 8 * 60 * 1000;

/** Customer-purse paths of the requests, e.g. 'customer/create'. @param {any[]} requests */
const paths = (requests) => requests.map((r) => r.path.replace('/api/v1/customer-purse/', ''));
const isUuid = (/** @type {unknown} */ v) =>
	typeof v === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
const sum = (/** @type {number[]} */ values) => Math.round(values.reduce((a, b) => a + b, 0) * 1e8) / 1e8;

/**
 * @typedef {{ ok: boolean, result?: any, runData?: any, error?: any, stdout: string, stderr: string, ms: number }} Execution
 * @typedef {{ title: string, workflowId: string, before?: (emu: import('../emulator').Emulator) => void,
 *   verify: (x: Execution, requests: any[], emu: import('../emulator').Emulator) => void }} Job
 * @typedef {{ name: string, seed: (emu: import('../emulator').Emulator) => void, workflows: any[], jobs: Job[] }} Lane
 */

/** Asserts an execution succeeded, with n8n's reason when it did not. @param {Execution} x */
function assertOk(x) {
	if (!x.ok) assert.fail(`execution failed: ${describeFailure(x)}`);
}

/** @type {Lane} */
const operationsLane = {
	name: 'operations',
	seed(emu) {
		emu.options.maxPageSize = 10; // a Find of 35 transactions takes 4 pages, whatever page size the node asks for
		emu.seedCustomer({ id: IDS.known, externalId: 'e2e-known', email: 'known@example.com' });
		emu.seedCustomer({ id: IDS.paged, externalId: 'e2e-paged' });
		emu.seedTransactions(IDS.paged, 35, {
			currency: ['USDT_TRX', 'BTC'],
			state: ['CONFIRMED', 'MEM_POOL_FOUND', 'CONFIRMED', 'DECLINED', 'PENDING_COMPLIANCE_CHECK'],
		});
		emu.seedCustomer({ id: IDS.moving, externalId: 'e2e-moving' });
		emu.seedTransactions(IDS.moving, 30); // amounts rise with age: by amount, pages of 10 are 3 pages
	},
	workflows: [
		customerWorkflow,
		transactionWorkflow,
		errorWorkflow,
		errorOutputWorkflow,
		outOfOrderWorkflow,
		trickleWorkflow,
		locatorWorkflow,
		savedBeforeLocatorWorkflow,
	],
	jobs: [
		{
			title: 'customer and purse operations',
			workflowId: customerWorkflow.id,
			verify(x, requests, emu) {
				check('the workflow succeeds', () => assertOk(x));
				const [created] = out(x.runData, 'Create') ?? [];
				check('customer create', () => {
					assert.ok(isUuid(created?.id), `id: ${created?.id}`);
					assert.deepEqual(
						{ ...created, id: undefined },
						{
							id: undefined,
							email: 'e2e@example.com',
							description: 'created by e2e',
							externalId: 'e2e-new-1',
							blocked: false,
						},
					);
				});
				check('customer get', () => assert.deepEqual(out(x.runData, 'Get'), [created]));
				check('customer update', () => {
					assert.deepEqual(out(x.runData, 'Update'), [
						{ ...created, email: 'e2e-updated@example.com', description: 'updated by e2e' },
					]);
					assert.equal(emu.state.customers.get(created.id)?.email, 'e2e-updated@example.com');
				});
				check('customer getByExternalId', () =>
					assert.deepEqual(out(x.runData, 'By external ID'), [
						{ ...created, email: 'e2e-updated@example.com', description: 'updated by e2e' },
					]),
				);
				check('customer block / unblock', () => {
					assert.equal(out(x.runData, 'Block')?.[0]?.blocked, true);
					assert.equal(out(x.runData, 'Unblock')?.[0]?.blocked, false);
					assert.equal(emu.state.customers.get(created.id)?.blocked, false);
				});
				check('customer getOrCreate finds the existing customer (created: false, fields untouched)', () => {
					const [existing] = out(x.runData, 'Get or create (existing)') ?? [];
					assert.equal(existing?.id, created.id);
					assert.equal(existing?.created, false);
					assert.equal(existing?.email, 'e2e-updated@example.com');
				});
				check('customer getOrCreate creates a missing customer (created: true)', () => {
					const [fresh] = out(x.runData, 'Get or create (new)') ?? [];
					assert.ok(isUuid(fresh?.id) && fresh.id !== created.id);
					assert.equal(fresh.created, true);
					assert.equal(fresh.externalId, 'e2e-new-2');
					assert.equal(emu.state.customers.get(fresh.id)?.email, 'e2e-new-2@example.com');
				});
				const [usdt] = out(x.runData, 'Address USDT_TRX') ?? [];
				const [trx] = out(x.runData, 'Address TRX') ?? [];
				const [btc] = out(x.runData, 'Address BTC') ?? [];
				check('purse getAddress (one address per chain)', () => {
					assert.equal(usdt?.customerId, created.id);
					assert.equal(usdt?.currency, 'USDT_TRX');
					assert.match(usdt?.address ?? '', /^T[1-9A-HJ-NP-Za-km-z]{33}$/);
					assert.equal(trx?.address, usdt.address, 'TRX shares the TRON address');
					assert.equal(trx?.id, usdt.id);
					assert.match(btc?.address ?? '', /^bc1q/);
					assert.notEqual(btc?.id, usdt.id);
				});
				check('purse getAll (one item per purse)', () => {
					const purses = out(x.runData, 'Purses') ?? [];
					assert.deepEqual(purses.map((p) => p.id).sort(), [usdt.id, btc.id].sort());
					assert.ok(purses.find((p) => p.id === usdt.id)?.currencies.includes('USDT_TRX'));
				});
				check(
					'one signed request per operation (a create with an External ID looks it up first), all answered 200',
					() => {
						assert.deepEqual(paths(requests), [
							'customer/external/get',
							'customer/create',
							'customer/get',
							'customer/update',
							'customer/external/get',
							'customer/block',
							'customer/unblock',
							'customer/external/get',
							'customer/external/get',
							'customer/create',
							'address/get',
							'address/get',
							'address/get',
							'purse/get-all',
						]);
						assert.deepEqual(
							requests.filter((r) => r.status !== 200).map((r) => `${r.path} ${r.status}`),
							[],
						);
					},
				);
			},
		},
		{
			title: 'transactions: multi-page Find, filtered Find, Get',
			workflowId: transactionWorkflow.id,
			verify(x, requests, emu) {
				check('the workflow succeeds', () => assertOk(x));
				const all = out(x.runData, 'All') ?? [];
				const finds = requests.filter((r) => r.path.endsWith('transaction/find'));
				const allFinds = finds.filter((r) => !r.body?.payload?.transactionStateFilter);
				check('transaction getMany, Return All: 35 items over 4 pages of 10', () => {
					assert.equal(all.length, 35);
					assert.equal(new Set(all.map((t) => t.id)).size, 35);
					const dates = all.map((t) => t.createdDate);
					assert.deepEqual(dates, [...dates].sort().reverse(), 'newest first by default');
					assert.deepEqual(
						allFinds.map((r) => r.body?.payload?.pageNumber),
						[1, 2, 3, 4],
					);
					assert.ok(allFinds.length >= 4);
					assert.deepEqual(
						allFinds.map((r) => /** @type {any} */ (r.response).result.length),
						[10, 10, 10, 5],
					);
				});
				check('transaction get', () => {
					const one = out(x.runData, 'One') ?? [];
					assert.deepEqual(one, [all.at(-1)]);
				});
				check('transaction getMany with filters, sort and limit', () => {
					const some = out(x.runData, 'Confirmed USDT_TRX, first 5') ?? [];
					const expected = [...emu.state.transactions.values()]
						.filter(
							(t) =>
								t.customerId === IDS.paged && t.transactionState === 'CONFIRMED' && t.currency === 'USDT_TRX',
						)
						.sort((a, b) => a.createdDate.localeCompare(b.createdDate))
						.slice(0, 5)
						.map((t) => t.id);
					assert.deepEqual(
						some.map((t) => t.id),
						expected,
					);
					const filtered = finds.filter((r) => r.body?.payload?.transactionStateFilter);
					assert.deepEqual(
						filtered.map((r) => r.body?.payload?.pageNumber),
						[1, 2],
						'pages of 3 until 5 are in hand',
					);
					assert.deepEqual(filtered[0].body?.payload, {
						customerId: IDS.paged,
						sort: 'ASC',
						properties: 'createdDate',
						pageNumber: 1,
						pageSize: 3,
						currencyFilter: { in: ['USDT_TRX'] },
						transactionStateFilter: { in: ['CONFIRMED'] },
					});
				});
				check('requests: 4 + 1 + 2, all answered 200', () => {
					assert.deepEqual(paths(requests), [
						...Array(4).fill('transaction/find'),
						'transaction/get',
						'transaction/find',
						'transaction/find',
					]);
					assert.ok(requests.every((r) => r.status === 200));
				});
			},
		},
		{
			title: 'errors: continue on fail, then an API error that stops the workflow',
			workflowId: errorWorkflow.id,
			verify(x, requests) {
				check('an API error fails the execution with "Calypso error 004"', () => {
					assert.equal(x.ok, false);
					assert.match(String(x.error?.message), /Calypso error 004/);
					assert.equal(x.result?.data?.resultData?.lastNodeExecuted, 'Get unknown');
					assert.equal(x.runData?.['Get unknown']?.[0]?.executionStatus, 'error');
				});
				check('continue on fail: error items with errorCode, paired with their input', () => {
					const items = x.runData?.['Get, continue on fail']?.[0]?.data?.main?.[0] ?? [];
					assert.equal(items.length, 3);
					assert.equal(items[0].json.id, IDS.known);
					assert.equal(items[1].json.errorCode, '004');
					assert.match(String(items[1].json.error), /Calypso error 004/);
					assert.match(String(items[2].json.error), /must be a UUID/);
					assert.equal(items[2].json.errorCode, undefined);
					assert.deepEqual(
						items.map((/** @type {any} */ i) => i.pairedItem?.item),
						[0, 1, 2],
					);
				});
				check('no request for the invalid ID; the failed ones are not retried', () => {
					assert.deepEqual(paths(requests), ['customer/get', 'customer/get', 'customer/get']);
					assert.deepEqual(
						requests.map((r) => r.body?.payload?.customerId),
						[IDS.known, IDS.unknown, IDS.unknown],
					);
				});
			},
		},
		{
			title: 'customer by External ID (resource locator), then by ID',
			workflowId: locatorWorkflow.id,
			verify(x, requests, emu) {
				check('the workflow succeeds', () => assertOk(x));
				check('Block by External ID blocks the customer each user ID names, in item order', () => {
					assert.deepEqual(
						out(x.runData, 'Block by External ID')?.map((c) => [c.externalId, c.id, c.blocked]),
						[
							['e2e-known', IDS.known, true],
							['e2e-paged', IDS.paged, true],
							['e2e-known', IDS.known, true],
						],
					);
				});
				check('one look-up per distinct External ID, then one request per item', () => {
					assert.deepEqual(paths(requests).slice(0, 2).sort(), [
						'customer/external/get',
						'customer/external/get',
					]);
					assert.deepEqual(
						requests
							.slice(0, 2)
							.map((r) => r.body?.payload?.externalId)
							.sort(),
						['e2e-known', 'e2e-paged'],
					);
					assert.deepEqual(paths(requests).slice(2), [
						...Array(3).fill('customer/block'),
						...Array(3).fill('customer/unblock'),
					]);
					assert.ok(requests.every((r) => r.status === 200));
				});
				check('Unblock by ID (the locator with an expression) unblocks them', () => {
					assert.deepEqual(
						out(x.runData, 'Unblock by ID')?.map((c) => [c.id, c.blocked]),
						[
							[IDS.known, false],
							[IDS.paged, false],
							[IDS.known, false],
						],
					);
					assert.equal(emu.state.customers.get(IDS.known)?.blocked, false);
				});
			},
		},
		{
			title: 'a workflow saved with plain Customer ID strings (before the resource locator)',
			workflowId: savedBeforeLocatorWorkflow.id,
			verify(x, requests) {
				check('the workflow succeeds', () => assertOk(x));
				check('the literal ID and the expression are used as Customer IDs, with no look-up', () => {
					assert.deepEqual(
						out(x.runData, 'Block (plain ID)')?.map((c) => [c.id, c.blocked]),
						[[IDS.known, true]],
					);
					assert.deepEqual(
						out(x.runData, 'Unblock (plain expression)')?.map((c) => [c.id, c.blocked]),
						[[IDS.known, false]],
					);
					assert.deepEqual(paths(requests), ['customer/block', 'customer/unblock']);
				});
			},
		},
		{
			title: 'errors: On Error "Continue (using error output)"',
			workflowId: errorOutputWorkflow.id,
			verify(x) {
				check('the workflow succeeds', () => assertOk(x));
				// n8n before 2.36 (1.x included) routes only items whose json is {error} or {error, message}: the failed
				// items, {error, details}, stay on the regular output, as the README says.
				const [major, minor] = N8N_VERSION.split('.').map(Number);
				if (major < 2 || (major === 2 && minor < 36)) {
					check(`n8n ${N8N_VERSION}: the failed items stay on the regular output, with their details`, () => {
						const items = out(x.runData, 'Succeeded') ?? [];
						assert.equal(items.length, 3);
						assert.equal(items[0].id, IDS.known);
						assert.equal(items[1].details?.errorCode, '004');
						assert.equal(out(x.runData, 'Failed'), undefined);
					});
					return;
				}
				check('the good item leaves by the regular output', () => {
					const items = out(x.runData, 'Succeeded') ?? [];
					assert.deepEqual(
						items.map((/** @type {any} */ i) => i.id),
						[IDS.known],
					);
				});
				check('the failed items leave by the error output, with errorCode, traceId and httpCode', () => {
					const items = out(x.runData, 'Failed') ?? [];
					assert.equal(items.length, 2);
					assert.match(String(items[0].error), /^Calypso error 004/);
					assert.equal(items[0].details?.errorCode, '004');
					assert.equal(items[0].details?.httpCode, 400);
					assert.match(String(items[0].details?.traceId), /^[0-9a-f]{32}$/);
					assert.match(String(items[1].error), /must be a UUID/);
				});
			},
		},
		{
			// Issue 16: page 3 answered before page 2, a deposit landing in page 2's range in between. Before the fix
			// the run succeeded with 30 transactions: the deposit in, the one pushed onto page 3 (already read) lost.
			title: 'transactions: pages answered out of order while a deposit lands (issue 16)',
			workflowId: outOfOrderWorkflow.id,
			before(emu) {
				emu.findFaults.answerOrder = [3, 2];
				let landed = false;
				emu.findFaults.beforeAnswer = ({ page }) => {
					if (page !== 2 || landed) return;
					landed = true;
					const byAmount = [...emu.state.transactions.values()]
						.filter((t) => t.customerId === IDS.moving)
						.sort((a, b) => a.amount - b.amount);
					emu.seedTransactions(IDS.moving, 1, { amount: byAmount[14].amount + 0.01 });
				};
			},
			verify(x, requests, emu) {
				delete emu.findFaults.answerOrder;
				delete emu.findFaults.beforeAnswer;
				check('the workflow succeeds', () => assertOk(x));
				check('every transaction once, by amount, the deposit included: none lost', () => {
					const found = out(x.runData, 'By amount') ?? [];
					const expected = [...emu.state.transactions.values()]
						.filter((t) => t.customerId === IDS.moving)
						.sort((a, b) => a.amount - b.amount)
						.map((t) => t.id);
					assert.equal(expected.length, 31, 'the deposit landed');
					assert.deepEqual(
						found.map((t) => t.id),
						expected,
					);
				});
				check('page 3 went out before page 2; the pages from 3 on were read again, in order', () => {
					const finds = requests.filter((r) => r.path.endsWith('transaction/find'));
					assert.deepEqual(finds.map((r) => r.body?.payload?.pageNumber).sort(), [1, 2, 3, 3, 4]);
					assert.deepEqual(
						finds.map((r) => [r.body?.payload?.pageNumber, r.response?.totalElements]).slice(-2),
						[
							[3, 31],
							[4, 31],
						],
					);
				});
			},
		},
		{
			title: 'Timeout (Ms) 2000, Retry Off: an answer trickled a byte every 300 ms fails at the deadline',
			workflowId: trickleWorkflow.id,
			before(emu) {
				emu.injectFault({ path: 'customer/get', trickleMs: 300 });
			},
			verify(x, requests) {
				check('the execution fails with the timeout error', () => {
					assert.equal(x.ok, false);
					assert.match(String(x.error?.message), /no complete answer within the timeout/);
				});
				check('it failed while the answer was still being sent', () => {
					assert.equal(requests.length, 1);
					assert.equal(requests[0].finished, false);
					const { bodyBytesSent, bodyBytes } = requests[0];
					assert.ok(bodyBytesSent < bodyBytes, `${bodyBytesSent} of ${bodyBytes} bytes sent`);
				});
			},
		},
	],
};

/** @type {{ customerId?: string }} */
const demo = {};
const [signup, sweep, block] = EXAMPLES;

/** @type {Lane} */
const examplesLane = {
	name: 'examples',
	seed(emu) {
		emu.options.maxPageSize = 10; // the sweep's Find takes 2 pages
		demo.customerId = seedDemo(emu).customer.id;
	},
	workflows: loadExamples(),
	jobs: [
		{
			title: `example: ${signup.title}`,
			workflowId: signup.id,
			verify(x, requests, emu) {
				check('the workflow succeeds', () => assertOk(x));
				check('getOrCreate creates the customer, getAddress returns its USDT_TRX address', () => {
					const [customer] = out(x.runData, 'Get or create customer') ?? [];
					const [address] = out(x.runData, 'Deposit address') ?? [];
					assert.equal(customer?.created, true);
					assert.equal(customer?.externalId, 'user-1001');
					assert.equal(emu.state.customers.get(customer.id)?.email, 'ada@example.com');
					assert.equal(address?.customerId, customer.id);
					assert.equal(address?.currency, 'USDT_TRX');
					assert.match(address?.address ?? '', /^T/);
					assert.deepEqual(paths(requests), ['customer/external/get', 'customer/create', 'address/get']);
				});
			},
		},
		{
			title: `example: ${sweep.title} (first run)`,
			workflowId: sweep.id,
			verify(x, requests, emu) {
				check('the workflow succeeds, starting from the Manual Trigger', () => {
					assertOk(x);
					assert.ok(x.runData?.['Run now'] && !x.runData?.['Every hour']);
				});
				const confirmed = [...emu.state.transactions.values()].filter(
					(t) => t.customerId === demo.customerId && t.transactionState === 'CONFIRMED',
				);
				check('all CONFIRMED transactions, oldest first, over 2 pages', () => {
					const found = out(x.runData, 'Confirmed transactions') ?? [];
					assert.equal(found.length, confirmed.length);
					assert.ok(found.every((t) => t.transactionState === 'CONFIRMED'));
					const dates = found.map((t) => t.createdDate);
					assert.deepEqual(dates, [...dates].sort());
					assert.deepEqual(paths(requests), [
						'customer/external/get',
						'transaction/find',
						'transaction/find',
					]);
				});
				check('every confirmed deposit is new on the first run; totals per currency add up', () => {
					assert.equal(out(x.runData, 'New since last run')?.length, confirmed.length);
					const totals = out(x.runData, 'Totals per currency') ?? [];
					assert.equal(sum(totals.map((t) => t.deposits)), confirmed.length);
					for (const t of totals) {
						assert.equal(
							t.total,
							sum(confirmed.filter((c) => c.currency === t.currency).map((c) => c.amount)),
							t.currency,
						);
					}
				});
			},
		},
		{
			title: `example: ${sweep.title} (second run: 1 deposit confirmed since, 1 new)`,
			workflowId: sweep.id,
			before(emu) {
				const pending = [...emu.state.transactions.values()].find(
					(t) => t.customerId === demo.customerId && t.transactionState === 'MEM_POOL_FOUND',
				);
				if (pending) {
					pending.transactionState = 'CONFIRMED';
					pending.complianceState = 'CHECKED';
				}
				emu.seedTransactions(/** @type {string} */ (demo.customerId), 1, {
					state: 'CONFIRMED',
					currency: 'USDT_TRX',
					amount: 7.5,
				});
			},
			verify(x) {
				check('the workflow succeeds', () => assertOk(x));
				check('only the 2 deposits not swept before are new (the static data remembers the rest)', () => {
					const fresh = out(x.runData, 'New since last run') ?? [];
					assert.equal(fresh.length, 2);
					assert.ok(fresh.some((t) => t.amount === 7.5));
					assert.equal(
						out(x.runData, 'Remember swept')?.length,
						(out(x.runData, 'Totals per currency') ?? []).length,
					);
				});
			},
		},
		{
			title: `example: ${sweep.title} (third run: a deposit arrives while Return All pages)`,
			workflowId: sweep.id,
			before(emu) {
				emu.findFaults.depositAfterPage = 1;
			},
			verify(x, requests, emu) {
				const deposit = [...emu.state.transactions.values()].find(
					(t) => t.customerId === demo.customerId && t.amount === 1.5,
				);
				check('the workflow succeeds (more rows than Calypso reported on page 1 is not an error)', () => {
					assertOk(x);
					assert.ok(deposit, 'the emulator added the deposit after page 1');
					assert.equal(emu.findFaults.depositAfterPage, undefined);
				});
				check('every confirmed transaction once, oldest first, the deposit last; still 2 pages', () => {
					const found = out(x.runData, 'Confirmed transactions') ?? [];
					const confirmed = [...emu.state.transactions.values()].filter(
						(t) => t.customerId === demo.customerId && t.transactionState === 'CONFIRMED',
					);
					assert.equal(found.length, confirmed.length);
					assert.equal(new Set(found.map((t) => t.id)).size, found.length);
					assert.equal(found.at(-1)?.id, deposit?.id);
					const finds = requests.filter((r) => r.path.endsWith('transaction/find'));
					assert.deepEqual(
						finds.map((r) => [r.body?.payload?.pageNumber, r.response?.totalElements]),
						[
							[1, confirmed.length - 1],
							[2, confirmed.length],
						],
					);
				});
				check('only the deposit is new since the last run', () =>
					assert.deepEqual(
						out(x.runData, 'New since last run')?.map((t) => t.id),
						[deposit?.id],
					),
				);
			},
		},
		{
			title: `example: ${block.title}`,
			workflowId: block.id,
			verify(x, requests, emu) {
				check('the workflow succeeds', () => assertOk(x));
				check('block by External ID (one look-up) → get: blocked: true', () => {
					assert.deepEqual(
						out(x.runData, 'Confirm')?.map((c) => [c.id, c.blocked]),
						[[demo.customerId, true]],
					);
					assert.equal(emu.state.customers.get(/** @type {string} */ (demo.customerId))?.blocked, true);
					assert.deepEqual(paths(requests), ['customer/external/get', 'customer/block', 'customer/get']);
				});
			},
		},
	],
};

/**
 * Runs a lane: its own emulator and user folder, then its jobs one after another. Output is buffered per job
 * and printed whole, so the two lanes' lines do not interleave.
 * @param {Lane} lane
 */
async function runLane(lane) {
	const emu = createEmulator();
	lane.seed(emu);
	await emu.start(0);
	/** @type {string | undefined} */ let userFolder;
	const failedBefore = tally.failed;
	try {
		// Per process, so two runs in one checkout do not share a folder; removed unless something failed.
		const uf = await createUserFolder({ name: `e2e-${lane.name}-${process.pid}`, packageDir: ROOT });
		userFolder = uf.userFolder;
		await uf.importCredentials(credentialFor(emu));
		await uf.importWorkflows(lane.workflows);
		for (const job of lane.jobs) {
			job.before?.(emu);
			const start = emu.requests.length;
			let x = await uf.execute(job.workflowId);
			if (!x.result && emu.requests.length === start) {
				// No execution result and no request: n8n did not get to run the workflow (e.g. a port taken
				// between freePort() and n8n's listen). Safe to try once more.
				say(`  (${lane.name}: n8n did not run "${job.title}", retrying once: ${describeFailure(x)})`);
				x = await uf.execute(job.workflowId);
			}
			const requests = emu.requests.slice(start);
			const failedBeforeJob = tally.failed;
			say(`${job.title} [${lane.name}, ${secs(x.ms)}, ${requests.length} requests]`);
			if (x.diedAfter) say(`  (${diedAfterNote(x.diedAfter)})`);
			job.verify(x, requests, emu);
			if (tally.failed > failedBeforeJob && (VERBOSE || !x.result)) say(n8nOutput(x, VERBOSE));
		}
	} catch (error) {
		tally.failed++;
		say(`✘ lane ${lane.name} could not run: ${error instanceof Error ? error.stack : error}`);
	} finally {
		await emu.stop();
		cleanUpUserFolder(userFolder, failedBefore, `${lane.name}: n8n user folder`);
	}
}

async function main() {
	await ensureN8n({ log: (line) => say(`[n8n install] ${line}`) });
	await Promise.all([runLane(operationsLane), runLane(examplesLane)]);
}

module.exports = { operationsLane };

if (require.main === module) runScript('e2e', TIMEOUT_MS, main);
