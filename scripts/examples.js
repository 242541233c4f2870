// @ts-check
'use strict';
/**
 * What `npm run demo`, `npm run dev` and `npm run test:e2e` share about the example workflows in examples/:
 * the demo data seeded into the Calypso emulator, the credential the examples reference, and readable
 * summaries of their executions.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const EXAMPLES_DIR = path.join(ROOT, 'examples');

/** The credential every example references by id. */
const CREDENTIAL_ID = 'calypso-demo';
const CREDENTIAL_NAME = 'Calypso (emulator)';

/** The external ID of the seeded demo customer; the sweep and block examples look it up. */
const DEMO_EXTERNAL_ID = 'demo-user-1';

/** The examples in the order the demo runs them (block last: it blocks the demo customer). */
const EXAMPLES = [
	{ key: 'signup', file: 'signup-deposit-address.json', id: 'calypsoExSignup1', title: 'Sign-up → deposit address' },
	{ key: 'sweep', file: 'sweep-confirmed-deposits.json', id: 'calypsoExSweep01', title: 'Sweep confirmed deposits' },
	{ key: 'block', file: 'block-customer.json', id: 'calypsoExBlock01', title: 'Block a customer' },
];

/**
 * Examples `npm run dev` imports beside the demo's, which the demo does not run: the custom API call (HTTP Request
 * nodes with the Calypso credential; it deletes webhook subscriptions, so it is run by hand) and the AI agent (it
 * needs a chat model: its OpenAI Chat Model node references an "OpenAI" credential that the user adds).
 */
const CUSTOM_API_CALL_EXAMPLE = { key: 'custom', file: 'custom-api-call-webhook-cleanup.json', id: 'calypsoExCustom01', title: 'Remove webhook subscriptions left behind (custom API call)' };
const AGENT_EXAMPLE = { key: 'agent', file: 'ai-agent-customer-support.json', id: 'calypsoExAgent01', title: 'AI agent answers support questions (needs a chat model)' };

/** The trigger example: waits for Calypso's events, so the demo does not run it; `npm run dev` imports it too. */
const TRIGGER_EXAMPLE = { key: 'trigger', file: 'calypso-trigger-deposits.json', id: 'calypsoExTrigDp1', title: 'Credit confirmed deposits (trigger)' };

/** @param {Array<{ file: string }>} [examples] default: EXAMPLES @returns {any[]} the example workflows, parsed */
function loadExamples(examples = EXAMPLES) {
	return examples.map(({ file }) => JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')));
}

/**
 * The demo data (the same as `node test/emulator/cli.js --seed demo`): customer demo-user-1 with a USDT_TRX purse and
 * 25 transactions an hour apart over the last 25 hours, in five currencies; 13 of them CONFIRMED.
 * @param {import('../test/emulator').Emulator} emu
 */
function seedDemo(emu) {
	const customer = emu.seedCustomer({ externalId: DEMO_EXTERNAL_ID, email: 'demo-user-1@example.com', description: 'Demo customer' });
	emu.seedPurse(customer.id, 'USDT_TRX');
	const transactions = emu.seedTransactions(customer.id, 25, {
		currency: ['USDT_TRX', 'TRX', 'USDT_TRX', 'USDC_TRX', 'USDT'],
		state: ['CONFIRMED', 'CONFIRMED', 'MEM_POOL_FOUND', 'PENDING_COMPLIANCE_CHECK', 'CONFIRMED', 'DECLINED'],
		stepMs: 3600000,
	});
	return { customer, transactions };
}

/** The credential to import, pointing at a running emulator. @param {import('../test/emulator').Emulator} emu */
function credentialFor(emu) {
	return [{ id: CREDENTIAL_ID, name: CREDENTIAL_NAME, type: 'calypsoPayApi', data: { ...emu.credentials } }];
}

/** The JSON of a node's first output, first run. @param {any} runData @param {string} node @returns {any[] | undefined} */
function nodeOutput(runData, node) {
	return runData?.[node]?.[0]?.data?.main?.[0]?.map((/** @type {any} */ item) => item.json);
}

const short = (/** @type {unknown} */ id) => (typeof id === 'string' && id.length > 12 ? `${id.slice(0, 8)}…` : String(id));

/**
 * A one-line, human summary of an example's execution, or undefined when its output is not what the example
 * produces when it works.
 * @param {string} key @param {any} runData
 */
function summarize(key, runData) {
	if (key === 'signup') {
		const customer = nodeOutput(runData, 'Get or create customer')?.[0];
		const purse = nodeOutput(runData, 'Deposit address')?.[0];
		if (!customer?.id || !purse?.address) return undefined;
		return `customer ${short(customer.id)} for ${customer.externalId} (created: ${customer.created}), ${purse.currency} address ${purse.address}`;
	}
	if (key === 'sweep') {
		const confirmed = nodeOutput(runData, 'Confirmed transactions');
		if (!confirmed) return undefined;
		const fresh = nodeOutput(runData, 'New since last run') ?? [];
		const totals = nodeOutput(runData, 'Totals per currency') ?? [];
		const parts = totals.map((t) => `${t.total} ${t.currency} (${t.deposits})`);
		return `${fresh.length} new confirmed deposit${fresh.length === 1 ? '' : 's'} of ${confirmed.length} confirmed` +
			(parts.length ? `: ${parts.join(', ')}` : ' (all swept by an earlier run)');
	}
	if (key === 'block') {
		const confirmed = nodeOutput(runData, 'Confirm')?.[0];
		if (!confirmed?.id) return undefined;
		return `customer ${short(confirmed.id)} (${confirmed.externalId}) blocked: ${confirmed.blocked}`;
	}
	return undefined;
}

/** The failing node and message of a failed execution, on one line. @param {any} execution from n8n-local's execute() */
function describeFailure(execution) {
	const error = execution.error ?? {};
	const node = error.node?.name ?? execution.result?.data?.resultData?.lastNodeExecuted;
	const message = String(error.message ?? 'unknown error').split('\n').find((l) => l.trim()) ?? 'unknown error';
	return `${node ? `node "${node}": ` : ''}${message}${error.description ? ` — ${error.description}` : ''}`;
}

module.exports = {
	EXAMPLES, TRIGGER_EXAMPLE, CUSTOM_API_CALL_EXAMPLE, AGENT_EXAMPLE, EXAMPLES_DIR, CREDENTIAL_ID, CREDENTIAL_NAME, DEMO_EXTERNAL_ID,
	loadExamples, seedDemo, credentialFor, nodeOutput, summarize, describeFailure,
};
