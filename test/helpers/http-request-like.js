// @ts-check
'use strict';
/**
 * A stand-in for n8n's HTTP Request node (n8n-nodes-base V3, version 4.4+ defaults) used with the Calypso Pay API
 * credential: it hands n8n the legacy request options that node builds (`uri`, follow all redirects, credentials not
 * re-sent on a cross-origin redirect) through `requestWithAuthentication`. Plain JavaScript because that helper is
 * what the real node calls, and the linter holds .ts files to the package's rules (it is deprecated for nodes).
 */
class HttpRequestLike {
	constructor() {
		this.description = {
			displayName: 'HTTP Request (as n8n-nodes-base V3 builds it)',
			name: 'httpRequestLike',
			group: ['transform'],
			version: 1,
			description: 'test',
			defaults: { name: 'HTTP' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'calypsoPayApi', required: true }],
			properties: [
				{ displayName: 'URL', name: 'url', type: 'string', default: '' },
				{ displayName: 'Payload', name: 'payload', type: 'json', default: '{}' },
			],
		};
	}

	/** @this {any} */
	async execute() {
		const uri = this.getNodeParameter('url', 0);
		const payload = JSON.parse(String(this.getNodeParameter('payload', 0)));
		const response = await this.helpers.requestWithAuthentication.call(this, 'calypsoPayApi', {
			headers: {},
			method: 'POST',
			uri,
			body: { payload },
			json: true,
			gzip: true,
			followRedirect: true,
			followAllRedirects: true,
			resolveWithFullResponse: true,
			simple: false,
			sendCredentialsOnCrossOriginRedirect: false,
		});
		return [[{ json: { statusCode: response.statusCode } }]];
	}
}

module.exports = { HttpRequestLike };
