#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * End-to-end test of the Calypso Pay Trigger in a REAL n8n (the pinned n8n of scripts/n8n-local.js, `n8n start`):
 *   node test/e2e/trigger.e2e.js [--no-build] [--verbose: n8n debug logs kept in the user folder on failure]
 *
 * The workflow is examples/calypso-trigger-deposits.json (Calypso Pay Trigger → "Credit record" Set node) with an
 * HTTP Request node appended that POSTs each record, and the trigger's own item, to a loopback "sink" started here:
 * one sink hit = one workflow execution that ran to the end. The Calypso emulator runs in this process.
 *
 *   1. publish:workflow, then `n8n start`: activation subscribes the production webhook URL at the emulator.
 *   2. A signed delivery runs the workflow once (the transaction confirmed with transaction/get); forged and
 *      unsigned deliveries get 401 and run nothing; a re-delivery of the same event runs nothing. A re-delivery
 *      that arrives while the first delivery of its event is still being processed (a slow transaction lookup)
 *      gets a 503 and runs nothing. A burst of concurrent deliveries runs each event once.
 *   3. Stopping n8n leaves the subscription in place, and the next start (same URL) sends Calypso nothing: n8n 2.41
 *      keeps a published workflow's webhook registered in its database and runs checkExists/create only when a
 *      publication is processed. The workflow's static data in n8n's database (export:workflow) holds the record
 *      of every acknowledged event and the subscription secret sealed, never in clear. The keys still verify
 *      deliveries, and a re-delivery of every pre-restart event runs nothing.
 *   4. Deactivating the workflow (n8n's REST API, as the editor does) deletes the subscription at Calypso.
 *
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, say, secs, check, runScript, cleanUpUserFolder, startSink } = require('./checks');
const { ensureN8n, createUserFolder, ownerEnv, restClient, N8N_VERSION } = require('../../scripts/n8n-local');
const { createEmulator, SUBSCRIPTION_PATH } = require('../emulator');

const EXAMPLE_FILE = path.join(ROOT, 'examples', 'calypso-trigger-deposits.json');
const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const CREDITED = 'CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED';
const OWNER = { email: 'e2e-owner@example.com', password: 'E2e-owner-password-1' };

const args = new Set(process.argv.slice(2));
const VERBOSE = args.has('--verbose');
const TIMEOUT_MS = 6 * 60 * 1000;
/** Concurrent new events delivered at once. */
const BURST = 8;
const t0 = Date.now();

/** Polls `fn` until it returns a truthy value or the time is up (then returns the last value). @template T */
async function waitFor(/** @type {() => T} */ fn, timeoutMs = 20000, intervalMs = 100) {
	const deadline = Date.now() + timeoutMs;
	let value = fn();
	while (!value && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, intervalMs));
		value = fn();
	}
	return value;
}
const pause = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));


/**
 * The example with an HTTP Request node after "Credit record" that sends the record and the trigger's item.
 * @param {string} sinkUrl
 */
function workflowWithSink(sinkUrl) {
	const wf = JSON.parse(fs.readFileSync(EXAMPLE_FILE, 'utf8'));
	wf.nodes.push({
		id: '6c0f5a52-0b1e-4d43-9a51-0000000004ff',
		name: 'Sink',
		type: 'n8n-nodes-base.httpRequest',
		typeVersion: 4.2,
		position: [520, 0],
		parameters: {
			method: 'POST',
			url: sinkUrl,
			sendBody: true,
			specifyBody: 'json',
			jsonBody: "={{ JSON.stringify({ record: $json, event: $('Calypso Pay Trigger').item.json }) }}",
			options: {},
		},
	});
	wf.connections['Credit record'] = { main: [[{ node: 'Sink', type: 'main', index: 0 }]] };
	return wf;
}

async function main() {
	await ensureN8n();

	const emu = createEmulator();
	const customer = emu.seedCustomer({ externalId: 'user-42', email: 'user-42@example.com' });
	const [deposit, second, slow, hungUp, ...burstTransactions] = emu.seedTransactions(customer.id, 4 + BURST, {
		currency: 'USDT_TRX',
		state: 'CONFIRMED',
		amount: 25,
	});
	await emu.start(0);
	const sink = await startSink();

	const uf = await createUserFolder({ name: `e2e-trigger-${process.pid}`, packageDir: ROOT });

	await uf.importCredentials([
		{ id: 'calypso-demo', name: 'Calypso (emulator)', type: 'calypsoPayApi', data: { ...emu.credentials } },
	]);
	const workflow = workflowWithSink(sink.url);
	const workflowId = await uf.importWorkflow(workflow);
	await uf.publish(workflowId);
	const webhookId = workflow.nodes[0].webhookId;

	/** @type {Record<string, string>} */
	const extraEnv = {
		...(VERBOSE ? { N8N_LOG_LEVEL: 'debug' } : {}),
		...ownerEnv(OWNER),
	};
	const subscriptionRequests = () => emu.requests.filter((r) => r.path.startsWith(SUBSCRIPTION_PATH));
	const describe = (/** @type {any[]} */ requests) =>
		requests.map((r) => `${r.method} ${r.path.replace(SUBSCRIPTION_PATH, '…')} ${r.status}`);

	// --verbose: n8n's debug log of each start goes to <user folder>/n8n-<n>.log.
	let starts = 0;
	const logTo = () => {
		const file = path.join(uf.userFolder, `n8n-${++starts}.log`);
		return VERBOSE ? (/** @type {string} */ chunk) => fs.appendFileSync(file, chunk) : undefined;
	};
	let n8n = await uf.start({ extraEnv, onOutput: logTo() });
	const startedAt = Date.now();
	say(`n8n started at ${n8n.url} (${secs(Date.now() - t0)})`);
	const hookUrl = `${n8n.url}/webhook/${webhookId}/webhook`;
	try {
		say('activation');
		await waitFor(() => emu.subscriptions.length > 0, 20000);
		// n8n saves the trigger's static data (the subscription's keys) once activation has finished, a moment after
		// the subscription exists at Calypso: a delivery in between is refused (401) and Calypso would retry it.
		await pause(3000);
		const [subscription] = emu.subscriptions;
		check('publishing + start subscribes the production webhook URL, for the two events', () => {
			assert.equal(emu.subscriptions.length, 1);
			assert.equal(subscription.url, hookUrl);
			assert.deepEqual(subscription.notificationEventTypes, [FUNDS, CREDITED]);
			assert.deepEqual(subscription.notificationServiceTypes, ['CUSTOMER_PURSE']);
			const create = subscriptionRequests().find((r) => r.path === `${SUBSCRIPTION_PATH}/create`);
			assert.equal(create?.headers.key, emu.credentials.apiKey, 'signed with the API credential');
			assert.equal(create?.status, 200);
		});

		say('deliveries');
		const first = await emu.deliverEvent(subscription.requestId, { transactionId: deposit.id });
		await waitFor(() => sink.hits.length >= 1, 20000);
		check('a signed delivery is answered 200 and runs the workflow once, to the end', () => {
			assert.equal(first.status, 200, JSON.stringify(first.body));
			assert.equal(sink.hits.length, 1);
		});
		const hit = sink.hits[0] ?? {};
		check("the trigger's item: the flattened envelope, raw, and the confirmed transaction", () => {
			assert.equal(hit.event?.eventId, first.id);
			assert.equal(hit.event?.eventType, FUNDS);
			assert.equal(hit.event?.customerId, customer.id);
			assert.equal(hit.event?.transactionId, deposit.id);
			assert.equal(hit.event?.amount, 25);
			assert.deepEqual(hit.event?.raw, first.envelope);
			assert.deepEqual(hit.event?.transaction, deposit);
			const gets = emu.requests.filter((r) => r.path.endsWith('transaction/get'));
			assert.deepEqual(
				gets.map((r) => r.body?.payload?.transactionId),
				[deposit.id],
			);
		});
		check('the example\'s "Credit record"', () => {
			assert.deepEqual(hit.record, {
				idempotencyKey: `calypso-deposit-${deposit.id}`,
				calypsoCustomerId: customer.id,
				amount: 25,
				currency: 'USDT_TRX',
				transactionId: deposit.id,
				transactionHash: deposit.transactionHash,
				state: 'CONFIRMED',
				creditUser: true,
				creditedToMerchant: true,
				calypsoEvent: `${FUNDS} #${first.id}`,
			});
		});

		const forged = await emu.deliverEvent(
			subscription.requestId,
			{ transactionId: second.id },
			{ forge: true },
		);
		const unsigned = await emu.deliverEvent(
			subscription.requestId,
			{ transactionId: second.id },
			{ unsigned: true },
		);
		const again = await emu.deliverEvent(subscription.requestId, {}, { redeliver: first.id });
		await pause(3000);
		check('forged and unsigned deliveries get 401 and run nothing', () => {
			assert.equal(forged.status, 401, JSON.stringify(forged.body));
			assert.equal(unsigned.status, 401, JSON.stringify(unsigned.body));
			assert.match(JSON.stringify(forged.body), /signature check failed/);
		});
		check('a re-delivery of the same event (same bytes) is answered 200 and runs nothing', () => {
			assert.equal(again.status, 200);
			assert.deepEqual(again.body, { message: `Event ${first.id} was already received; ignored` });
			assert.equal(sink.hits.length, 1);
		});

		const credited = await emu.deliverEvent(subscription.requestId, {
			eventType: CREDITED,
			transactionId: deposit.id,
		});
		await waitFor(() => sink.hits.length >= 2, 20000);
		check('the next event (credited, same transaction) runs again, with the same idempotencyKey', () => {
			assert.equal(credited.status, 200);
			assert.equal(sink.hits.length, 2);
			assert.equal(sink.hits[1].event?.eventType, CREDITED);
			assert.equal(sink.hits[1].record?.idempotencyKey, hit.record?.idempotencyKey);
		});

		say('a re-delivery while the first is being processed');
		emu.options.latencyMs = 1500; // the trigger's transaction lookup is slow
		const slowSent = Date.now();
		const slowDelivery = emu.deliverEvent(subscription.requestId, { transactionId: slow.id });
		await waitFor(
			() =>
				emu.requests.some(
					(r) => r.path.endsWith('transaction/get') && r.body?.payload?.transactionId === slow.id,
				),
			10000,
			10,
		);
		const slowId = emu.deliveries[emu.deliveries.length - 1].id;
		const inFlight = await emu.deliverEvent(subscription.requestId, {}, { redeliver: slowId });
		const slowFirst = await slowDelivery;
		const slowMs = Date.now() - slowSent;
		emu.options.latencyMs = 0;
		await waitFor(() => sink.hits.length >= 3, 20000);
		const afterward = await emu.deliverEvent(subscription.requestId, {}, { redeliver: slowId });
		await pause(1500);
		check(
			'the in-flight re-delivery gets a 503 (Retry-After), runs nothing; the first then gets its 200',
			() => {
				assert.equal(inFlight.status, 503, JSON.stringify(inFlight.body));
				assert.deepEqual(inFlight.body, { message: `Event ${slowId} is still being processed; retry later` });
				assert.equal(slowFirst.status, 200, JSON.stringify(slowFirst.body));
				assert.equal(afterward.status, 200);
				assert.deepEqual(afterward.body, { message: `Event ${slowId} was already received; ignored` });
				assert.equal(sink.hits.length, 3);
				assert.equal(sink.hits[2].event?.eventId, slowId);
			},
		);
		say(`  (the slow delivery was answered after ${slowMs} ms)`);

		say('Calypso hangs up while the trigger confirms the transaction');
		emu.options.latencyMs = 1500;
		const gone = await emu
			.deliverEvent(subscription.requestId, { transactionId: hungUp.id }, { timeoutMs: 300 })
			.then(
				(d) => `answered ${d.status}`,
				() => 'hung up',
			);
		const goneId = emu.deliveries[emu.deliveries.length - 1].id;
		await waitFor(() => sink.hits.length >= 4, 20000);
		emu.options.latencyMs = 0;
		let afterHangUp = await emu.deliverEvent(subscription.requestId, {}, { redeliver: goneId });
		for (let i = 0; i < 20 && afterHangUp.status === 503; i++) {
			await pause(250);
			afterHangUp = await emu.deliverEvent(subscription.requestId, {}, { redeliver: goneId });
		}
		await pause(1500);
		check('the event whose caller hung up runs once; its re-delivery is answered 200 "already received"', () => {
			assert.equal(gone, 'hung up');
			assert.equal(afterHangUp.status, 200, JSON.stringify(afterHangUp.body));
			assert.deepEqual(afterHangUp.body, { message: `Event ${goneId} was already received; ignored` });
			assert.equal(sink.hits.length, 4);
			assert.equal(sink.hits[3].event?.eventId, goneId);
		});

		say(`a burst of ${BURST} concurrent deliveries`);
		const burstSent = Date.now();
		const burst = await Promise.all(
			burstTransactions.map((t) => emu.deliverEvent(subscription.requestId, { transactionId: t.id })),
		);
		const burstMs = Date.now() - burstSent;
		await waitFor(() => sink.hits.length >= 4 + BURST, 30000);
		await pause(1500);
		check(`${BURST} concurrent new events: each answered 200 and run once`, () => {
			assert.deepEqual(
				burst.map((d) => d.status),
				Array(BURST).fill(200),
			);
			assert.equal(sink.hits.length, 4 + BURST);
			assert.deepEqual(
				sink.hits
					.slice(4)
					.map((h) => h.event?.eventId)
					.sort(),
				burst.map((d) => d.id).sort(),
			);
		});
		say(`  (the burst was answered in ${burstMs} ms in all)`);
		const acknowledged = [first.id, credited.id, slowId, goneId, ...burst.map((d) => d.id)];

		const rest = await restClient(n8n.url, OWNER);
		const executions = await rest(
			'GET',
			`/rest/executions?limit=100&filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
			undefined,
		);
		const types = await rest('GET', '/types/nodes.json', undefined);
		const description = Array.isArray(types.json)
			? types.json.find((/** @type {any} */ t) => t.name === 'n8n-nodes-calypso-pay.calypsoPayTrigger')
			: undefined;
		const icons = await Promise.all(
			Object.values(description?.iconUrl ?? {}).map(async (url) => {
				const res = await fetch(`${n8n.url}/${url}`);
				return { url, status: res.status, svg: (await res.text()).includes('<svg') };
			}),
		);
		check("the editor gets the trigger's type and both icons (the Calypso node's, shared)", () => {
			assert.equal(description?.displayName, 'Calypso Pay Trigger');
			assert.deepEqual(description?.group, ['trigger']);
			assert.deepEqual(
				icons.map((i) => [i.status, i.svg]),
				[
					[200, true],
					[200, true],
				],
			);
			assert.ok(
				icons.every((i) => /dist\/nodes\/CalypsoPay\/calypso(\.dark)?\.svg$/.test(String(i.url))),
				String(icons.map((i) => i.url)),
			);
		});
		check(`n8n's own record: ${acknowledged.length} successful executions of the workflow`, () => {
			assert.equal(executions.status, 200, JSON.stringify(executions.json).slice(0, 300));
			const results = executions.json?.data?.results ?? [];
			assert.deepEqual(
				results.map((/** @type {any} */ x) => x.status),
				Array(acknowledged.length).fill('success'),
			);
		});

		say('restart');
		const beforeStop = emu.requests.length;
		await n8n.stop();
		check('stopping n8n leaves the subscription at Calypso (no DELETE sent)', () => {
			assert.equal(emu.subscriptions.length, 1);
			assert.deepEqual(describe(emu.requests.slice(beforeStop)), []);
		});
		const exportFile = path.join(uf.userFolder, 'exported-workflow.json');
		const exported = await uf.n8n(['export:workflow', `--id=${workflowId}`, `--output=${exportFile}`]);
		const [saved] = exported.code === 0 ? JSON.parse(fs.readFileSync(exportFile, 'utf8')) : [];
		const savedNode = saved?.staticData?.['node:Calypso Pay Trigger'] ?? {};
		check(
			"n8n's database: the static data records every acknowledged event, and the secret only sealed",
			() => {
				assert.equal(exported.code, 0, exported.stderr);
				assert.deepEqual(
					Object.keys(savedNode.seen ?? {})
						.map(Number)
						.sort(),
					[...acknowledged].sort(),
				);
				assert.match(String(savedNode.sealedSecretKey), /^v1\./);
				assert.equal(savedNode.secretKey, undefined);
				assert.ok(!JSON.stringify(saved.staticData).includes(subscription.secretKey), 'secretKey in clear');
			},
		);
		n8n = await uf.start({ port: n8n.port, extraEnv, onOutput: logTo() }); // same port: the same webhook URL
		await pause(5000);
		// n8n 2.41 registers webhooks when a publication is processed (its "publication outbox"), not at every start:
		// the webhook stays registered in its database over a restart, and no lifecycle method runs.
		// n8n 1.x activates active workflows at every start: checkExists looks the subscription up once, creates nothing.
		const onStart = N8N_VERSION.startsWith('1.') ? ['POST … 200'] : [];
		const asked = onStart.length ? 'only checkExists' : 'nothing';
		check(`the next start asks Calypso ${asked}: the registration and the subscription carry over`, () => {
			assert.deepEqual(describe(emu.requests.slice(beforeStop)), onStart);
			assert.equal(emu.subscriptions.length, 1);
			assert.equal(emu.subscriptions[0].requestId, subscription.requestId);
		});
		const third = await emu.deliverEvent(subscription.requestId, { transactionId: second.id });
		await waitFor(() => sink.hits.length >= acknowledged.length + 1, 20000);
		check('deliveries after the restart verify against the sealed keys kept in static data, and run', () => {
			assert.equal(third.status, 200, JSON.stringify(third.body));
			assert.equal(sink.hits.length, acknowledged.length + 1);
			assert.equal(sink.hits[acknowledged.length].event?.transactionId, second.id);
		});
		const hitsBeforeReplay = sink.hits.length;
		const replays = await Promise.all(
			acknowledged.map((id) => emu.deliverEvent(subscription.requestId, {}, { redeliver: id })),
		);
		await pause(3000);
		check(
			`after the restart, re-deliveries of all ${acknowledged.length} pre-restart events run nothing`,
			() => {
				assert.deepEqual(
					replays.map((r) => r.status),
					Array(acknowledged.length).fill(200),
				);
				assert.deepEqual(
					replays.map((r) => r.body),
					acknowledged.map((id) => ({ message: `Event ${id} was already received; ignored` })),
				);
				assert.equal(sink.hits.length, hitsBeforeReplay);
			},
		);

		// From node version 1.1 n8n reads the body itself only for the content types it parses (JSON, text, form, XML).
		const version = workflow.nodes[0].typeVersion;
		const otherTypes = [];
		for (const contentType of ['application/octet-stream', null]) {
			const event = { eventType: CREDITED, transactionId: second.id };
			otherTypes.push(await emu.deliverEvent(subscription.requestId, event, { contentType }));
		}
		await waitFor(() => sink.hits.length >= hitsBeforeReplay + otherTypes.length, 20000);
		await pause(1500);
		check(`version ${version}: deliveries as application/octet-stream and without a Content-Type are verified and run once`, () => {
			assert.deepEqual(
				otherTypes.map((d) => d.status),
				otherTypes.map(() => 200),
				JSON.stringify(otherTypes.map((d) => d.body)),
			);
			assert.deepEqual(
				sink.hits
					.slice(hitsBeforeReplay)
					.map((h) => h.event?.eventId)
					.sort(),
				otherTypes.map((d) => d.id).sort(),
			);
		});
		const hitsBeforeLate = sink.hits.length;

		say('deactivation');
		const beforeDeactivate = emu.requests.length;
		const deactivated = await (
			await restClient(n8n.url, OWNER)
		)('POST', `/rest/workflows/${workflowId}/deactivate`, {});
		await waitFor(() => emu.subscriptions.length === 0, 10000);
		check('deactivating the workflow deletes the subscription at Calypso', () => {
			assert.equal(deactivated.status, 200, JSON.stringify(deactivated.json).slice(0, 300));
			assert.deepEqual(describe(emu.requests.slice(beforeDeactivate)), ['POST … 200', 'DELETE … 200']);
			const deletion = emu.requests[beforeDeactivate + 1];
			assert.deepEqual(deletion?.body?.payload, { requestId: subscription.requestId });
			assert.equal(emu.subscriptions.length, 0);
		});
		emu.state.subscriptions.set(subscription.requestId, subscription); // a late delivery, as Calypso might send
		const late = await emu.deliverEvent(subscription.requestId, { transactionId: second.id });
		await pause(1500);
		check('a late delivery to the deactivated workflow is refused by n8n (404) and runs nothing', () => {
			assert.equal(late.status, 404);
			assert.equal(sink.hits.length, hitsBeforeLate);
		});
	} finally {
		await n8n.stop();
		await emu.stop();
		await sink.close();
		cleanUpUserFolder(uf.userFolder, 0, `n8n user folder${VERBOSE ? ', with n8n-*.log,' : ''}`);
		say(`  (n8n ran ${secs(Date.now() - startedAt)} in all)`);
	}
}

runScript('trigger e2e', TIMEOUT_MS, main);
