// @ts-check
'use strict';
/**
 * A loopback TCP endpoint that answers an HTTP request with whatever bytes a test writes (plain JavaScript: the
 * linter forbids `node:net` in .ts files). It reads the request's head and Content-Length body, records it, then
 * hands the raw request and the socket to `respond`. `open` counts the connections still open (server side).
 */
const net = require('node:net');
const zlib = require('node:zlib');

/**
 * @param {(request: { head: string, body: string }, socket: net.Socket) => void} respond
 * @param {{ host?: string }} [options]
 */
async function startRawEndpoint(respond, options = {}) {
	const host = options.host ?? '127.0.0.1';
	/** @type {{ head: string, body: string }[]} */
	const received = [];
	/** @type {Set<net.Socket>} */
	const sockets = new Set();
	/** @type {Array<() => void>} */
	let waiters = [];
	const server = net.createServer((socket) => {
		sockets.add(socket);
		socket.on('error', () => {});
		socket.on('close', () => {
			sockets.delete(socket);
			const w = waiters;
			waiters = [];
			w.forEach((f) => f());
		});
		let data = Buffer.alloc(0);
		let done = false;
		socket.on('data', (chunk) => {
			if (done) return;
			data = Buffer.concat([data, chunk]);
			const end = data.indexOf('\r\n\r\n');
			if (end < 0) return;
			const head = data.subarray(0, end).toString('latin1');
			const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
			if (data.length < end + 4 + length) return;
			done = true;
			const request = { head, body: data.subarray(end + 4, end + 4 + length).toString() };
			received.push(request);
			respond(request, socket);
		});
	});
	await new Promise((resolve) => server.listen(0, host, () => resolve(undefined)));
	const { port } = /** @type {net.AddressInfo} */ (server.address());
	return {
		url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
		port,
		received,
		open: () => sockets.size,
		/** Resolves once no connection is open, or after `ms` (then `open()` tells). @param {number} ms */
		allClosed: (ms) =>
			new Promise((resolve) => {
				if (sockets.size === 0) return resolve(undefined);
				const timer = setTimeout(resolve, ms);
				const check = () => {
					if (sockets.size === 0) {
						clearTimeout(timer);
						resolve(undefined);
					} else waiters.push(check);
				};
				waiters.push(check);
			}),
		close: () =>
			new Promise((resolve) => {
				for (const s of sockets) s.destroy();
				server.close(() => resolve(undefined));
			}),
	};
}

/**
 * Writes `text` to the socket one character every `everyMs` until done or stopped; returns the stop function.
 * @param {net.Socket} socket @param {string} text @param {number} everyMs
 */
function trickle(socket, text, everyMs) {
	let i = 0;
	const timer = setInterval(() => {
		if (i >= text.length || socket.destroyed) return clearInterval(timer);
		socket.write(text[i++]);
	}, everyMs);
	timer.unref();
	return () => clearInterval(timer);
}

/** @param {string} text */
const gzip = (text) => zlib.gzipSync(text);

module.exports = { startRawEndpoint, trickle, gzip };
