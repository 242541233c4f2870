// Declarations for http-endpoint.js. Structural types only: the linter forbids importing 'http' in any .ts file.

/** The Node request (an http.IncomingMessage), its body read into `rawBody` before the handler ran. */
export interface EndpointRequest {
	method?: string;
	url?: string;
	headers: Record<string, string | string[] | undefined>;
	rawBody: Buffer;
}

/** The Node response (an http.ServerResponse). */
export interface EndpointResponse {
	statusCode: number;
	headersSent: boolean;
	writableEnded: boolean;
	writeHead(status: number, headers?: Record<string, string | number>): unknown;
	end(body?: string): unknown;
}

/** Starts a loopback HTTP endpoint; a handler that throws answers 500. `url` has no trailing slash. */
export function startEndpoint(
	handler: (req: EndpointRequest, res: EndpointResponse) => Promise<void> | void,
): Promise<{ url: string; close: () => Promise<void> }>;
