// @ts-check
'use strict';
/**
 * A scripted OpenAI-compatible chat model on 127.0.0.1, for end-to-end tests of an n8n AI Agent: it answers
 * `POST …/chat/completions` (JSON, or server-sent events when the request asks for `stream`) with what a script
 * decides from the request — a tool call or a final answer — and records every request it received.
 * Point an OpenAI credential's Base URL at `baseUrl` (it ends in /v1).
 */
const http = require('node:http');

/**
 * @typedef {{ name: string, arguments: Record<string, unknown> }} ToolCall
 * @typedef {{ content: string } | { toolCalls: ToolCall[] }} Reply
 * @typedef {{ method: string, path: string, headers: http.IncomingHttpHeaders, body: any, reply?: Reply, error?: string }} ModelRequest
 * @typedef {(body: any, turn: number) => Reply} Script  turn: 0 for the first /chat/completions request
 */

/** @param {Reply} reply @param {string} model @param {number} turn */
function completion(reply, model, turn) {
	const message =
		'content' in reply
			? { role: 'assistant', content: reply.content }
			: {
					role: 'assistant',
					content: null,
					tool_calls: reply.toolCalls.map((call, i) => ({
						id: `call_${turn}_${i}`,
						type: 'function',
						function: { name: call.name, arguments: JSON.stringify(call.arguments) },
					})),
				};
	return {
		id: `chatcmpl-scripted-${turn}`,
		object: 'chat.completion',
		created: Math.floor(Date.now() / 1000),
		model,
		choices: [
			{ index: 0, message, logprobs: null, finish_reason: 'content' in reply ? 'stop' : 'tool_calls' },
		],
		usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
	};
}

/** The same completion as server-sent event chunks. @param {ReturnType<typeof completion>} full */
function chunks(full) {
	const { message, finish_reason } = full.choices[0];
	const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model };
	const delta = message.tool_calls
		? { role: 'assistant', tool_calls: message.tool_calls.map((c, index) => ({ index, ...c })) }
		: { role: 'assistant', content: message.content };
	return [
		{ ...base, choices: [{ index: 0, delta, finish_reason: null }] },
		{ ...base, choices: [{ index: 0, delta: {}, finish_reason }], usage: full.usage },
	];
}

/**
 * @param {Script} script
 * @returns {Promise<{ baseUrl: string, requests: ModelRequest[], close: () => Promise<void> }>}
 */
async function startScriptedModel(script) {
	/** @type {ModelRequest[]} */
	const requests = [];
	let turn = 0;
	const server = http.createServer((req, res) => {
		let raw = '';
		req.on('data', (d) => (raw += d));
		req.on('end', () => {
			/** @type {ModelRequest} */
			const entry = {
				method: String(req.method),
				path: String(req.url),
				headers: req.headers,
				body: undefined,
			};
			requests.push(entry);
			const fail = (/** @type {number} */ status, /** @type {string} */ message) => {
				entry.error = message;
				res.writeHead(status, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify({ error: { message, type: 'invalid_request_error' } }));
			};
			try {
				entry.body = raw ? JSON.parse(raw) : undefined;
			} catch {
				return fail(400, 'the body is not JSON');
			}
			if (req.method !== 'POST' || !String(req.url).endsWith('/chat/completions'))
				return fail(
					404,
					`the scripted model only answers POST /v1/chat/completions, not ${req.method} ${req.url}`,
				);
			try {
				entry.reply = script(entry.body, turn);
			} catch (error) {
				return fail(400, `the script refused the request: ${error instanceof Error ? error.message : error}`);
			}
			const full = completion(entry.reply, String(entry.body?.model ?? 'scripted'), turn++);
			if (entry.body?.stream) {
				res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
				for (const chunk of chunks(full)) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
				res.end('data: [DONE]\n\n');
			} else {
				res.writeHead(200, { 'Content-Type': 'application/json' });
				res.end(JSON.stringify(full));
			}
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
	const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
	return {
		baseUrl: `http://127.0.0.1:${port}/v1`,
		requests,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve(undefined));
			}),
	};
}

module.exports = { startScriptedModel };
