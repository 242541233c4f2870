// @ts-check
'use strict';
/**
 * A loopback HTTPS endpoint with a freshly made self-signed certificate (plain JavaScript, like http-endpoint.js:
 * the linter holds every .ts file to n8n Cloud's rules). The certificate is made by the `openssl` command, for
 * CN=localhost and 127.0.0.1, valid for two days; nothing trusts it, as nothing trusts a proxy's own certificate
 * until the n8n host is told to. Every request that gets through the handshake is recorded and answered
 * `{"customers": []}` (Calypso's answer to the credential Test).
 */
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

/** @returns {{ key: string, cert: string }} */
function selfSignedCertificate() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'calypso-tls-'));
	try {
		const keyFile = path.join(dir, 'key.pem');
		const certFile = path.join(dir, 'cert.pem');
		execFileSync(
			'openssl',
			[
				'req',
				'-x509',
				'-newkey',
				'ec',
				'-pkeyopt',
				'ec_paramgen_curve:prime256v1',
				'-nodes',
				'-subj',
				'/CN=localhost',
				'-addext',
				'subjectAltName=DNS:localhost,IP:127.0.0.1',
				'-days',
				'2',
				'-keyout',
				keyFile,
				'-out',
				certFile,
			],
			{ stdio: 'ignore' },
		);
		return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

/** @returns {Promise<{ url: string, received: string[], close: () => Promise<void> }>} */
async function startSelfSignedEndpoint() {
	/** @type {string[]} */
	const received = [];
	const server = https.createServer(selfSignedCertificate(), (req, res) => {
		received.push(`${req.method} ${req.url}`);
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end('{"customers": []}');
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
	const address = /** @type {import('node:net').AddressInfo} */ (server.address());
	return {
		url: `https://127.0.0.1:${address.port}`,
		received,
		close: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

module.exports = { startSelfSignedEndpoint };
