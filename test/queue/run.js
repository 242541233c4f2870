#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Queue-mode end-to-end test (`npm run test:queue`): this package in n8n's distributed engine.
 *   node test/queue/run.js [--no-build] [--keep-logs] [--trigger-only]
 *
 * test/queue/stack.js starts PostgreSQL, Redis and n8n main + 1 worker + 2 webhook processors (EXECUTIONS_MODE=queue,
 * one encryption key, the package installed for every process) on 127.0.0.1; the Calypso emulator runs in this
 * process. Checks:
 *   1. action workflows (the operations lane of test/e2e/run.js, started by a Webhook node instead of a Manual
 *      Trigger) run on the worker, and pass the very checks they pass in regular mode;
 *   2. publishing the trigger (examples/calypso-trigger-deposits.json) creates exactly one subscription;
 *   3. a signed delivery to either webhook processor runs the workflow once, on the worker; the same event
 *      re-delivered to the other processor runs nothing; forged and unsigned deliveries get 401 on both;
 *   4. deployments, each: a burst of 200 distinct signed events (20 in flight; an answer other than 200 is re-sent, as
 *      Calypso does, until 200), then every event re-delivered once; and the same bodies sent to n8n's own Webhook node
 *      (timed, for comparison). Nothing may be lost (every event ran at least once); the figures are printed (answers
 *      other than 200, time, events run twice):
 *      - both webhook processors behind one URL, n8n's default database pool (re-deliveries to the other processor);
 *      - this trigger's path pinned to processor A, default pool (re-deliveries to A): exactly once is asserted;
 *      - after restarting every process with DB_POSTGRESDB_POOL_SIZE=10 (re-deliveries of the first events and of the
 *        pinned burst, to either processor, run nothing): both processors again;
 *      - after restarting with N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true (default pool): pinned to A again, exactly once;
 *        then both processors again;
 *   5. a new event still runs once; unpublishing (deactivating through the main's REST API, as the editor does) deletes
 *      the subscription.
 * --trigger-only skips the action workflows (1).
 * "Runs" is counted in n8n's own record (execution_entity in Postgres); the process that ran an execution is the one
 * whose log says "Worker started execution <id>". Prints one line per check and "N passed, M failed"; exits 1 on any
 * failure; everything is stopped and removed at the end (n8n's logs are kept when a check failed or --keep-logs).
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { ROOT, tally, say, secs, check, runScript } = require('../e2e/checks');
const { operationsLane } = require('../e2e/run');
const { credentialFor } = require('../../scripts/examples');
const { createEmulator, SUBSCRIPTION_PATH } = require('../emulator');
const { startStack, waitFor, pause } = require('./stack');

const EXAMPLE_FILE = path.join(ROOT, 'examples', 'calypso-trigger-deposits.json');
const TRIGGER = 'Calypso Pay Trigger';
const BURST = 200;
const BURST_IN_FLIGHT = 20; // deliveries in flight at once (10 per webhook processor)
const SETTLE_MS = 2500; // how long a duplicate gets to show up as an execution before we count
const TUNED_POOL = 10; // DB_POSTGRESDB_POOL_SIZE of the second configuration (n8n's default is 2)
/** n8n's setting that spares a request the expression isolate when no expression needs it (off by default). */
const LAZY_ISOLATE = 'N8N_EXPRESSION_ENGINE_LAZY_ACQUIRE=true';
const RESEND_MS = 1000; // Calypso waits 30 s, 60 s, 90 s, … before re-sending; compressed here
const RESENDS = 60; // re-sends of one delivery before the test gives up on getting a 200
/** n8n's own Webhook node, taking the same bodies, for the time comparison (answers as soon as it has queued). */
const WEBHOOK_BURST = {
	id: 'queueWebhookBurst',
	name: 'queue test: Webhook node burst',
	path: 'queue-webhook-burst',
};
const TIMEOUT_MS = 25 * 60 * 1000; // about 13 min on a 2-core machine at load 10: four deployments of 200-event bursts
const args = new Set(process.argv.slice(2));

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
	const txs = emu.seedTransactions(customer.id, 5 * BURST + 4, { currency: 'USDT_TRX', state: 'CONFIRMED', amount: 25 });
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

	// n8n saves the subscription's keys (static data) a moment after it was created: until then deliveries get 401.
	await waitFor(async () => (await stack.psql(`SELECT "staticData"::text FROM workflow_entity WHERE id = '${workflowId}'`)).join('').includes(subscription.requestId), 30000, 250);
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

	/** The burst's events, one batch per deployment below. */
	const batches = [0, 1, 2, 3, 4].map((k) => txs.slice(4 + k * BURST, 4 + (k + 1) * BURST).map((/** @type {any} */ t) => t.id));
	/** @type {Record<string, any>} */
	const deployments = {};

	// Load-balanced, n8n's default database pool: deliveries and re-deliveries land on either processor.
	say(`deployment: both webhook processors behind one URL, n8n's default database pool (${stack.dbPoolSize})`);
	deployments.balancedDefault = await deployment(stack, emu, subscription.requestId, workflowId, batches[0], {
		name: 'both processors, default pool', origins: [a, b], redeliverTo: 'other',
	});
	// Pinned: the load balancer sends this trigger's path to one processor (Calypso sends to one URL); workers scale.
	say(`deployment: this trigger's path pinned to webhook processor A, n8n's default database pool (${stack.dbPoolSize})`);
	deployments.pinnedDefault = await deployment(stack, emu, subscription.requestId, workflowId, batches[1], {
		name: 'pinned to A, default pool', origins: [a], redeliverTo: 'same', exactlyOnce: true,
	});

	say(`restart of every n8n process, database pool ${TUNED_POOL}`);
	const beforeRestart = emu.requests.length;
	await stack.stopN8n();
	const restartedAt = Date.now();
	const again = await stack.startN8n({ env: { DB_POSTGRESDB_POOL_SIZE: String(TUNED_POOL) } });
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
	const pinnedIds = deployments.pinnedDefault.burst.ids;
	const afterRestart = await redeliverAll(stack, emu, subscription.requestId, workflowId, pinnedIds, (i) => (i % 2 ? a : b));
	check(`after the restart, re-deliveries of the ${BURST} events of the pinned deployment, to either processor, are acknowledged and run nothing`, () => {
		assert.equal(afterRestart.started, 0, `executions started by the re-deliveries (answers ${JSON.stringify(afterRestart.statuses)})`);
		assert.deepEqual(afterRestart.statuses, { 200: BURST });
	});

	// Load-balanced again, with a tuned pool.
	say(`deployment: both webhook processors behind one URL, database pool ${TUNED_POOL}`);
	deployments.balancedTuned = await deployment(stack, emu, subscription.requestId, workflowId, batches[2], {
		name: `both processors, pool ${TUNED_POOL}`, origins: [a, b], redeliverTo: 'other',
	});
	// Pinned again, with n8n's default pool, and n8n's expression isolate taken only when an expression needs it: n8n
	// 2.41 otherwise builds one (a V8 isolate) for every request to a start node other than its own Webhook node, and
	// throws it away after the request.
	say(`restart of every n8n process, n8n's default database pool, ${LAZY_ISOLATE}`);
	await stack.stopN8n();
	await stack.startN8n({ env: { [LAZY_ISOLATE.split('=')[0]]: LAZY_ISOLATE.split('=')[1] } });
	say(`deployment: this trigger's path pinned to webhook processor A, n8n's default database pool, ${LAZY_ISOLATE}`);
	deployments.pinnedLazy = await deployment(stack, emu, subscription.requestId, workflowId, batches[3], {
		name: `pinned to A, default pool, ${LAZY_ISOLATE}`, origins: [a], redeliverTo: 'same', exactlyOnce: true,
	});
	say(`deployment: both webhook processors behind one URL, n8n's default database pool, ${LAZY_ISOLATE}`);
	deployments.balancedLazy = await deployment(stack, emu, subscription.requestId, workflowId, batches[4], {
		name: `both processors, default pool, ${LAZY_ISOLATE}`, origins: [a, b], redeliverTo: 'other',
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
	return { deployments, restartMs, n8n: again, burst: deployments.balancedTuned.burst };
}

/** The Webhook-node workflow of the time comparison: Webhook (answers on receipt) → the example's "Credit record". */
function webhookBurstWorkflow(/** @type {any} */ trigger) {
	const credit = trigger.nodes.find((/** @type {any} */ n) => n.name !== TRIGGER);
	return {
		id: WEBHOOK_BURST.id,
		name: WEBHOOK_BURST.name,
		settings: trigger.settings,
		nodes: [
			{
				id: crypto.randomUUID(), name: 'Webhook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0],
				webhookId: crypto.randomUUID(), parameters: { httpMethod: 'POST', path: WEBHOOK_BURST.path, options: {} },
			},
			// the trigger's item is the event's data; the Webhook node's is { body: envelope }: same fields, one level down
			{ ...credit, parameters: JSON.parse(JSON.stringify(credit.parameters).replaceAll('$json.', '$json.body.data.')) },
		],
		connections: { Webhook: { main: [[{ node: credit.name, type: 'main', index: 0 }]] } },
	};
}

/**
 * Sends `send(i)` for i in 0 … count-1, BURST_IN_FLIGHT at a time; an answer other than 200 (or none) is re-sent
 * like Calypso does (`resend(i)`), until it is 200 or RESENDS re-sends were made.
 * @param {number} count @param {(i: number) => Promise<number>} send @param {(i: number) => Promise<number>} resend
 */
async function untilAcknowledged(count, send, resend) {
	/** @type {number[]} */
	const firstStatuses = [];
	let resent = 0;
	const started = Date.now();
	const statuses = await inFlight(BURST_IN_FLIGHT, count, async (i) => {
		let status = await send(i);
		firstStatuses[i] = status;
		for (let retry = 0; retry < RESENDS && status !== 200; retry++) {
			resent++;
			await pause(RESEND_MS);
			status = await resend(i);
		}
		return status;
	});
	return { statuses: tallyOf(statuses), firstStatuses: tallyOf(firstStatuses), resent, startedAt: started, answeredMs: Date.now() - started };
}

/**
 * Sends one new event per transaction id, BURST_IN_FLIGHT at a time, to `origins` in turn (default: both webhook
 * processors); a delivery answered other than 200 (or not at all) is re-sent like Calypso does, until 200. Then waits
 * for the executions and reads which events they ran.
 * @param {Stack} stack @param {any} emu @param {string} requestId @param {string} workflowId @param {string[]} transactionIds
 * @param {{ origins?: string[] }} [opts]
 */
async function runBurst(stack, emu, requestId, workflowId, transactionIds, { origins = stack.webhookUrls } = {}) {
	say(`burst: ${transactionIds.length} distinct events, ${BURST_IN_FLIGHT} in flight, to ${origins.length === 1 ? 'one processor' : `${origins.length} processors in turn`}`);
	const before = await stack.executions(workflowId);
	/** @type {number[]} */
	const ids = [];
	const originOf = (/** @type {number} */ i) => origins[i % origins.length];
	const deliver = (/** @type {number} */ i, /** @type {any} */ event, /** @type {any} */ opts) =>
		emu.deliverEvent(requestId, event, { origin: originOf(i), timeoutMs: 60000, ...opts }).then((/** @type {any} */ r) => r.status, () => 0);
	const sent = await untilAcknowledged(
		transactionIds.length,
		async (i) => {
			const status = await deliver(i, { transactionId: transactionIds[i] }, {});
			// the delivery is recorded before it is sent, so it is there even when the request failed
			ids[i] = emu.deliveries.findLast((/** @type {any} */ d) => !d.redelivery && d.envelope.data?.transactionId === transactionIds[i])?.id;
			return status;
		},
		(i) => deliver(i, {}, { redeliver: ids[i] }),
	);
	// every event was acknowledged: each must have started at least one execution
	await waitFor(async () => {
		const fresh = (await stack.executions(workflowId)).slice(before.length);
		return fresh.length >= transactionIds.length && fresh.every((x) => FINISHED.has(x.status));
	}, 180000, 500);
	await pause(SETTLE_MS); // anything beyond the expected count shows up too
	const fresh = (await stack.executions(workflowId)).slice(before.length);
	const stoppedAt = Math.max(...fresh.map((x) => (x.stoppedAt ? Date.parse(x.stoppedAt) : 0)));
	const data = await stack.executionData(fresh.map((x) => x.id));
	const runs = tallyOf(fresh.map((x) => eventIdOf(data[x.id])));
	const result = {
		ids,
		statuses: sent.statuses,
		firstStatuses: sent.firstStatuses,
		resent: sent.resent,
		executions: fresh.length,
		distinctEvents: ids.filter((id) => runs[id] >= 1).length,
		/** Events of the burst that ran more than once (a 500 after the execution was queued, then the re-send). */
		ranTwice: ids.filter((id) => runs[id] > 1).length,
		executionStatuses: tallyOf(fresh.map((x) => x.status)),
		onWorker: fresh.filter((x) => stack.ranBy(x.id).join() === 'worker').length,
		answeredMs: sent.answeredMs,
		finishedMs: (stoppedAt || Date.now()) - sent.startedAt,
	};
	say(`  (first answers ${JSON.stringify(result.firstStatuses)}, ${result.resent} re-sent; ${fresh.length} executions of ` +
		`${result.distinctEvents} events, ${result.ranTwice} more than once, ${result.onWorker} logged by the worker; ` +
		`answered in ${secs(result.answeredMs)}; load ${loadAverage()})`);
	return result;
}

/**
 * Re-delivers events (emulator delivery ids) once each, BURST_IN_FLIGHT at a time, to `originOf(i)`; counts the
 * executions that started. A re-delivery answered other than 200 is re-sent until 200, like Calypso.
 * @param {Stack} stack @param {any} emu @param {string} requestId @param {string} workflowId @param {number[]} ids
 * @param {(i: number) => string} originOf
 */
async function redeliverAll(stack, emu, requestId, workflowId, ids, originOf) {
	const before = (await stack.executions(workflowId)).length;
	const deliver = (/** @type {number} */ i) =>
		emu.deliverEvent(requestId, {}, { redeliver: ids[i], origin: originOf(i), timeoutMs: 60000 }).then((/** @type {any} */ r) => r.status, () => 0);
	const sent = await untilAcknowledged(ids.length, deliver, deliver);
	await pause(SETTLE_MS);
	await waitFor(async () => (await stack.executions(workflowId)).every((x) => FINISHED.has(x.status)), 120000, 500);
	return { started: (await stack.executions(workflowId)).length - before, ...sent };
}

/**
 * The same burst against n8n's own Webhook node: the envelopes of `deliveryIds` (as signed, unchecked), to `origins`
 * in turn, re-sent until 200; waits for one execution per body.
 * @param {Stack} stack @param {any} emu @param {number[]} deliveryIds @param {string[]} origins
 */
async function webhookNodeBurst(stack, emu, deliveryIds, origins) {
	const before = (await stack.executions(WEBHOOK_BURST.id)).length;
	const bodies = deliveryIds.map((id) => emu.deliveries.find((/** @type {any} */ d) => d.id === id && !d.redelivery).rawBody);
	const send = (/** @type {number} */ i) =>
		fetch(`${origins[i % origins.length]}/webhook/${WEBHOOK_BURST.path}`, {
			method: 'POST', body: bodies[i], headers: { 'Content-Type': 'application/json' }, signal: AbortSignal.timeout(60000),
		}).then(async (r) => { await r.arrayBuffer(); return r.status; }, () => 0);
	const sent = await untilAcknowledged(bodies.length, send, send);
	await waitFor(async () => {
		const fresh = (await stack.executions(WEBHOOK_BURST.id)).slice(before);
		return fresh.length >= bodies.length && fresh.every((x) => FINISHED.has(x.status));
	}, 180000, 500);
	const fresh = (await stack.executions(WEBHOOK_BURST.id)).slice(before);
	say(`  (Webhook node: first answers ${JSON.stringify(sent.firstStatuses)}, ${sent.resent} re-sent; ${fresh.length} executions; ` +
		`answered in ${secs(sent.answeredMs)}; load ${loadAverage()})`);
	return { ...sent, executions: fresh.length, executionStatuses: tallyOf(fresh.map((x) => x.status)) };
}

const loadAverage = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

/**
 * One deployment's figures: the burst of new events (re-sent until 200), every event re-delivered once (to the other
 * processor, or to the same one when pinned), and the same burst against n8n's Webhook node. Checks that nothing is
 * lost; `exactlyOnce` also checks that no event ran twice.
 * @param {Stack} stack @param {any} emu @param {string} requestId @param {string} workflowId @param {string[]} transactionIds
 * @param {{ name: string, origins: string[], redeliverTo: 'other' | 'same', exactlyOnce?: boolean }} opts
 */
async function deployment(stack, emu, requestId, workflowId, transactionIds, { name, origins, redeliverTo, exactlyOnce = false }) {
	const loadAtStart = loadAverage();
	const burst = await runBurst(stack, emu, requestId, workflowId, transactionIds, { origins });
	const { ids } = burst;
	const [a, b] = stack.webhookUrls;
	const originOf = (/** @type {number} */ i) => {
		const first = origins[i % origins.length];
		return redeliverTo === 'same' ? first : first === a ? b : a;
	};
	const redelivery = await redeliverAll(stack, emu, requestId, workflowId, ids, originOf);
	say(`  (re-delivered each to the ${redeliverTo} processor: answers ${JSON.stringify(redelivery.firstStatuses)}, ` +
		`${redelivery.started} executions started; load ${loadAverage()})`);
	const webhook = await webhookNodeBurst(stack, emu, ids, origins);
	const figures = {
		name, poolSize: stack.dbPoolSize, burst, redelivery, webhook,
		errors: BURST - (burst.firstStatuses[200] ?? 0),
		ratio: burst.answeredMs / webhook.answeredMs,
		loadAtStart, loadAtEnd: loadAverage(),
	};
	const errors = Object.entries(burst.firstStatuses).filter(([k]) => k !== '200').map(([k, v]) => `${v}× ${k}`).join(', ') || 'none';
	const label = `[${name}]`;
	check(`${label} a burst of ${BURST} distinct signed events, re-sent until 200 as Calypso does, runs every event at least once ` +
		`(first answers not 200: ${errors}; ${secs(burst.answeredMs)} to answer all; the Webhook node ${secs(webhook.answeredMs)}, ` +
		`${figures.ratio.toFixed(2)}x; ${burst.ranTwice} ran twice; load ${loadAtStart})`, () => {
		assert.deepEqual(burst.statuses, { 200: BURST }, `answers after re-sending: ${JSON.stringify(burst.statuses)}`);
		assert.equal(burst.distinctEvents, BURST, 'events that ran');
		assert.deepEqual(burst.executionStatuses, { success: burst.executions });
		assert.equal(burst.onWorker, burst.executions, 'executions the worker logged');
		assert.deepEqual(webhook.statuses, { 200: BURST }, 'the Webhook node\'s answers');
		assert.equal(webhook.executions, BURST, 'the Webhook node\'s executions');
	});
	check(`${label} each of the ${BURST} events re-delivered once to the ${redeliverTo} processor is answered 200 ` +
		`(${redelivery.started} ran again)`, () => {
		assert.deepEqual(redelivery.statuses, { 200: BURST }, `answers after re-sending: ${JSON.stringify(redelivery.statuses)}`);
	});
	if (exactlyOnce) {
		check(`${label} exactly once: every event ran once, through the burst's errors and re-sends and every re-delivery`, () => {
			assert.equal(burst.ranTwice, 0, 'events of the burst that ran more than once');
			assert.equal(burst.executions, BURST, 'executions of the burst');
			assert.equal(redelivery.started, 0, 'executions started by the re-deliveries');
		});
	}
	return figures;
}

/**
 * Starts the stack with the operations-lane workflows and the trigger example, and runs every check.
 * `triggerOnly` skips the action workflows (for a quicker run of the trigger's checks).
 * @param {{ log?: (line: string) => void, keepLogs?: boolean, triggerOnly?: boolean }} [opts]
 */
async function queueTest({ log = (line) => say(`  [stack] ${line}`), keepLogs = false, triggerOnly = false } = {}) {
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
		const actions = triggerOnly ? [] : operationsLane.workflows.map(webhookStarted);
		const webhookBurst = webhookBurstWorkflow(trigger);
		await stack.importWorkflows([...actions, trigger, webhookBurst]);
		say(`credential and ${actions.length + 2} workflows imported (${secs(Date.now() - startedAt)})`);
		const n8nAt = Date.now();
		const n8n = await stack.startN8n();
		const startMs = Date.now() - n8nAt;
		say(`n8n main ${n8n.main.url}, worker ${n8n.worker.url}, webhook processors ${n8n.webhooks.map((w) => w.url).join(', ')} (${secs(startMs)})`);
		await stack.publish([...actions.map((w) => w.id), trigger.id, webhookBurst.id]);
		// n8n 2.41 processes a publication in the background: the subscription is created after the call returned.
		await waitFor(() => emu.subscriptions.length > 0, 30000);
		if (!triggerOnly) await actionWorkflows(stack, emu, n8n);
		const webhookId = trigger.nodes.find((/** @type {any} */ n) => n.name === TRIGGER).webhookId;
		const result = await triggerChecks(stack, emu, trigger.id, webhookId, n8n);
		return { ...result, startMs };
	} finally {
		const kept = await stack?.stop({ keepLogs: keepLogs || tally.failed > failedBefore });
		if (kept) say(`  (n8n, Postgres and Redis logs kept in ${kept})`);
		await emu.stop();
	}
}

/** The deployments' figures as a Markdown table (the README's and bench/RESULTS.md's). @param {Record<string, any>} deployments */
function figuresTable(deployments) {
	const rows = Object.values(deployments).map((d) => {
		const errors = Object.entries(d.burst.firstStatuses).filter(([k]) => k !== '200').map(([k, v]) => `${v}× ${k}`).join(', ') || 'none';
		return `| ${d.name} | ${errors} | ${secs(d.burst.answeredMs)} | ${secs(d.webhook.answeredMs)} (${d.ratio.toFixed(2)}x) | ` +
			`${d.burst.ranTwice} | ${d.redelivery.started} of ${BURST} | ${d.loadAtStart} → ${d.loadAtEnd} |`;
	});
	return [
		`| ${BURST} events, ${BURST_IN_FLIGHT} in flight | first answers not 200 | all answered 200 | Webhook node (trigger ÷ it) | ran twice in the burst | re-delivered once: ran again | load average |`,
		'|---|---|---|---|---|---|---|',
		...rows,
	].join('\n');
}

module.exports = { figuresTable, redeliverAll, queueTest, runBurst, inFlight, tallyOf, eventIdOf };

if (require.main === module) {
	runScript('queue test', TIMEOUT_MS, async () => {
		const result = await queueTest({ keepLogs: args.has('--keep-logs'), triggerOnly: args.has('--trigger-only') });
		say(`\n${figuresTable(result.deployments)}`);
	});
}
