// Declarations for http-request-like.js.
import type { INodeType } from 'n8n-workflow';

/** n8n's HTTP Request node's call of the credential, reduced: POST `url` with `{payload}`, redirects followed. */
export class HttpRequestLike implements INodeType {
	description: INodeType['description'];
	execute: NonNullable<INodeType['execute']>;
}
