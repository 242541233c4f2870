#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Queue-mode end-to-end test (`npm run test:queue`): this package in n8n's distributed engine.
 *   node test/queue/run.js [--no-build] [--keep-logs]
 *
 * test/queue/stack.js starts PostgreSQL, Redis and n8n main + 1 worker + 2 webhook processors (EXECUTIONS_MODE=queue,
 * one encryption key, the package installed for every process) on 127.0.0.1; the Calypso emulator runs in this
 * process. Checks:
 *   1. action workflows (the operations lane of test/e2e/run.js, started by a Webhook node instead of a Manual
 *      Trigger) run on the worker, and pass the very checks they pass in regular mode;
 *   2. publishing the trigger (examples/calypso-trigger-deposits.json) creates exactly one subscription;
 *   3. a signed delivery to either webhook processor runs the workflow once, on the worker; the same event
 *      re-delivered to the other processor runs nothing; forged and unsigned deliveries get 401 on both;
 *   4. after restarting every n8n process, re-deliveries run nothing (and a new event still runs);
 *   5. a burst of 200 distinct signed events over both processors starts exactly 200 executions (timed);
 *   6. unpublishing (deactivating through the main's REST API, as the editor does) deletes the subscription.
 * "Runs" is counted in n8n's own record (execution_entity in Postgres); the process that ran an execution is the one
 * whose log says "Worker started execution <id>". Prints one line per check and "N passed, M failed"; exits 1 on any
 * failure; everything is stopped and removed at the end (n8n's logs are kept when a check failed or --keep-logs).
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { ROOT, tally, say, secs, check, build, watchdog } = require('../e2e/checks');
const { operationsLane } = require('../e2e/run');
const { credentialFor } = require('../../scripts/examples');
const { createEmulator, SUBSCRIPTION_PATH } = require('../emulator');
const { startStack, waitFor, pause } = require('./stack');

const EXAMPLE_FILE = path.join(ROOT, 'examples', 'calypso-trigger-deposits.json');
const TRIGGER = 'Calypso Pay Trigger';
const BURST = 200;
const BURST_IN_FLIGHT = 20; // deliveries in flight at once (10 per webhook processor)
const SETTLE_MS = 2500; // how long a duplicate gets to show up as an execution before we count
const TIMEOUT_MS = 12 * 60 * 1000;
const args = new Set(process.argv.slice(2));
const t0 = Date.now();

/** @typedef {Awaited<ReturnType<typeof startStack>>} Stack */

/** A workflow of the operations lane with its Manual Trigger "Start" replaced by a Webhook node. @param {any} wf */
function webhookStarted(wf) {
	const nodes = wf.nodes.map((/** @type {any} */ n) =>
		n.type === 'n8n-nodes-base.manualTrigger'
			? {
					...n,
					type: 'n8n-nodes-base.webhook',
					typeVersion: 2,
					webhookId: crypto.randomUUID(),
					parameters: { httpMethod: 'POST', path: `queue-${wf.id}`, options: {} },
				}
			: n,
	);
	return { ...wf, nodes };
}

const FINISHED = new Set(['success', 'error', 'crashed', 'canceled']);

/** Waits until the workflow has `count` executions, all finished; returns them. @param {Stack} stack @param {string} workflowId @param {number} count */
async function finishedExecutions(stack, workflowId, count, timeoutMs = 60000) {
	let list = await stack.executions(workflowId);
	await waitFor(async () => {
		list = await stack.executions(workflowId);
		return list.length >= count && list.every((x) => FINISHED.has(x.status));
	}, timeoutMs, 250);
	return list;
}

/** What test/e2e/run.js's checks read from an execution, built from n8n's stored record. */
function asExecution(/** @type {{ status: string }} */ row, /** @type {any} */ data) {
	const resultData = data?.resultData;
	return {
		ok: row.status === 'success' && !resultData?.error,
		result: { data, status: row.status },
		runData: resultData?.runData,
		error: resultData?.error,
		stdout: '',
		stderr: '',
		ms: 0,
	};
}

/** Runs fn(0 … count-1) with at most n calls in flight; resolves with the results in order. @template T */
async function inFlight(/** @type {number} */ n, /** @type {number} */ count, /** @type {(i: number) => Promise<T>} */ fn) {
	/** @type {T[]} */
	const results = [];
	let next = 0;
	const lane = async () => {
		for (let i = next++; i < count; i = next++) results[i] = await fn(i);
	};
	await Promise.all(Array.from({ length: n }, lane));
	return results;
}

/** How often each value occurs. @param {Array<string | number>} values */
const tallyOf = (values) => {
	/** @type {Record<string, number>} */
	const out = {};
	for (const v of values) out[v] = (out[v] ?? 0) + 1;
	return out;
};

/** The event id an execution of the trigger workflow started with. @param {any} data */
const eventIdOf = (data) => data?.resultData?.runData?.[TRIGGER]?.[0]?.data?.main?.[0]?.[0]?.json?.eventId;

/** @param {Stack} stack @param {any} emu @param {any} n8n */
async function actionWorkflows(stack, emu, n8n) {
	say('action workflows, started by webhooks, run on the worker');
	for (const job of operationsLane.jobs) {
		const start = emu.requests.length;
		const before = (await stack.executions(job.workflowId)).length;
		job.before?.(emu); // the job's faults (page order, a trickled answer), as test/e2e/run.js sets them
		const res = await fetch(`${n8n.webhooks[0].url}/webhook/queue-${job.workflowId}`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
		const list = await finishedExecutions(stack, job.workflowId, before + 1);
		const row = list[before];
		const data = row ? (await stack.executionData([row.id]))[row.id] : undefined;
		const x = asExecution(row ?? { status: 'none' }, data);
		const requests = emu.requests.slice(start);
		say(`${job.title} [execution ${row?.id ?? '-'}, ${row?.status ?? 'none'}, ${requests.length} requests]`);
		check('the webhook processor took the start and one execution ran, on the worker only', () => {
			assert.equal(res.status, 200);
			assert.ok(row, 'no execution recorded');
			assert.equal(list.length, before + 1);
			assert.equal(row.mode, 'webhook');
			assert.deepEqual(stack.ranBy(row.id), ['worker']);
		});
		job.verify(x, requests, emu);
	}
}

/** @param {Stack} stack @param {any} emu @param {string} workflowId */
async function triggerChecks(stack, emu, workflowId, /** @type {string} */ webhookId, /** @type {any} */ n8n) {
	const [a, b] = stack.webhookUrls;
	const subscriptionRequests = () => emu.requests.filter((/** @type {any} */ r) => r.path.startsWith(SUBSCRIPTION_PATH));
	const describe = (/** @type {any[]} */ requests) =>
		requests.map((r) => `${r.method} ${r.path.replace(SUBSCRIPTION_PATH, '…')} ${r.status}`);
	const customer = emu.seedCustomer({ externalId: 'queue-user', email: 'queue-user@example.com' });
	const txs = emu.seedTransactions(customer.id, BURST + 4, { currency: 'USDT_TRX', state: 'CONFIRMED', amount: 25 });
	const count = async () => (await stack.executions(workflowId)).length;

	say('trigger: publishing');
	await waitFor(() => emu.subscriptions.length > 0, 20000);
	const [subscription] = emu.subscriptions;
	check("publishing (the main's REST API, as the editor's Publish does) creates exactly one subscription, for the public webhook URL", () => {
		assert.equal(emu.subscriptions.length, 1);
		assert.equal(subscription.url, `${stack.publicUrl}webhook/${webhookId}/webhook`);
		const creates = subscriptionRequests().filter((/** @type {any} */ r) => r.path === `${SUBSCRIPTION_PATH}/create`);
		assert.equal(creates.length, 1);
		assert.equal(creates[0].status, 200);
	});

	say('trigger: deliveries to both webhook processors');
	/** Delivers and waits until the workflow has `expected` finished executions. */
	const deliverAndWait = async (/** @type {any} */ event, /** @type {any} */ opts, /** @type {number} */ expected) => {
		const answer = await emu.deliverEvent(subscription.requestId, event, opts);
		const list = await finishedExecutions(stack, workflowId, expected, 30000);
		const last = list.at(-1);
		const data = last ? (await stack.executionData([last.id]))[last.id] : undefined;
		return { answer, list, data };
	};
	const first = await deliverAndWait({ transactionId: txs[0].id }, { origin: a }, 1);
	const second = await deliverAndWait({ transactionId: txs[1].id }, { origin: b }, 2);
	const data = await stack.executionData(second.list.map((x) => x.id));
	for (const [name, d, i] of /** @type {const} */ ([['A', first, 0], ['B', second, 1]])) {
		check(`a signed delivery to webhook processor ${name} is answered 200 and runs the workflow once, on the worker`, () => {
			assert.equal(d.answer.status, 200, JSON.stringify(d.answer.body));
			assert.equal(d.list.length, i + 1);
			const row = d.list[i];
			assert.equal(row.status, 'success');
			assert.equal(eventIdOf(data[row.id]), d.answer.id);
			assert.deepEqual(stack.ranBy(row.id), ['worker']);
		});
	}
	const beforeRedelivery = await count();
	const againB = await emu.deliverEvent(subscription.requestId, {}, { redeliver: first.answer.id, origin: b });
	const againA = await emu.deliverEvent(subscription.requestId, {}, { redeliver: second.answer.id, origin: a });
	await pause(SETTLE_MS);
	const afterRedelivery = await count();
	check('the same event re-delivered to the other processor (A→B, B→A) is acknowledged and runs nothing', () => {
		assert.deepEqual([againB.status, againA.status], [200, 200], JSON.stringify([againB.body, againA.body]));
		assert.equal(afterRedelivery - beforeRedelivery, 0, 'executions started by the re-deliveries');
	});
	/** @type {Array<[string, string, any]>} */
	const refused = [];
	for (const [name, origin] of [['A', a], ['B', b]]) {
		for (const kind of ['forged', 'unsigned']) {
			const opts = kind === 'forged' ? { forge: true, origin } : { unsigned: true, origin };
			refused.push([name, kind, await emu.deliverEvent(subscription.requestId, { transactionId: txs[2].id }, opts)]);
		}
	}
	await pause(SETTLE_MS);
	const afterRefused = await count();
	check('forged and unsigned deliveries get 401 on both processors and run nothing', () => {
		assert.deepEqual(refused.map(([n, k, r]) => `${n} ${k} ${r.status}`), ['A forged 401', 'A unsigned 401', 'B forged 401', 'B unsigned 401']);
		assert.equal(afterRefused - afterRedelivery, 0, 'executions started by forged/unsigned deliveries');
	});

	const burst = await runBurst(stack, emu, subscription.requestId, workflowId, txs.slice(4).map((/** @type {any} */ t) => t.id));
	check(`a burst of ${BURST} distinct signed events over both processors starts exactly ${BURST} executions, each event once ` +
		`(${secs(burst.answeredMs)} to answer all, ${secs(burst.finishedMs)} until all executions finished)`, () => {
		assert.deepEqual(burst.statuses, { 200: BURST }, `answers: ${JSON.stringify(burst.statuses)}`);
		assert.equal(burst.executions, BURST);
		assert.equal(burst.distinctEvents, BURST);
		assert.deepEqual(burst.executionStatuses, { success: BURST });
		assert.equal(burst.onWorker, BURST, 'executions the worker logged');
	});
	/** Re-delivers the burst's events, each to the processor that did not take it first; counts what that started. */
	const replayBurst = async () => {
		const before = await count();
		const answers = await inFlight(BURST_IN_FLIGHT, burst.ids.length, (i) =>
			emu.deliverEvent(subscription.requestId, {}, { redeliver: burst.ids[i], origin: i % 2 ? a : b, timeoutMs: 60000 })
				.catch(() => ({ status: 0 })));
		await pause(SETTLE_MS);
		return { started: (await count()) - before, statuses: tallyOf(answers.map((r) => r.status)) };
	};
	const burstAgain = await replayBurst();
	check(`the ${BURST} burst events re-delivered, each to the other processor, are acknowledged and run nothing`, () => {
		assert.equal(burstAgain.started, 0, `executions started by the re-deliveries (answers ${JSON.stringify(burstAgain.statuses)})`);
		assert.deepEqual(burstAgain.statuses, { 200: BURST });
	});

	say('restart of every n8n process');
	const beforeRestart = emu.requests.length;
	await stack.stopN8n();
	const restartedAt = Date.now();
	const again = await stack.startN8n();
	const restartMs = Date.now() - restartedAt;
	say(`  (main, worker and webhook processors restarted in ${secs(restartMs)})`);
	await pause(SETTLE_MS);
	check('the restart asks Calypso nothing: still exactly one subscription', () => {
		assert.deepEqual(describe(emu.requests.slice(beforeRestart)), []);
		assert.equal(emu.subscriptions.length, 1);
	});
	const beforeReplay = await count();
	const replays = [
		await emu.deliverEvent(subscription.requestId, {}, { redeliver: first.answer.id, origin: a }),
		await emu.deliverEvent(subscription.requestId, {}, { redeliver: first.answer.id, origin: b }),
		await emu.deliverEvent(subscription.requestId, {}, { redeliver: second.answer.id, origin: a }),
		await emu.deliverEvent(subscription.requestId, {}, { redeliver: second.answer.id, origin: b }),
	];
	await pause(SETTLE_MS);
	const afterReplay = await count();
	check('after the restart, re-deliveries of the first two events (each to both processors) are acknowledged and run nothing', () => {
		assert.equal(afterReplay - beforeReplay, 0, 'executions started by the re-deliveries');
		assert.deepEqual(replays.map((r) => r.status), [200, 200, 200, 200], JSON.stringify(replays.map((r) => r.body)));
	});
	const burstAfterRestart = await replayBurst();
	check(`after the restart, re-deliveries of the ${BURST} burst events are acknowledged and run nothing`, () => {
		assert.equal(burstAfterRestart.started, 0, `executions started by the re-deliveries (answers ${JSON.stringify(burstAfterRestart.statuses)})`);
		assert.deepEqual(burstAfterRestart.statuses, { 200: BURST });
	});
	const third = await deliverAndWait({ transactionId: txs[3].id }, { origin: b }, (await count()) + 1);
	check('after the restart, a new event still verifies and runs once', () => {
		assert.equal(third.answer.status, 200, JSON.stringify(third.answer.body));
		assert.equal(third.list.at(-1)?.status, 'success');
		assert.equal(eventIdOf(third.data), third.answer.id);
	});

	say('unpublishing');
	const beforeUnpublish = emu.requests.length;
	const rest = await stack.rest();
	const deactivated = await rest('POST', `/rest/workflows/${workflowId}/deactivate`, {});
	await waitFor(() => emu.subscriptions.length === 0, 15000);
	check("unpublishing (the main's REST API, as the editor does) deletes the subscription at Calypso", () => {
		assert.equal(deactivated.status, 200, JSON.stringify(deactivated.json).slice(0, 300));
		assert.deepEqual(describe(emu.requests.slice(beforeUnpublish)), ['POST … 200', 'DELETE … 200']);
		assert.equal(emu.subscriptions.length, 0);
	});
	emu.state.subscriptions.set(subscription.requestId, subscription); // a late delivery, as Calypso might send
	const before = await count();
	const late = [
		await emu.deliverEvent(subscription.requestId, { transactionId: txs[2].id }, { origin: a }),
		await emu.deliverEvent(subscription.requestId, { transactionId: txs[2].id }, { origin: b }),
	];
	await pause(SETTLE_MS);
	const afterLate = await count();
	check('after unpublishing, a late delivery is refused (404) by both processors and runs nothing', () => {
		assert.deepEqual(late.map((r) => r.status), [404, 404]);
		assert.equal(afterLate, before);
	});
	return { burst, restartMs, n8n: again, replays: { crossProcessor: burstAgain, afterRestart: burstAfterRestart } };
}

/**
 * Sends one new event per transaction id, BURST_IN_FLIGHT at a time, alternating between the two processors; a
 * delivery answered other than 2xx (or not at all) is re-sent like Calypso does, at most 3 times. Then waits for the
 * executions and reads which events they ran.
 * @param {Stack} stack @param {any} emu @param {string} requestId @param {string} workflowId @param {string[]} transactionIds
 */
async function runBurst(stack, emu, requestId, workflowId, transactionIds) {
	say(`burst: ${transactionIds.length} distinct events, ${BURST_IN_FLIGHT} in flight, alternating A/B`);
	const [a, b] = stack.webhookUrls;
	const before = await stack.executions(workflowId);
	const ok = (/** @type {number} */ status) => status >= 200 && status <= 299;
	/** @type {number[]} */
	const firstStatuses = [];
	let resent = 0;
	const started = Date.now();
	const answers = await inFlight(BURST_IN_FLIGHT, transactionIds.length, async (i) => {
		const send = (/** @type {any} */ event, /** @type {any} */ opts) =>
			emu.deliverEvent(requestId, event, { origin: i % 2 ? b : a, timeoutMs: 60000, ...opts })
				.then((/** @type {any} */ r) => r.status, () => 0);
		let status = await send({ transactionId: transactionIds[i] }, {});
		// the delivery is recorded before it is sent, so it is there even when the request failed
		const id = emu.deliveries.findLast((/** @type {any} */ d) => !d.redelivery && d.envelope.data?.transactionId === transactionIds[i])?.id;
		firstStatuses.push(status);
		for (let retry = 0; retry < 3 && !ok(status); retry++) {
			resent++;
			await pause(1000);
			status = await send({}, { redeliver: id });
		}
		return { status, id: /** @type {number} */ (id) };
	});
	const answeredMs = Date.now() - started;
	await finishedExecutions(stack, workflowId, before.length + transactionIds.length, 180000);
	await pause(SETTLE_MS); // anything beyond the expected count shows up too
	const fresh = (await stack.executions(workflowId)).slice(before.length);
	const stoppedAt = Math.max(...fresh.map((x) => (x.stoppedAt ? Date.parse(x.stoppedAt) : 0)));
	const data = await stack.executionData(fresh.map((x) => x.id));
	const ids = answers.map((r) => r.id);
	const ran = new Set(fresh.map((x) => eventIdOf(data[x.id])));
	const result = {
		ids,
		statuses: tallyOf(answers.map((r) => r.status)),
		firstStatuses: tallyOf(firstStatuses),
		resent,
		executions: fresh.length,
		distinctEvents: ids.filter((id) => ran.has(id)).length,
		executionStatuses: tallyOf(fresh.map((x) => x.status)),
		onWorker: fresh.filter((x) => stack.ranBy(x.id).join() === 'worker').length,
		answeredMs,
		finishedMs: (stoppedAt || Date.now()) - started,
	};
	say(`  (first answers ${JSON.stringify(result.firstStatuses)}, ${resent} re-sent; ${fresh.length} executions, ` +
		`${result.onWorker} logged by the worker; answered in ${secs(answeredMs)}, all finished ${secs(result.finishedMs)} after the first send)`);
	return result;
}

/**
 * Starts the stack with the operations-lane workflows and the trigger example, and runs every check.
 * @param {{ log?: (line: string) => void, keepLogs?: boolean }} [opts]
 */
async function queueTest({ log = (line) => say(`  [stack] ${line}`), keepLogs = false } = {}) {
	const emu = createEmulator();
	operationsLane.seed(emu);
	await emu.start(0);
	/** @type {Stack | undefined} */
	let stack;
	const failedBefore = tally.failed;
	try {
		const startedAt = Date.now();
		stack = await startStack({ packageDir: ROOT, log });
		say(`PostgreSQL :${stack.pgPort} and Redis :${stack.redisPort} up (${secs(Date.now() - startedAt)})`);
		await stack.importCredentials(credentialFor(emu));
		const trigger = JSON.parse(fs.readFileSync(EXAMPLE_FILE, 'utf8'));
		const actions = operationsLane.workflows.map(webhookStarted);
		await stack.importWorkflows([...actions, trigger]);
		say(`credential and ${actions.length + 1} workflows imported (${secs(Date.now() - startedAt)})`);
		const n8nAt = Date.now();
		const n8n = await stack.startN8n();
		const startMs = Date.now() - n8nAt;
		say(`n8n main ${n8n.main.url}, worker ${n8n.worker.url}, webhook processors ${n8n.webhooks.map((w) => w.url).join(', ')} (${secs(startMs)})`);
		await stack.publish([...actions.map((w) => w.id), trigger.id]);
		// n8n 2.41 processes a publication in the background: the subscription is created after the call returned.
		await waitFor(() => emu.subscriptions.length > 0, 30000);
		await actionWorkflows(stack, emu, n8n);
		const webhookId = trigger.nodes.find((/** @type {any} */ n) => n.name === TRIGGER).webhookId;
		const result = await triggerChecks(stack, emu, trigger.id, webhookId, n8n);
		return { ...result, startMs };
	} finally {
		const kept = await stack?.stop({ keepLogs: keepLogs || tally.failed > failedBefore });
		if (kept) say(`  (n8n, Postgres and Redis logs kept in ${kept})`);
		await emu.stop();
	}
}

module.exports = { queueTest, runBurst, inFlight, tallyOf, eventIdOf };

if (require.main === module) {
	watchdog('queue test', TIMEOUT_MS);
	(async () => {
		if (!args.has('--no-build')) await build();
		await queueTest({ keepLogs: args.has('--keep-logs') });
	})()
		.catch((error) => {
			tally.failed++;
			say(`✘ queue test could not run: ${error instanceof Error ? error.stack : error}`);
		})
		.finally(() => {
			say(`\n${tally.passed} passed, ${tally.failed} failed (${secs(Date.now() - t0)})`);
			process.exitCode = tally.failed ? 1 : 0;
		});
}
