/** One emulator per test file, started on loopback, with the matching credential. */
import { createEmulator } from '../emulator';
import type { Emulator, EmulatorOptions } from '../emulator';
import { secretsToScan, shutdownEngine } from './engine';

export interface TestServer {
	emulator: Emulator;
	credentials: { apiKey: string; apiSecret: string; account: string; baseUrl: string };
}

export function useEmulator(options: EmulatorOptions = {}): TestServer {
	const server = {} as TestServer;
	beforeAll(async () => {
		server.emulator = createEmulator(options);
		// Every Sign header sent must stay out of what n8n returns, like the secret itself.
		server.emulator.onRequest = (request) => {
			if (request.headers.sign) secretsToScan.add(request.headers.sign);
		};
		await server.emulator.start(0);
		server.credentials = { ...server.emulator.credentials };
	});
	beforeEach(() => {
		server.emulator.reset();
		server.emulator.options.maxPageSize = options.maxPageSize ?? 100;
		server.emulator.options.latencyMs = options.latencyMs ?? 0;
		server.emulator.options.clockOffsetMs = options.clockOffsetMs ?? 0;
		server.emulator.options.clock = options.clock ?? (() => Date.now());
	});
	afterAll(async () => {
		await server.emulator.stop();
		shutdownEngine();
	});
	return server;
}
