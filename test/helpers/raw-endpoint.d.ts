// Declarations for raw-endpoint.js. Structural types only: the linter forbids importing 'net' in any .ts file.

export interface RawSocket {
	write(data: string | Buffer): unknown;
	end(data?: string | Buffer): unknown;
	destroy(): unknown;
	resetAndDestroy?(): unknown;
}

export interface RawRequest {
	head: string;
	body: string;
}

export function startRawEndpoint(
	respond: (request: RawRequest, socket: RawSocket) => void,
	options?: { host?: string },
): Promise<{
	url: string;
	port: number;
	received: RawRequest[];
	open: () => number;
	allClosed: (ms: number) => Promise<void>;
	close: () => Promise<void>;
}>;

/** Writes `text` one character every `everyMs` (until done or stopped); returns the stop function. */
export function trickle(socket: RawSocket, text: string, everyMs: number): () => void;

/** `text` gzip-compressed. */
export function gzip(text: string): Buffer;
