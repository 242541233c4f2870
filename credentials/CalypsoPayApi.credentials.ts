import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

import { DEFAULT_BASE_URL, signRequest } from '../nodes/CalypsoPay/transport/signing';

/**
 * The credential's Test is not a declarative `test` here but a function both nodes name as `testedBy`
 * (nodes/CalypsoPay/transport/credentialTest.ts): n8n reports a declarative test that gets no answer with the bare
 * socket code (ECONNREFUSED), while the function says what happened and what to check.
 */
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
}
