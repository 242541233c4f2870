#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * End-to-end test of the Calypso Pay node as an AI agent's tool, in a REAL n8n (scripts/n8n-local.js; N8N_LINE picks
 * the n8n line):  node test/e2e/agent.e2e.js [--no-build] [--verbose]
 *
 * The workflow is examples/ai-agent-customer-support.json: Manual Trigger → Question → AI Agent with an OpenAI Chat
 * Model and three Calypso Pay Tools (find a customer by user ID, deposit address, recent transactions), whose IDs the
 * model fills with $fromAI. The OpenAI credential's Base URL points at a scripted OpenAI-compatible model started
 * here (./scripted-model.js); the Calypso credential at the emulator, seeded with the demo data.
 *
 * The scripted model acts only on what n8n sends it: on the first turn it picks the tool whose description says it
 * finds customers by external ID, reads that tool's parameter names and descriptions from the schema, and calls it
 * with the user ID it finds in the user's message; on the second turn it answers from the tool result it received.
 * Checked: the tool schema n8n sends (names, parameters, descriptions), the signed request at the emulator, the tool
 * result handed back to the model, and the agent's answer.
 * Then the same agent with its customer tool as Customer → Get, the Customer given By External ID (a resource
 * locator holding the $fromAI): the model's user ID is looked up once and the customer got by its ID.
 *
 * Prints one line per check and "N passed, M failed"; exits 1 on any failure.
 */
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, tally, say, secs, check, n8nOutput, runScript, cleanUpUserFolder } = require('./checks');
const { ensureN8n, createUserFolder, N8N_VERSION } = require('../../scripts/n8n-local');
const { createEmulator, sign } = require('../emulator');
const { credentialFor, seedDemo, describeFailure, DEMO_EXTERNAL_ID } = require('../../scripts/examples');
const { startScriptedModel } = require('./scripted-model');

const EXAMPLE_FILE = path.join(ROOT, 'examples', 'ai-agent-customer-support.json');
const OPENAI_KEY = 'sk-scripted-model-not-a-secret';
const AGENT = 'Support agent';

const args = new Set(process.argv.slice(2));
const VERBOSE = args.has('--verbose');
const TIMEOUT_MS = 4 * 60 * 1000;

/** The text of a chat message (a string, or content parts). @param {any} message @returns {string} */
const textOf = (message) =>
	typeof message?.content === 'string'
		? message.content
		: (message?.content ?? []).map((/** @type {any} */ part) => part?.text ?? '').join('');

/**
 * The model: a tool call by the tool descriptions and parameter descriptions n8n sent, then an answer from the
 * tool result. Throws (the server answers 400, the agent fails) when the request gives it nothing to act on.
 * @type {import('./scripted-model').Script}
 */
function script(body) {
	const messages = body.messages ?? [];
	const result = messages.findLast((/** @type {any} */ m) => m.role === 'tool');
	if (!result) {
		const tool = (body.tools ?? []).find((/** @type {any} */ t) =>
			/\bexternal id\b/i.test(t.function?.description),
		);
		if (!tool) throw new Error('no tool says it finds customers by external ID');
		const [param] =
			Object.entries(tool.function.parameters?.properties ?? {}).find(([, p]) =>
				/user id/i.test(/** @type {any} */ (p).description ?? ''),
			) ?? [];
		if (!param) throw new Error(`tool ${tool.function.name} has no parameter described as a user ID`);
		const question = textOf(messages.findLast((/** @type {any} */ m) => m.role === 'user'));
		const userId = /\b(?:[a-z0-9]+-)*user-\d+\b/i.exec(question)?.[0];
		if (!userId) throw new Error(`no user ID in the question: ${question}`);
		return { toolCalls: [{ name: tool.function.name, arguments: { [param]: userId } }] };
	}
	const content = textOf(result);
	const id = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.exec(content)?.[0];
	const email = /"email"\s*:\s*"([^"]+)"/.exec(content)?.[1];
	const blocked = /"blocked"\s*:\s*(true|false)/.exec(content)?.[1];
	if (!id || !email || !blocked) throw new Error(`the tool result has no customer: ${content.slice(0, 300)}`);
	return {
		content: `Customer ID ${id}, email ${email}; ${blocked === 'true' ? 'blocked' : 'not blocked'}.`,
	};
}

/**
 * The example with its customer tool as Customer → Get, the Customer By External ID from the model's $fromAI (the
 * same $fromAI the example's Get by External ID tool has), and a tool description saying so.
 * @param {any} example
 */
function locatorVariant(example) {
	const variant = JSON.parse(JSON.stringify(example));
	variant.id = 'calypsoExAgentRl';
	variant.name = `${example.name} (Customer by External ID)`;
	const tool = variant.nodes.find((/** @type {any} */ n) => n.name === 'Find customer by user ID');
	tool.parameters = {
		resource: 'customer',
		operation: 'get',
		customerId: { __rl: true, mode: 'externalId', value: tool.parameters.externalId },
		descriptionType: 'manual',
		toolDescription: 'Get a customer by external ID (our own user ID) in Calypso Pay',
	};
	return variant;
}

async function main() {
	await ensureN8n({ log: (line) => say(`[n8n install] ${line}`) });
	const workflow = JSON.parse(fs.readFileSync(EXAMPLE_FILE, 'utf8'));
	const fromAi = (/** @type {string} */ node) =>
		Object.fromEntries(
			Object.values(workflow.nodes.find((/** @type {any} */ n) => n.name === node).parameters)
				.map((v) => /\$fromAI\('(\w+)', '([^']+)', 'string'\)/.exec(String(v)))
				.filter((m) => m !== null)
				.map((m) => [/** @type {string[]} */ (m)[1], /** @type {string[]} */ (m)[2]]),
		);

	const emu = createEmulator();
	const { customer } = seedDemo(emu);
	await emu.start(0);
	const model = await startScriptedModel(script);
	/** @type {string | undefined} */ let userFolder;
	try {
		const uf = await createUserFolder({ name: `e2e-agent-${process.pid}`, packageDir: ROOT });
		userFolder = uf.userFolder;
		await uf.importCredentials([
			...credentialFor(emu),
			{
				id: 'openai-demo',
				name: 'OpenAI',
				type: 'openAiApi',
				data: { apiKey: OPENAI_KEY, url: model.baseUrl },
			},
		]);
		const id = await uf.importWorkflow(workflow);
		const x = await uf.execute(id);
		const chats = model.requests.filter((r) => r.path.endsWith('/chat/completions'));
		say(
			`AI agent with Calypso Pay Tools [n8n ${N8N_VERSION}, ${secs(x.ms)}, ${chats.length} model requests, ${emu.requests.length} Calypso requests]`,
		);

		check('the workflow succeeds', () => {
			if (!x.ok) assert.fail(`execution failed: ${describeFailure(x)}`);
		});
		check('the model was asked twice, with the OpenAI credential, and refused nothing', () => {
			assert.deepEqual(
				model.requests.map((r) => `${r.method} ${r.path}${r.error ? ` → ${r.error}` : ''}`),
				['POST /v1/chat/completions', 'POST /v1/chat/completions'],
			);
			assert.ok(chats.every((r) => r.headers.authorization === `Bearer ${OPENAI_KEY}`));
		});

		const tools = Object.fromEntries(
			(chats[0]?.body?.tools ?? []).map((/** @type {any} */ t) => [t.function?.name, t.function]),
		);
		check(
			'n8n offers the three Calypso Pay Tools, named after their nodes, described by their operation',
			() => {
				assert.deepEqual(Object.keys(tools).sort(), [
					'Deposit_address',
					'Find_customer_by_user_ID',
					'Recent_transactions',
				]);
				assert.match(tools.Find_customer_by_user_ID.description, /customers? by external ID.*Calypso Pay/i);
				assert.match(tools.Deposit_address.description, /deposit address.*Calypso Pay/i);
				assert.match(tools.Recent_transactions.description, /transactions.*Calypso Pay/i);
			},
		);
		check(
			'each tool schema names exactly the parameters the model fills, required, with their $fromAI descriptions',
			() => {
				for (const [name, node] of [
					['Find_customer_by_user_ID', 'Find customer by user ID'],
					['Deposit_address', 'Deposit address'],
					['Recent_transactions', 'Recent transactions'],
				]) {
					const expected = fromAi(node);
					const schema = tools[name]?.parameters;
					assert.equal(schema?.type, 'object', name);
					assert.deepEqual(Object.keys(schema.properties ?? {}).sort(), Object.keys(expected).sort(), name);
					assert.deepEqual([...(schema.required ?? [])].sort(), Object.keys(expected).sort(), name);
					for (const [key, description] of Object.entries(expected)) {
						assert.equal(schema.properties[key].type, 'string', `${name}.${key}`);
						assert.equal(schema.properties[key].description, description, `${name}.${key}`);
					}
				}
				assert.match(tools.Find_customer_by_user_ID.parameters.properties.externalId.description, /user ID/);
				assert.match(tools.Deposit_address.parameters.properties.customerId.description, /UUID/);
			},
		);

		check('the tool call reached the emulator once, signed, for the external ID from the question', () => {
			assert.equal(emu.requests.length, 1);
			const [request] = emu.requests;
			assert.equal(request.path, '/api/v1/customer-purse/customer/external/get');
			assert.deepEqual(request.body?.payload, { externalId: DEMO_EXTERNAL_ID });
			assert.equal(request.headers.key, emu.credentials.apiKey);
			assert.equal(request.headers.sign, sign(emu.credentials.apiSecret, request.rawBody));
			assert.equal(request.status, 200);
		});
		check('the model got the customer Calypso returned as the tool result of its call', () => {
			const messages = chats[1]?.body?.messages ?? [];
			const call = messages.find((/** @type {any} */ m) => m.role === 'assistant' && m.tool_calls?.length);
			const result = messages.find((/** @type {any} */ m) => m.role === 'tool');
			assert.equal(call?.tool_calls?.[0]?.function?.name, 'Find_customer_by_user_ID');
			assert.equal(result?.tool_call_id, call.tool_calls[0].id);
			const content = textOf(result);
			for (const value of [customer.id, customer.email, DEMO_EXTERNAL_ID])
				assert.ok(content.includes(String(value)), `${value} in ${content}`);
			assert.ok(!content.includes(emu.credentials.apiSecret), 'no secret in what the model sees');
		});
		check("the agent's answer carries the customer", () => {
			const [answer] = x.runData?.[AGENT]?.[0]?.data?.main?.[0] ?? [];
			assert.equal(answer?.json?.output, `Customer ID ${customer.id}, email ${customer.email}; not blocked.`);
		});
		if (tally.failed && (VERBOSE || !x.result)) say(n8nOutput(x, VERBOSE));

		// The same agent, its customer tool now Customer → Get with the Customer given By External ID (a resource
		// locator whose value is the model's $fromAI): the model passes the user ID, the node resolves it.
		const failedBefore = tally.failed;
		const variant = locatorVariant(workflow);
		const chatsBefore = chats.length;
		const emuBefore = emu.requests.length;
		const y = await uf.execute(await uf.importWorkflow(variant));
		const chats2 = model.requests.filter((r) => r.path.endsWith('/chat/completions')).slice(chatsBefore);
		const calls = emu.requests.slice(emuBefore);
		say(
			`AI agent, Customer By External ID filled by the model [${secs(y.ms)}, ${chats2.length} model requests, ${calls.length} Calypso requests]`,
		);
		check('the workflow succeeds', () => {
			if (!y.ok) assert.fail(`execution failed: ${describeFailure(y)}`);
		});
		check("the locator's $fromAI is the tool's one parameter, with its description", () => {
			const tool = (chats2[0]?.body?.tools ?? []).find(
				(/** @type {any} */ t) => t.function?.name === 'Find_customer_by_user_ID',
			)?.function;
			assert.deepEqual(Object.keys(tool?.parameters?.properties ?? {}), ['externalId']);
			assert.deepEqual(tool.parameters.required, ['externalId']);
			assert.match(tool.parameters.properties.externalId.description, /user ID/);
		});
		check('the user ID the model gave is looked up once, then the customer is got by its ID', () => {
			assert.deepEqual(
				calls.map((r) => [r.path.replace('/api/v1/customer-purse/', ''), r.body?.payload]),
				[
					['customer/external/get', { externalId: DEMO_EXTERNAL_ID }],
					['customer/get', { customerId: customer.id }],
				],
			);
			assert.ok(calls.every((r) => r.status === 200));
		});
		check("the agent's answer carries the customer", () => {
			const [answer] = y.runData?.[AGENT]?.[0]?.data?.main?.[0] ?? [];
			assert.equal(answer?.json?.output, `Customer ID ${customer.id}, email ${customer.email}; not blocked.`);
		});
		if (tally.failed > failedBefore && (VERBOSE || !y.result)) say(n8nOutput(y, VERBOSE));
	} catch (error) {
		tally.failed++;
		say(`✘ the agent e2e could not run: ${error instanceof Error ? error.stack : error}`);
	} finally {
		await model.close();
		await emu.stop();
		cleanUpUserFolder(userFolder);
	}
}

runScript('agent e2e', TIMEOUT_MS, main);
