/**
 * Runs real workflows through n8n's own engine (n8n-core's WorkflowExecute) with the package's real node and
 * credential: parameters and expressions are resolved by n8n, the credential's `authenticate` signs every request,
 * and the HTTP goes over loopback to the Calypso emulator. Every run is scanned for secrets before it is returned.
 */
import { ExecutionLifecycleHooks, WorkflowExecute } from 'n8n-core';
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';
import { Workflow, createRunExecutionData } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeParameters,
	INodeType,
	INodeTypes,
	IRun,
	IWorkflowExecuteAdditionalData,
	IExecuteFunctions,
	IConnections,
} from 'n8n-workflow';

import { CalypsoPayApi } from '../../credentials/CalypsoPayApi.credentials';
import { CalypsoPay } from '../../nodes/CalypsoPay/CalypsoPay.node';
// n8n-core's DI container, which holds the SSH client manager it creates for every node run (a 60 s interval).
import { Container } from './n8n-container';

export const CALYPSO_TYPE = 'n8n-nodes-calypso-pay.calypsoPay';

/** Passes the items it is started with to the next node, like a trigger would. */
class StartNode implements INodeType {
	description = {
		displayName: 'Start',
		name: 'start',
		group: ['input'],
		version: 1,
		description: 'Test start',
		defaults: { name: 'Start' },
		inputs: [],
		outputs: ['main'],
		properties: [],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return [this.getInputData()];
	}
}

const calypso = new CalypsoPay();
const credentialType = new CalypsoPayApi();
const types: Record<string, INodeType> = { [CALYPSO_TYPE]: calypso, 'test.start': new StartNode() };

const nodeTypes: INodeTypes = {
	getByName: (type) => types[type],
	getByNameAndVersion: (type) => types[type],
	getKnownTypes: () => ({}),
};

export interface RunResult {
	status: IRun['status'];
	/** Output items of the node under test (the last node of the chain). */
	items: INodeExecutionData[];
	/** Every output of the node under test: [0] the regular output, [1] the error output when it has one. */
	outputs: INodeExecutionData[][];
	/** Output items by node name. */
	byNode: Record<string, INodeExecutionData[]>;
	/** Execution hints the node under test added (shown above its output in the editor). */
	hints: Array<{ message: string }>;
	error?: IRun['data']['resultData']['error'];
	run: IRun;
}

/** Every string that must never show up in what n8n returns: the secret and every Sign header sent. */
export const secretsToScan = new Set<string>();

export function scanForSecrets(value: unknown): void {
	const text = JSON.stringify(value, (_key, v) =>
		v instanceof Error
			? { ...v, message: v.message, stack: v.stack, description: (v as { description?: string }).description }
			: v,
	);
	for (const secret of secretsToScan) {
		if (secret && text.includes(secret))
			throw new Error(`Secret leaked into the run result: ${secret.slice(0, 6)}…`);
	}
}

/**
 * What n8n hands a node run besides the workflow: a credentials helper that decrypts to `credentials` and signs
 * with the credential type's own `authenticate`, the execution hooks and the instance URLs.
 */
export function createAdditionalData(
	credentials: ICredentialDataDecryptedObject,
	workflowData: ConstructorParameters<typeof ExecutionLifecycleHooks>[2],
): IWorkflowExecuteAdditionalData {
	const credentialsHelper = {
		getParentTypes: () => [],
		getCredentialsProperties: () => credentialType.properties,
		// n8n-core 2.41 asks before decrypting; n8n answers true for a credential type without restrictToSupportedNodes.
		isCredentialUsableByNode: () => true,
		getDecrypted: async () => ({ ...credentials }),
		getCredentials: async () => {
			throw new Error('not used');
		},
		preAuthentication: async () => undefined,
		updateCredentials: async () => undefined,
		updateCredentialsOauthTokenData: async () => undefined,
		authenticate: async (data: ICredentialDataDecryptedObject, _type: string, options: IHttpRequestOptions) =>
			await (
				credentialType.authenticate as (
					c: ICredentialDataDecryptedObject,
					o: IHttpRequestOptions,
				) => Promise<IHttpRequestOptions>
			)(data, options),
	};
	return {
		hooks: new ExecutionLifecycleHooks('manual', 'exec-1', workflowData),
		credentialsHelper,
		restApiUrl: 'http://127.0.0.1:5678/rest',
		webhookBaseUrl: 'http://127.0.0.1:5678/webhook',
		webhookTestBaseUrl: 'http://127.0.0.1:5678/webhook-test',
		webhookWaitingBaseUrl: 'http://127.0.0.1:5678/webhook-waiting',
		formWaitingBaseUrl: 'http://127.0.0.1:5678/form-waiting',
		instanceBaseUrl: 'http://127.0.0.1:5678/',
		variables: {},
		currentNodeParameters: undefined,
		executionTimeoutTimestamp: undefined,
	} as unknown as IWorkflowExecuteAdditionalData;
}

export interface NodeSpec {
	name: string;
	parameters: INodeParameters;
	continueOnFail?: boolean;
	/** n8n's On Error setting; overrides continueOnFail. */
	onError?: INode['onError'];
	/** The node's version (default 1: the workflows saved before 1.1). */
	typeVersion?: number;
	/** n8n's node settings, e.g. { retryOnFail: true, maxTries: 2, waitBetweenTries: 0 }. */
	settings?: Pick<INode, 'retryOnFail' | 'maxTries' | 'waitBetweenTries'>;
}

/** What a test may do to a running execution. */
export interface RunControl {
	/** Called as the execution starts, with a function that cancels it the way n8n's Stop button does. */
	onStart?: (cancel: () => void) => void;
}

/**
 * Start → nodes[0] → nodes[1] …, started with `items`. Each Calypso node uses the given credential.
 */
export async function runChain(
	credentials: ICredentialDataDecryptedObject,
	nodes: NodeSpec[],
	items: IDataObject[] = [{}],
	control: RunControl = {},
): Promise<RunResult> {
	secretsToScan.add(String(credentials.apiSecret ?? ''));
	const start: INode = {
		id: 'start',
		name: 'Start',
		type: 'test.start',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const chain: INode[] = nodes.map((spec, index) => ({
		id: `n${index}`,
		name: spec.name,
		type: CALYPSO_TYPE,
		typeVersion: spec.typeVersion ?? 1,
		position: [200 * (index + 1), 0],
		parameters: spec.parameters,
		credentials: { calypsoPayApi: { id: '1', name: 'Calypso' } },
		...(spec.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
		...(spec.onError ? { onError: spec.onError } : {}),
		...spec.settings,
	}));
	const all = [start, ...chain];
	const connections: IConnections = {};
	for (let i = 0; i < all.length - 1; i++) {
		connections[all[i].name] = { main: [[{ node: all[i + 1].name, type: 'main', index: 0 }]] };
	}
	const workflow = new Workflow({
		id: 'wf',
		name: 'test',
		nodes: all,
		connections,
		nodeTypes,
		active: false,
		settings: {},
	});

	const workflowData = {
		id: 'wf',
		name: 'test',
		nodes: all,
		connections,
		active: false,
		settings: {},
	} as never;
	const additionalData = createAdditionalData(credentials, workflowData);

	const runData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [{ node: start, data: { main: [items.map((json) => ({ json }))] }, source: null }],
		},
	});
	const execution = new WorkflowExecute(additionalData, 'manual', runData).processRunExecutionData(workflow);
	control.onStart?.(() => execution.cancel());
	const run = await execution;

	const byNode: Record<string, INodeExecutionData[]> = {};
	for (const [name, tasks] of Object.entries(run.data.resultData.runData)) {
		byNode[name] = tasks[0]?.data?.main?.[0] ?? [];
	}
	const last = run.data.resultData.runData[chain[chain.length - 1].name]?.[0];
	const result: RunResult = {
		status: run.status,
		items: byNode[chain[chain.length - 1].name] ?? [],
		outputs: (last?.data?.main ?? []).map((output) => output ?? []),
		byNode,
		hints: (last?.hints ?? []) as Array<{ message: string }>,
		error: run.data.resultData.error,
		run,
	};
	scanForSecrets(run);
	return result;
}

/** One Calypso node with these parameters, started with `items`. */
export async function runNode(
	credentials: ICredentialDataDecryptedObject,
	parameters: INodeParameters,
	items: IDataObject[] = [{}],
	options: Omit<NodeSpec, 'name' | 'parameters'> = {},
): Promise<RunResult> {
	return await runChain(credentials, [{ name: 'Calypso', parameters, ...options }], items);
}

/** Stops what n8n-core leaves running after node executions, so the test process can exit on its own. */
export function shutdownEngine(): void {
	if (Container.has(SSHClientsManager)) Container.get(SSHClientsManager).onShutdown();
}
