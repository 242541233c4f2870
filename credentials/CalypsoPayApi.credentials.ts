import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { DEFAULT_BASE_URL, signRequest } from '../nodes/CalypsoPay/transport/signing';
import { HINTS } from '../nodes/CalypsoPay/transport/errors';

const failWhen = (errorCode: string, message: string) => ({
	type: 'responseSuccessBody' as const,
	properties: { key: 'errorCode', value: errorCode, message },
});

export class CalypsoPayApi implements ICredentialType {
	name = 'calypsoPayApi';

	displayName = 'Calypso Pay API';

	icon: Icon = { light: 'file:../nodes/CalypsoPay/calypso.svg', dark: 'file:../nodes/CalypsoPay/calypso.dark.svg' };

	documentationUrl = 'https://github.com/calypso-n8n/n8n-nodes-calypso-pay#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'The public API key from the Calypso dashboard (Settings → API keys)',
		},
		{
			displayName: 'Secret Key',
			name: 'apiSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'The secret key shown once when the API key was created. Used only to sign requests; never sent.',
		},
		{
			displayName: 'Merchant Account',
			name: 'account',
			type: 'string',
			default: '',
			required: true,
			placeholder: '0x0123456789abcdef0123456789abcdef01234567',
			description: 'Your merchant account ID: 0x followed by 40 hexadecimal characters',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: DEFAULT_BASE_URL,
			description:
				"The Calypso API host, without a path: https://api.calypso.money (the API reference's host), https://api.calypso.finance (the older host of Calypso's guides), or a proxy or emulator URL",
		},
	];

	authenticate = async (
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> => signRequest(credentials, requestOptions);

	/**
	 * A signed, read-only lookup, answered `{customers: [...]}` by Calypso whatever the external ID. HTTP errors do
	 * not stop the request, so the rules see every answer: Calypso's documented error codes each get their own
	 * message, and any answer without the `customers` list (another server's 404 or welcome page, a JSON error
	 * without errorCode, an unlisted code) fails, so the Test passes only on Calypso's success. The Base URL comes
	 * from `authenticate`, checked and normalised like every request's.
	 */
	test: ICredentialTestRequest = {
		request: {
			url: '/api/v1/customer-purse/customer/external/get',
			method: 'POST',
			body: { payload: { externalId: 'n8n-credential-test' } },
			ignoreHttpStatusErrors: true,
			// A redirect would take the Key header and the signed body elsewhere: its answer fails the rules instead.
			disableFollowRedirect: true,
		},
		rules: [
			failWhen('002', `Calypso error 002: invalid API key. ${HINTS['002']}`),
			failWhen('003', `Calypso error 003: wrong sign. ${HINTS['003']}`),
			failWhen('011', `Calypso error 011: invalid timestamp. ${HINTS['011']}`),
			failWhen(
				'001',
				'Calypso error 001: bad request. Check that the Merchant Account belongs to this API key.',
			),
			failWhen('000', 'Calypso error 000: internal error at Calypso. Try again later.'),
			{
				type: 'responseSuccessBody',
				// n8n compares the value at `key` with `value`: undefined means the answer has no customers list.
				properties: {
					key: 'customers',
					value: undefined,
					message: `The Base URL did not answer like Calypso: the signed test call (POST /api/v1/customer-purse/customer/external/get) did not get Calypso's successful answer. Check the Base URL: the scheme and host of the Calypso API, such as ${DEFAULT_BASE_URL}.`,
				},
			},
		],
	};
}
