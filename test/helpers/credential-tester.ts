/**
 * n8n's "Test credential" button for the Calypso Pay API credential, reproduced step by step from n8n's
 * CredentialsTester (packages/cli/src/services/credentials-tester.service.ts; checked against n8n 2.41.1's and
 * 1.123's dist/services/credentials-tester.service.js, `getCredentialTestFunction` and `testCredentials`): the
 * credential has no declarative `test`, so n8n looks for a node that names the credential with a `testedBy`, takes
 * that node's `methods.credentialTest[testedBy]`, fills in the credential's defaults and calls the function with
 * n8n-core's own CredentialTestContext as `this` (its `helpers.request` is n8n's legacy request helper). Only the n8n
 * server around it (database, credential encryption, error reporter) is left out. The result is scanned for secrets
 * like every run.
 */
import { CredentialTestContext } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestFunction,
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
	INodeType,
} from 'n8n-workflow';

import { CalypsoPayApi } from '../../credentials/CalypsoPayApi.credentials';
import { CalypsoPay } from '../../nodes/CalypsoPay/CalypsoPay.node';
import { CalypsoPayTrigger } from '../../nodes/CalypsoPayTrigger/CalypsoPayTrigger.node';
import { testCredential as runCredentialTest } from '../../nodes/CalypsoPay/transport/credentialTest';
import { createAdditionalData, scanForSecrets, secretsToScan } from './engine';

const credentialType = new CalypsoPayApi();
/** The package's nodes, as n8n lists the nodes that support the credential. */
export const supportedNodes: INodeType[] = [new CalypsoPay(), new CalypsoPayTrigger()];

/**
 * CredentialsTester.getCredentialTestFunction: the credential's own declarative `test` first; else the first node
 * naming the credential with a `testedBy` string gives its `methods.credentialTest[testedBy]`.
 */
export function credentialTestFunction(): ICredentialTestFunction | 'declarative' | undefined {
	if ((credentialType as { test?: unknown }).test) return 'declarative';
	for (const node of supportedNodes) {
		for (const { name, testedBy } of node.description.credentials ?? []) {
			if (name === credentialType.name && typeof testedBy === 'string')
				return node.methods?.credentialTest?.[testedBy];
		}
	}
	return undefined;
}

/** The credential data as n8n hands it to the test: unset properties take their defaults. */
function withDefaults(data: ICredentialDataDecryptedObject): ICredentialsDecrypted {
	const filled: ICredentialDataDecryptedObject = { ...data };
	for (const property of credentialType.properties) {
		if (filled[property.name] === undefined) filled[property.name] = property.default as string;
	}
	return { id: 'cred-1', name: 'Calypso account', type: credentialType.name, data: filled };
}

/** n8n-core's CredentialTestContext (n8n 2.x passes the additional data, which 1.x's constructor does not take). */
export function credentialTestContext(data: ICredentialDataDecryptedObject): ICredentialTestFunctions {
	const workflowData = {
		id: 'wf',
		name: 'credential test',
		nodes: [],
		connections: {},
		active: false,
		settings: {},
	} as never;
	return Reflect.construct(CredentialTestContext, [
		createAdditionalData(data, workflowData),
	]) as ICredentialTestFunctions;
}

/** The Test as n8n runs it for this credential data. */
export async function testCredential(
	data: ICredentialDataDecryptedObject,
): Promise<INodeCredentialTestResult> {
	secretsToScan.add(String(data.apiSecret ?? ''));
	const test = credentialTestFunction();
	if (typeof test !== 'function') throw new Error(`the credential's Test is ${test ?? 'missing'}`);
	const credentials = withDefaults(data);
	const result = await test.call(credentialTestContext(credentials.data!), credentials);
	scanForSecrets(result);
	return result;
}

/** The Test with another time bound than the nodes' (CREDENTIAL_TEST_TIMEOUT_MS), on the same context. */
export async function testCredentialWithin(
	data: ICredentialDataDecryptedObject,
	timeoutMs: number,
): Promise<INodeCredentialTestResult> {
	secretsToScan.add(String(data.apiSecret ?? ''));
	const credentials = withDefaults(data);
	const result = await runCredentialTest(credentialTestContext(credentials.data!), credentials, timeoutMs);
	scanForSecrets(result);
	return result;
}
