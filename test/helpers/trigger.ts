/**
 * Drives the Calypso Pay Trigger with n8n-core's real contexts: `HookContext` for the webhook lifecycle
 * (checkExists/create/delete, as n8n runs them on activation and deactivation) and `WebhookContext` for deliveries,
 * behind a loopback HTTP endpoint (./http-endpoint.js) that stands in for n8n's webhook endpoint (raw body kept as a
 * Buffer in `req.rawBody`, JSON parsed into `req.body`, the node's answer or a 200 sent back, 500 when it throws). Requests go through n8n's real
 * request helpers and the credential's own `authenticate`, to the emulator.
 *
 * Static data works as in n8n 2.41's live-webhook path (live-webhooks.js): what the hooks write is kept (n8n saves it
 * after activation); each delivery gets a fresh copy of the saved data, and when webhook() changed it, the whole copy
 * is written back (last writer wins) before the answer is sent; nothing is saved when webhook() throws.
 * `lateWrites`: concurrent writes land out of order, as in n8n 1.123 on SQLite (its driver runs statements in
 * parallel): a write is serialised when n8n makes it, and every 6th delivery's lands 300 ms later.
 *
 * Several n8n processes can stand behind the one webhook URL: each has its own DeliveryMemory, and `useProcess(i)`
 * picks the one that handles the next deliveries (as a load balancer would); `restart()` gives all of them fresh
 * memories (n8n restarted, the database kept).
 */
import { HookContext, WebhookContext } from 'n8n-core';
import { Workflow, sleep } from 'n8n-workflow';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	INode,
	INodeExecutionData,
	INodeParameters,
	INodeType,
	INodeTypes,
	IWebhookData,
	IWebhookResponseData,
	IWorkflowExecuteAdditionalData,
	WorkflowActivateMode,
} from 'n8n-workflow';

import { CalypsoPayTrigger } from '../../nodes/CalypsoPayTrigger/CalypsoPayTrigger.node';
import { DeliveryMemory } from '../../nodes/CalypsoPayTrigger/dedupe';
import { receiveDelivery } from '../../nodes/CalypsoPayTrigger/webhook';
import { createAdditionalData } from './engine';
import { startEndpoint } from './http-endpoint';
import type { EndpointRequest } from './http-endpoint';

export const TRIGGER_TYPE = 'n8n-nodes-calypso-pay.calypsoPayTrigger';

/** `useProcess(NODE_PROCESS)`: deliveries go through the node's own webhook(), with the module's memory. */
export const NODE_PROCESS = -1;

const trigger = new CalypsoPayTrigger();
const nodeTypes: INodeTypes = {
	getByName: () => trigger as INodeType,
	getByNameAndVersion: () => trigger as INodeType,
	getKnownTypes: () => ({}),
};

/** What the stand-in n8n endpoint did with one delivery. */
export interface Received {
	status: number;
	/** Which stand-in n8n process handled it. */
	process: number;
	/** The items the workflow would start with, when webhook() started one. */
	workflowData?: INodeExecutionData[][];
	/** What webhook() threw (n8n answers 500 and records a failed execution). */
	error?: Error;
}

export interface TriggerHarness {
	node: INode;
	/** The "database" copy of the workflow's static data. */
	staticData: IDataObject;
	/** The node's part of it (`node:<name>`). */
	readonly stored: IDataObject;
	/** The trigger's production webhook URL. */
	readonly url: string;
	setParameters(parameters: INodeParameters): void;
	/** The process (0, 1, … or NODE_PROCESS) that handles the next deliveries; each has its own memory. */
	useProcess(index: number): void;
	/** n8n restarted: every process loses its memory; the saved static data stays. */
	restart(): void;
	/** Deliver requests without `rawBody`, as if n8n had not kept the bytes received. */
	dropRawBody: boolean;
	/** The activation mode the lifecycle hooks run in: 'activate' (publishing) unless set ('init': n8n starting). */
	activation: WorkflowActivateMode;
	/** Whole-column writes of the static data made after deliveries. */
	readonly saves: number;
	/** Every 6th delivery's static-data write lands 300 ms after it was made (n8n 1.123 on SQLite). */
	lateWrites: boolean;
	/**
	 * Per delivery (its index in `received`): how many ms after it is made its static-data write lands (0: at once),
	 * for schedules `lateWrites` does not make; unset: `lateWrites` alone decides.
	 */
	writeLandsAfterMs?: (index: number) => number;
	/**
	 * Per delivery (its index in `received`): n8n could not start the execution webhook() returned (its
	 * WorkflowRunner.run threw, e.g. a database error): it answers 500 and saves no static data.
	 */
	startFails?: (index: number) => boolean;
	checkExists(): Promise<boolean>;
	create(): Promise<boolean>;
	delete(): Promise<boolean>;
	/** Every delivery the endpoint handled, oldest first. */
	received: Received[];
	/** Deliveries that started the workflow. */
	readonly started: Received[];
	close(): Promise<void>;
}

export async function createTriggerHarness(
	credentials: ICredentialDataDecryptedObject,
	parameters: INodeParameters,
): Promise<TriggerHarness> {
	const node: INode = {
		id: 'trigger-node-1',
		name: 'Calypso Pay Trigger',
		type: TRIGGER_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters,
		webhookId: '8a1e2f7c-0000-4000-8000-00000000beef',
		credentials: { calypsoPayApi: { id: '1', name: 'Calypso' } },
	};
	const staticData: IDataObject = {};
	const workflowData = {
		id: 'wf-trigger',
		name: 'trigger test',
		nodes: [node],
		connections: {},
		active: true,
	};

	const makeWorkflow = (data: IDataObject): Workflow =>
		new Workflow({
			id: workflowData.id,
			name: workflowData.name,
			nodes: [node],
			connections: {},
			nodeTypes,
			active: true,
			settings: {},
			staticData: data,
		});

	const received: Received[] = [];
	let baseUrl = '';
	const memories = new Map<number, DeliveryMemory>();
	const memoryOf = (index: number): DeliveryMemory => {
		if (!memories.has(index)) memories.set(index, new DeliveryMemory());
		return memories.get(index)!;
	};
	let current = 0;
	let saves = 0;
	const options = {
		dropRawBody: false,
		activation: 'activate' as WorkflowActivateMode,
		lateWrites: false,
		writeLandsAfterMs: undefined as ((index: number) => number) | undefined,
		startFails: undefined as ((index: number) => boolean) | undefined,
	};
	const save = async (workflow: Workflow, landsAfterMs = 0) => {
		const data = workflow.staticData as IDataObject & { __dataChanged?: boolean };
		if (!data.__dataChanged) return;
		const copy = JSON.parse(JSON.stringify(data)) as IDataObject;
		if (landsAfterMs > 0) await sleep(landsAfterMs);
		for (const key of Object.keys(staticData)) delete staticData[key];
		Object.assign(staticData, copy);
		data.__dataChanged = false; // as n8n's saveStaticData does once written
		saves++;
	};
	const additionalData = (
		extra: Partial<IWorkflowExecuteAdditionalData> = {},
	): IWorkflowExecuteAdditionalData =>
		({
			...createAdditionalData(credentials, workflowData as never),
			webhookBaseUrl: `${baseUrl}/webhook`,
			webhookTestBaseUrl: `${baseUrl}/webhook-test`,
			...extra,
		}) as IWorkflowExecuteAdditionalData;

	const webhookData = (): IWebhookData =>
		({
			httpMethod: 'POST',
			node: node.name,
			path: `${node.webhookId}/webhook`,
			webhookDescription: trigger.description.webhooks![0],
			workflowId: workflowData.id,
			webhookId: node.webhookId,
			workflowExecuteAdditionalData: additionalData(),
		}) as IWebhookData;

	const endpoint = await startEndpoint(async (req, res) => {
		const process = current;
		const record: Received = { status: 0, process };
		received.push(record);
		const request = req as EndpointRequest & { body?: unknown };
		if (options.dropRawBody) delete (request as { rawBody?: Buffer }).rawBody;
		try {
			request.body = JSON.parse(String(request.rawBody));
		} catch {
			request.body = {};
		}
		// Each delivery: the workflow as loaded from the database, static data included (a copy).
		const workflow = makeWorkflow(JSON.parse(JSON.stringify(staticData)) as IDataObject);
		const ctx = new WebhookContext(
			workflow,
			node,
			additionalData({ httpRequest: request as never, httpResponse: res as never }),
			'webhook',
			webhookData(),
			[],
			null,
		);
		let result: IWebhookResponseData;
		try {
			result =
				process === NODE_PROCESS
					? await trigger.webhook!.call(ctx)
					: await receiveDelivery.call(ctx, memoryOf(process));
		} catch (error) {
			record.error = error as Error;
			record.status = 500;
			res.writeHead(500, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify({ message: 'Workflow Webhook Error: Workflow could not be started!' }));
			return;
		}
		if (result.workflowData && options.startFails?.(received.indexOf(record))) {
			record.status = 500;
			res.writeHead(500, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify({ message: 'Workflow Webhook Error: Workflow could not be started!' }));
			return;
		}
		// n8n starts the execution (WorkflowRunner.run: database writes, queueing) before its response callback saves
		// the static data: requests that returned in one order can be saved in another. A varying pause stands in.
		if (result.workflowData) await sleep(((received.indexOf(record) * 7) % 5) * 40);
		// n8n's response callback saves, then the answer is sent
		const index = received.indexOf(record);
		await save(
			workflow,
			options.writeLandsAfterMs?.(index) ?? (options.lateWrites && index % 6 === 0 ? 300 : 0),
		);
		if (result.noWebhookResponse) {
			record.status = res.statusCode;
			if (!res.writableEnded) res.end();
			return;
		}
		record.workflowData = result.workflowData;
		record.status = 200;
		res.writeHead(200, { 'Content-Type': 'application/json' });
		res.end(
			JSON.stringify(
				result.workflowData ? { message: 'Workflow was started' } : (result.webhookResponse ?? {}),
			),
		);
	});
	baseUrl = endpoint.url;

	const hook = (method: 'checkExists' | 'create' | 'delete') => async (): Promise<boolean> => {
		// The hooks run on the saved workflow and their static data changes are saved (in place here).
		const ctx = new HookContext(
			makeWorkflow(staticData),
			node,
			additionalData(),
			'trigger',
			options.activation,
			webhookData(),
		);
		return await trigger.webhookMethods!.default![method].call(ctx);
	};

	const harness: Omit<TriggerHarness, keyof typeof options> = {
		node,
		staticData,
		get stored() {
			return (staticData[`node:${node.name}`] ?? {}) as IDataObject;
		},
		get url() {
			return `${baseUrl}/webhook/${node.webhookId}/webhook`;
		},
		setParameters(next) {
			node.parameters = next;
		},
		useProcess(index) {
			current = index;
		},
		restart() {
			memories.clear();
		},
		get saves() {
			return saves;
		},
		checkExists: hook('checkExists'),
		create: hook('create'),
		delete: hook('delete'),
		received,
		get started() {
			return received.filter((r) => r.workflowData !== undefined);
		},
		async close() {
			await endpoint.close();
		},
	};
	// The settable options (dropRawBody, activation, lateWrites, writeLandsAfterMs, startFails) are `options`'s fields.
	for (const key of Object.keys(options)) {
		Object.defineProperty(harness, key, {
			get: () => options[key as keyof typeof options],
			set: (value: unknown) => Object.assign(options, { [key]: value }),
			enumerable: true,
		});
	}
	return harness as TriggerHarness;
}
