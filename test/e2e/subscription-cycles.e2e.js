#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * End-to-end test of the Calypso Pay Trigger's subscription at Calypso over many publications, in a REAL n8n (the
 * pinned n8n of scripts/n8n-local.js, `n8n start`), driven through n8n's REST API as the editor does (PATCH to save
 * an edit, POST …/activate to publish it, POST …/deactivate to unpublish, GET …/publication-status for the outcome
 * the editor shows: n8n 2.41 applies a publication after answering the request):
 *   node test/e2e/subscription-cycles.e2e.js [--no-build]
 *
 *   1. Twenty cycles of edit (events, Confirm Transaction), save and publish. n8n 2.41 runs the trigger's `delete`
 *      for the published version, then checkExists/create for the new one. Some cycles meet an unclear answer to the
 *      create: processed then 504; 504 at once with the subscription made 2 s later (a slow backend behind a
 *      gateway); the connection dropped, made 1 s later. After every publish: exactly one subscription at the
 *      emulator, for this trigger's URL and the events selected, and a signed delivery to it is answered 200.
 *   2. Calypso blocks the subscription: publishing fails, saying to unblock it in Calypso's dashboard and publish
 *      again, and leaves the subscription in place; once unblocked, publishing uses it again and its retries land.
 *   3. Unpublishing leaves no subscription at the emulator.
 *
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 */
const assert = require('node:assert/strict');
const { ROOT, say, secs, check, runScript, cleanUpUserFolder } = require('./checks');
const { ensureN8n, createUserFolder, ownerEnv, restClient } = require('../../scripts/n8n-local');
const { createEmulator, SUBSCRIPTION_PATH } = require('../emulator');

const TRIGGER_TYPE = 'n8n-nodes-calypso-pay.calypsoPayTrigger';
const FUNDS = 'CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE';
const CREDITED = 'CUSTOMER_PURSE_TRANSLATION_TO_ACCOUNT_COMPLETED';
const EXPIRED = 'CUSTOMER_PURSE_EXPIRED';
const OWNER = { email: 'e2e-owner@example.com', password: 'E2e-owner-password-1' };
const CYCLES = 20;
const TIMEOUT_MS = 8 * 60 * 1000;
const t0 = Date.now();

/** The events selected in cycle i: they change every few cycles. @param {number} i */
const eventsOf = (i) => [[FUNDS], [FUNDS, CREDITED], [CREDITED, EXPIRED]][Math.floor(i / 3) % 3];

/**
 * Unclear answers to the create, by cycle: what the emulator does to that cycle's create.
 * @type {Record<number, { name: string, fault: import('../emulator').Fault }>}
 */
const UNCLEAR = {
	4: { name: 'processed, then answered 504', fault: { afterProcessing: true, status: 504 } },
	9: { name: 'answered 504 at once, made 2 s later', fault: { status: 504, landAfterMs: 2000 } },
	14: { name: 'connection dropped, made 1 s later', fault: { drop: true, landAfterMs: 1000 } },
};

async function main() {
	await ensureN8n();
	const emu = createEmulator();
	await emu.start(0);
	const uf = await createUserFolder({ name: `e2e-subscription-cycles-${process.pid}`, packageDir: ROOT });
	await uf.importCredentials([
		{ id: 'calypso-cycles', name: 'Calypso (emulator)', type: 'calypsoPayApi', data: { ...emu.credentials } },
	]);
	const webhookId = '5d1c9a0e-0000-4000-8000-0000000c7c1e';
	const trigger = {
		id: '5d1c9a0e-0000-4000-8000-000000000001',
		name: 'Calypso Pay Trigger',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		webhookId,
		parameters: { events: eventsOf(0), confirmTransaction: true },
		credentials: { calypsoPayApi: { id: 'calypso-cycles', name: 'Calypso (emulator)' } },
	};
	const workflowId = await uf.importWorkflow({ name: 'subscription cycles', nodes: [trigger], connections: {} });

	const n8n = await uf.start({ extraEnv: ownerEnv(OWNER) });
	say(`n8n started at ${n8n.url} (${secs(Date.now() - t0)})`);
	const hookUrl = `${n8n.url}/webhook/${webhookId}/webhook`;
	const ours = () => emu.subscriptions.filter((s) => s.url === hookUrl);
	const creates = () => emu.requests.filter((r) => r.path === `${SUBSCRIPTION_PATH}/create`).length;
	try {
		const rest = await restClient(n8n.url, OWNER);
		/** Saves the trigger with these parameters (the editor's PATCH) and publishes that version. @param {any} parameters */
		const savePublish = async (parameters) => {
			const current = await rest('GET', `/rest/workflows/${workflowId}`, undefined);
			assert.equal(current.status, 200, JSON.stringify(current.json).slice(0, 300));
			const wf = current.json.data;
			const nodes = wf.nodes.map((/** @type {any} */ n) => (n.type === TRIGGER_TYPE ? { ...n, parameters } : n));
			const saved = await rest('PATCH', `/rest/workflows/${workflowId}`, {
				name: wf.name,
				nodes,
				connections: wf.connections,
				settings: wf.settings,
				versionId: wf.versionId,
			});
			assert.equal(saved.status, 200, JSON.stringify(saved.json).slice(0, 300));
			const activated = await rest('POST', `/rest/workflows/${workflowId}/activate`, {
				versionId: saved.json.data.versionId,
			});
			assert.equal(activated.status, 200, JSON.stringify(activated.json).slice(0, 300));
			return await settled();
		};
		/**
		 * n8n 2.41 applies a publication after answering (its publication outbox): the trigger's checkExists/create
		 * run then, and the editor shows the outcome from GET …/publication-status. Waits until it is settled.
		 * @returns {Promise<{ status: string, triggers: { status: string, errorMessage?: string }[] }>}
		 */
		const settled = async () => {
			const deadline = Date.now() + 120_000;
			for (;;) {
				const r = await rest('GET', `/rest/workflows/${workflowId}/publication-status`, undefined);
				assert.equal(r.status, 200, JSON.stringify(r.json).slice(0, 300));
				const status = r.json.data ?? r.json;
				if (status.status !== 'in_progress' || Date.now() > deadline) return status;
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		};

		/** @type {string[]} */
		const problems = [];
		let delivered = 0;
		for (let i = 0; i < CYCLES; i++) {
			const events = eventsOf(i);
			const unclear = UNCLEAR[i];
			if (unclear) emu.injectFault({ path: `${SUBSCRIPTION_PATH}/create`, ...unclear.fault });
			const published = await savePublish({ events, confirmTransaction: i % 2 === 0 });
			const now = ours();
			const what = `cycle ${i + 1}${unclear ? ` (create ${unclear.name})` : ''}`;
			if (published.status !== 'published') {
				problems.push(`${what}: publication ${JSON.stringify(published).slice(0, 300)}`);
			}
			if (now.length !== 1) problems.push(`${what}: ${now.length} subscriptions for the URL`);
			if (now.length > 0 && JSON.stringify(now.at(-1)?.notificationEventTypes) !== JSON.stringify(events)) {
				problems.push(`${what}: subscribed to ${now.at(-1)?.notificationEventTypes}, selected ${events}`);
			}
			if (now.length === 1) {
				const answer = await emu
					.deliverEvent(now[0], { eventType: now[0].notificationEventTypes[0] })
					.catch((/** @type {Error} */ e) => ({ status: 0, body: e.message }));
				if (answer.status === 200) delivered++;
				else problems.push(`${what}: a signed delivery answered ${answer.status} ${JSON.stringify(answer.body)}`);
			}
		}
		check(`${CYCLES} edits, each saved and published (${Object.keys(UNCLEAR).length} meeting an unclear create): every publish succeeds, one subscription each time, with the events selected, whose deliveries verify`, () => {
			assert.deepEqual(problems, []);
			assert.equal(delivered, CYCLES);
			assert.equal(emu.subscriptions.length, 1);
		});
		say(`  (${creates()} creates sent for ${CYCLES} publications; ${emu.requests.length} requests in all)`);

		say('a blocked subscription');
		const [sub] = ours();
		emu.setSubscriptionState(sub.requestId, 'BLOCKED');
		const refused = await savePublish({ events: eventsOf(0), confirmTransaction: true });
		check('publishing an edit while Calypso has blocked the subscription fails, saying to unblock it in Calypso’s dashboard and publish again; the subscription stays', () => {
			assert.equal(refused.status, 'failed', JSON.stringify(refused).slice(0, 300));
			assert.equal(
				refused.triggers[0]?.errorMessage,
				"Calypso has blocked this trigger's webhook subscription, so it delivers no events: unblock it in Calypso's dashboard (Calypso then re-sends the failed events), then publish this workflow again",
			);
			assert.deepEqual(ours().map((s) => [s.requestId, s.state]), [[sub.requestId, 'BLOCKED']]);
		});
		const held = await emu.deliverEvent(sub, { eventType: sub.notificationEventTypes[0] });
		const resent = await emu.unblockSubscription(sub.requestId);
		const again = await savePublish({ events: eventsOf(0), confirmTransaction: true });
		const retried = await emu.deliverEvent(sub, {}, { redeliver: held.id });
		check('an event while blocked is not sent; unblocked, Calypso re-sends it (n8n: 404, not published); published again, the same subscription is used and takes its retry (200)', () => {
			assert.equal(held.sent, false);
			assert.deepEqual(resent.map((r) => [r.id, r.status]), [[held.id, 404]]);
			assert.equal(again.status, 'published', JSON.stringify(again).slice(0, 300));
			assert.deepEqual(ours().map((s) => [s.requestId, s.state]), [[sub.requestId, 'ACTIVE']]);
			assert.equal(retried.status, 200, JSON.stringify(retried.body));
		});

		say('unpublishing');
		const deactivated = await rest('POST', `/rest/workflows/${workflowId}/deactivate`, {});
		const unpublished = await settled();
		check('unpublishing leaves no subscription at Calypso', () => {
			assert.equal(deactivated.status, 200, JSON.stringify(deactivated.json).slice(0, 300));
			assert.equal(unpublished.status, 'not_published', JSON.stringify(unpublished));
			assert.equal(emu.subscriptions.length, 0);
		});
	} finally {
		await n8n.stop();
		await emu.stop();
		cleanUpUserFolder(uf.userFolder);
	}
}

runScript('subscription cycles e2e', TIMEOUT_MS, main);
