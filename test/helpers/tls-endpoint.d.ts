// Declarations for tls-endpoint.js.

/** Starts a loopback HTTPS endpoint with a self-signed certificate; `received` lists the requests that got through. */
export function startSelfSignedEndpoint(): Promise<{
	url: string;
	received: string[];
	close: () => Promise<void>;
}>;
