import { NodeOperationError } from 'n8n-workflow';
import type { INode } from 'n8n-workflow';

/** The operation n8n adds to a node with a credential as "Custom API Call". */
export const CUSTOM_API_CALL = '__CUSTOM_API_CALL__';

/** What to use instead: an HTTP Request node with this package's credential signs any Calypso endpoint. */
export function customApiCallError(node: INode): NodeOperationError {
	return new NodeOperationError(
		node,
		'Custom API calls go through an HTTP Request node with the "Calypso Pay API" credential',
		{
			description:
				'Add an HTTP Request node: Authentication "Predefined Credential Type", Credential Type "Calypso Pay API", Method POST (or DELETE where Calypso says so), URL the full Calypso endpoint (e.g. https://api.calypso.money/api/v1/subscription/webhook). Send Body as JSON {"payload": {…}} with the API fields inside "payload", or no body when the call takes no payload: the credential adds account and timestamp and signs the request. See "Custom API call" in the README.',
		},
	);
}
