import { runNode } from '../helpers/engine';
import { useEmulator } from '../helpers/calypso';

const server = useEmulator();

describe('"Custom API Call" (the operation n8n adds to the node)', () => {
	test.each(['customer', 'purse', 'transaction'])(
		'on %s: says to use an HTTP Request node with the Calypso Pay API credential and a {"payload": …} body; nothing is sent',
		async (resource) => {
			const run = await runNode(server.credentials, { resource, operation: '__CUSTOM_API_CALL__' });
			expect(run.status).toBe('error');
			expect(run.error?.message).toBe(
				'Custom API calls go through an HTTP Request node with the "Calypso Pay API" credential',
			);
			const description = String(run.error?.description);
			expect(description).toContain('Predefined Credential Type');
			expect(description).toContain('{"payload": {…}}');
			expect(description).toContain('https://api.calypso.money/api/v1/subscription/webhook');
			expect(server.emulator.requests).toHaveLength(0);
		},
	);

	test('as the resource (n8n lists it among the resources too): the same message, not "Could not get parameter"', async () => {
		const run = await runNode(server.credentials, { resource: '__CUSTOM_API_CALL__' });
		expect(run.status).toBe('error');
		expect(run.error?.message).toBe(
			'Custom API calls go through an HTTP Request node with the "Calypso Pay API" credential',
		);
		expect(String(run.error?.description)).toContain('Predefined Credential Type');
		expect(server.emulator.requests).toHaveLength(0);
	});

	test('any other unknown operation is still named as unknown', async () => {
		const run = await runNode(server.credentials, { resource: 'customer', operation: 'explode' });
		expect(run.error?.message).toBe('The operation "explode" is not known for "customer"');
	});
});
