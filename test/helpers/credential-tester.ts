/**
 * n8n's "Test credential" button for a credential whose `test` is a declarative request, reproduced step by step
 * from n8n's CredentialsTester (packages/cli/src/services/credentials-tester.service.ts; checked against n8n
 * 2.41.1's dist/services/credentials-tester.service.js, `runRequestTest` with the default verdict): a temporary copy of the
 * NoOp node whose single property routes `test.request`, run by n8n-core's own RoutingNode with the decrypted
 * credential, then `test.rules` applied to the first output item. Only the n8n server around it (database,
 * credential encryption, error reporter) is left out. The result is scanned for secrets like every run.
 */
import { ExecuteContext, RoutingNode } from 'n8n-core';
import { NodeConnectionTypes, Workflow, createRunExecutionData } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	IDataObject,
	IExecuteData,
	INode,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypes,
	ITaskDataConnections,
} from 'n8n-workflow';

import { CalypsoPayApi } from '../../credentials/CalypsoPayApi.credentials';
import { createAdditionalData, scanForSecrets, secretsToScan } from './engine';

const credentialType = new CalypsoPayApi();

/** The node n8n borrows for credentials that carry their own test: NoOp ("n8n-nodes-base.noOp"). */
const noOp: INodeType = {
	description: {
		displayName: 'No Operation, do nothing',
		name: 'noOp',
		group: ['organization'],
		version: 1,
		description: 'No Operation',
		defaults: { name: 'No Operation, do nothing' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [],
	},
};

/**
 * lodash `get`, which n8n applies to a `responseSuccessBody` rule's key, for the dotted keys rules use: any value
 * but null and undefined is indexed (a string answer too), a missing key is undefined.
 */
function getPath(value: unknown, path: string): unknown {
	return path
		.split('.')
		.reduce<unknown>(
			(current, key) =>
				current === null || current === undefined ? undefined : (current as IDataObject)[key],
			value,
		);
}

export interface CredentialTestOutcome extends INodeCredentialTestResult {
	/** What RoutingNode returned (undefined when it threw). */
	response?: INodeExecutionData[][];
}

export async function testCredential(data: ICredentialDataDecryptedObject): Promise<CredentialTestOutcome> {
	secretsToScan.add(String(data.apiSecret ?? ''));
	const testRequest = credentialType.test;

	// CredentialsHelper.applyDefaultsAndOverwrites: unset properties take their defaults.
	const withDefaults: ICredentialDataDecryptedObject = { ...data };
	for (const property of credentialType.properties) {
		if (withDefaults[property.name] === undefined) withDefaults[property.name] = property.default as string;
	}
	const credentialsDecrypted: ICredentialsDecrypted = {
		id: 'cred-1',
		name: 'Calypso account',
		type: credentialType.name,
		data: withDefaults,
	};

	const node: INode = {
		id: 'temp',
		parameters: {},
		name: 'Temp-Node',
		type: noOp.description.name,
		typeVersion: noOp.description.version as number,
		position: [0, 0],
		credentials: { [credentialType.name]: { id: credentialsDecrypted.id, name: credentialsDecrypted.name } },
	};
	const nodeTypeCopy: INodeType = {
		description: {
			...noOp.description,
			credentials: [{ name: credentialType.name, required: true }],
			properties: [
				{
					displayName: 'Temp',
					name: 'temp',
					type: 'string',
					routing: { request: testRequest.request },
					default: '',
				},
			],
		},
	};
	const nodeTypes: INodeTypes = {
		getKnownTypes: () => ({}),
		getByName: () => nodeTypeCopy,
		getByNameAndVersion: () => nodeTypeCopy,
	};
	const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });
	const inputData: ITaskDataConnections = { main: [[{ json: {} }]] };
	const executeData: IExecuteData = { node, data: {}, source: null };
	const workflowData = {
		id: 'wf',
		name: 'credential test',
		nodes: [node],
		connections: {},
		active: false,
		settings: {},
	} as never;
	const context = new ExecuteContext(
		workflow,
		node,
		createAdditionalData(withDefaults, workflowData),
		'internal',
		createRunExecutionData(),
		0,
		[],
		inputData,
		executeData,
		[],
	);

	const outcome = await runTest(
		new RoutingNode(context, nodeTypeCopy, credentialsDecrypted),
		testRequest.rules ?? [],
	);
	scanForSecrets(outcome);
	return outcome;
}

type Rules = NonNullable<CalypsoPayApi['test']['rules']>;

async function runTest(routingNode: RoutingNode, rules: Rules): Promise<CredentialTestOutcome> {
	let response: INodeExecutionData[][] | undefined;
	try {
		response = await routingNode.runNode();
	} catch (caught) {
		const error = caught as {
			message?: unknown;
			cause?: { code?: unknown; response?: { status: number; statusText?: string } };
		};
		if (error.cause?.response) {
			const { status, statusText } = error.cause.response;
			for (const rule of rules) {
				if (rule.type === 'responseCode' && status === rule.properties.value) {
					return { status: 'Error', message: rule.properties.message };
				}
			}
			if (status < 199 || status > 299) {
				return { status: 'Error', message: statusText || `Received HTTP status code: ${status}` };
			}
		} else if (error.cause?.code) {
			return { status: 'Error', message: String(error.cause.code) };
		}
		return { status: 'Error', message: String(error.message) };
	}
	for (const rule of rules) {
		if (rule.type === 'responseSuccessBody') {
			const responseData = response?.[0][0].json;
			if (getPath(responseData, rule.properties.key) === rule.properties.value) {
				return { status: 'Error', message: rule.properties.message, response };
			}
		}
	}
	return { status: 'OK', message: 'Connection successful!', response };
}
