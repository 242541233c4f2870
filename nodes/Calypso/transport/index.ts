import type { IDataObject, IExecuteFunctions, IHttpRequestOptions, INode } from 'n8n-workflow';

import { calypsoApiError, calypsoNetworkError, type ErrorContext } from './errors';

/** The only module that talks HTTP. Every request goes through `calypsoRequest`, signed by the credential. */
export const CUSTOMER_PURSE = '/api/v1/customer-purse/';
export const DEFAULT_TIMEOUT_MS = 30_000;

type RequestContext = Pick<IExecuteFunctions, 'getNode' | 'helpers'>;

interface FullResponse {
	statusCode: number;
	headers?: Record<string, unknown>;
	body: unknown;
}

export interface RequestOptions extends ErrorContext {
	timeoutMs?: number;
}

function parseBody(body: unknown): unknown {
	if (typeof body !== 'string') return body;
	try {
		return JSON.parse(body);
	} catch {
		return body;
	}
}

function clockSkewMs(headers: Record<string, unknown> | undefined, sentAt: number): number | undefined {
	const date = headers?.date;
	if (typeof date !== 'string') return undefined;
	const server = Date.parse(date);
	return Number.isNaN(server) ? undefined : server - sentAt;
}

/**
 * POST `{baseUrl}/api/v1/customer-purse/{path}` with `{payload}`; the credential adds account, timestamp,
 * Key and Sign when the request is built. Returns the parsed JSON answer or throws a NodeApiError in Calypso's terms.
 */
export async function calypsoRequest(
	this: RequestContext,
	path: string,
	payload: IDataObject,
	options: RequestOptions = {},
): Promise<IDataObject> {
	const node: INode = this.getNode();
	const request: IHttpRequestOptions = {
		method: 'POST',
		url: CUSTOMER_PURSE + path,
		body: { payload },
		json: true,
		returnFullResponse: true,
		ignoreHttpStatusErrors: true,
		timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
	};
	const sentAt = Date.now();
	let response: FullResponse;
	try {
		response = (await this.helpers.httpRequestWithAuthentication.call(
			this as IExecuteFunctions,
			'calypsoApi',
			request,
		)) as FullResponse;
	} catch (error) {
		throw calypsoNetworkError(node, error, options);
	}
	const body = parseBody(response.body);
	if (response.statusCode >= 200 && response.statusCode < 300 && body && typeof body === 'object') {
		return body as IDataObject;
	}
	throw calypsoApiError(node, response.statusCode, body, {
		...options,
		clockSkewMs: clockSkewMs(response.headers, sentAt),
	});
}

export interface FindOptions {
	returnAll: boolean;
	limit: number;
	pageSize: number;
	itemIndex?: number;
}

/** Upper bound on pages fetched by one Find, whatever the server says, so a misbehaving server cannot loop us. */
export const MAX_PAGES = 10_000;

/**
 * The one pagination loop: pages from 1, follows the response's own `page` and `total` (pages), stops on an
 * empty page, on the last page, or once `limit` items are in hand. Each page is its own freshly signed request.
 */
export async function findAll(
	this: RequestContext,
	path: string,
	query: IDataObject,
	options: FindOptions,
): Promise<IDataObject[]> {
	const items: IDataObject[] = [];
	const want = options.returnAll ? Infinity : options.limit;
	// One size for every page: page N means items (N-1)*size.., so the size must not change between pages.
	const pageSize = Math.min(options.pageSize, want);
	let pageNumber = 1;
	for (let fetched = 0; fetched < MAX_PAGES && items.length < want; fetched++) {
		const page = await calypsoRequest.call(this, path, { ...query, pageNumber, pageSize }, {
			itemIndex: options.itemIndex,
			where: `page ${pageNumber}, ${items.length} items fetched before it`,
		});
		const result = Array.isArray(page.result) ? (page.result as IDataObject[]) : [];
		items.push(...result);
		const current = typeof page.page === 'number' && page.page >= pageNumber ? page.page : pageNumber;
		const totalPages = typeof page.total === 'number' ? page.total : undefined;
		if (result.length === 0 || (totalPages !== undefined && current >= totalPages)) break;
		pageNumber = current + 1;
	}
	return options.returnAll ? items : items.slice(0, options.limit);
}
