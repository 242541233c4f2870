import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';

import { runBounded } from '../pool';
import * as customer from './customer/Customer.resource';
import * as purse from './purse/Purse.resource';
import * as transaction from './transaction/Transaction.resource';
import { CalypsoClient, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, RunStopped } from '../transport';
import { asNodeError } from '../transport/errors';
import type { TransportSettings } from '../transport';
import { CUSTOM_API_CALL, customApiCallError } from './customApiCall';
import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, MAX_RETRIES, MAX_RETRY_DELAY, MAX_TIMEOUT_MS } from './fields';
import type { CalypsoOperation } from './types';
import * as validate from './validate';

const resources: Record<string, Record<string, CalypsoOperation<unknown>>> = {
	customer: customer.operations,
	purse: purse.operations,
	transaction: transaction.operations,
};

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The output item of a failed item under "Continue On Fail": the error's message, description and Calypso's fields.
 * With "Continue (regular output)" they sit side by side in `json`. With "Continue (using error output)" they go
 * under `details`: n8n (2.36 and later) routes an item to the error output when its json has only `error`, `message`
 * and `details`, and keeps that json as it is (an item carrying an Error object would have its json replaced by the
 * bare message).
 */
function errorItem(
	this: IExecuteFunctions,
	error: NodeApiError | NodeOperationError,
	itemIndex: number,
): INodeExecutionData {
	const details: IDataObject = {};
	if (error.description) details.description = error.description;
	if (error instanceof NodeApiError) {
		const { errorCode, traceId, httpCode } = (error.errorResponse ?? {}) as JsonObject;
		if (errorCode) details.errorCode = errorCode;
		if (traceId) details.traceId = traceId;
		// The HTTP status, as a number (n8n's own httpCode field is Calypso's error code when there is one).
		const status = Number(httpCode ?? (errorCode ? undefined : error.httpCode));
		if (Number.isInteger(status) && status >= 100 && status <= 599) details.httpCode = status;
	}
	const json: IDataObject =
		this.getNode().onError === 'continueErrorOutput'
			? { error: error.message, details }
			: { error: error.message, ...details };
	return { json, pairedItem: { item: itemIndex } };
}

/** Item numbers for an error text: the first ten, in order. */
function itemList(items: Set<number>): string {
	const sorted = [...items].sort((a, b) => a - b);
	return sorted.slice(0, 10).join(', ') + (sorted.length > 10 ? ', …' : '');
}

function withCompletedItems<E extends NodeApiError | NodeOperationError>(
	error: E,
	completed: Set<number>,
	held: Set<number>,
	unconfirmed: Set<number>,
	failed: Set<number>,
): E {
	let description = error.description ?? '';
	if (failed.size > 0)
		description += ` ${failed.size} other item(s) failed too (item ${itemList(failed)}); their errors are not shown, and a change of theirs that Calypso did not confirm may have been carried out.`;
	if (completed.size > 0)
		description += ` ${completed.size} other item(s) had already been sent successfully (item ${itemList(completed)}); their results are not passed on, and running the node again sends them again.`;
	if (held.size > 0)
		description += ` ${held.size} other item(s) were about to send a change and did not (item ${itemList(held)}).`;
	if (unconfirmed.size > 0)
		description += ` ${unconfirmed.size} other item(s) had sent a change that Calypso did not confirm, and it was not sent again as the run had stopped: it may have been carried out (item ${itemList(unconfirmed)}).`;
	error.description = description.trim();
	return error;
}

/**
 * Node-level settings, read once per run from the first item's Options: how many items run at once and how
 * requests are retried. With the node setting "Retry On Fail" on, the default retry steps aside so the two
 * do not multiply; an explicit Custom retry composes with it (attempts = n8n tries × (retries + 1)).
 */
function runSettings(this: IExecuteFunctions): { concurrency: number; transport: TransportSettings } {
	const options = this.getNodeParameter('options', 0, {}) as IDataObject;
	// Inside the Options in node version 1, below them from 1.1 (fields.ts retrySettings): same names and defaults.
	const retrySetting = (name: string, fallback: unknown) =>
		options[name] ?? this.getNodeParameter(name, 0, fallback);
	const mode = validate.oneOf(this, 0, 'Retry', retrySetting('retry', 'default'), [
		'default',
		'custom',
		'off',
	]);
	let retry = DEFAULT_RETRY;
	if (mode === 'off' || (mode === 'default' && this.getNode().retryOnFail))
		retry = { ...DEFAULT_RETRY, retries: 0 };
	if (mode === 'custom') {
		retry = {
			...DEFAULT_RETRY,
			retries: validate.integer(
				this,
				0,
				'Max Retries',
				retrySetting('maxRetries', DEFAULT_RETRY.retries),
				0,
				MAX_RETRIES,
			),
			// A first delay above the per-wait cap is refused rather than silently shortened.
			baseDelayMs: validate.integer(
				this,
				0,
				'Retry Delay (Ms)',
				retrySetting('retryDelay', DEFAULT_RETRY.baseDelayMs),
				0,
				MAX_RETRY_DELAY,
			),
		};
	}
	return {
		concurrency: validate.integer(
			this,
			0,
			'Concurrency',
			options.concurrency ?? DEFAULT_CONCURRENCY,
			1,
			MAX_CONCURRENCY,
		),
		transport: {
			retry,
			timeoutMs: validate.integer(
				this,
				0,
				'Timeout (Ms)',
				options.timeout ?? DEFAULT_TIMEOUT_MS,
				1,
				MAX_TIMEOUT_MS,
			),
			recovery: mode !== 'off',
		},
	};
}

/**
 * The one item loop of the node. Every item's parameters are read and validated before the first request is
 * sent; then the items' requests run concurrently (bounded) and the output keeps input order and pairing.
 * With "Continue On Fail" a failed item becomes an error item; otherwise the first failing item stops the run.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const resource = this.getNodeParameter('resource', 0) as string;
	// n8n offers "Custom API Call" as a resource too; then no operation parameter exists to read.
	if (resource === CUSTOM_API_CALL) throw customApiCallError(this.getNode());
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = resources[resource]?.[operationName];
	if (!operation) {
		if (operationName === CUSTOM_API_CALL) throw customApiCallError(this.getNode());
		throw new NodeOperationError(
			this.getNode(),
			`The operation "${operationName}" is not known for "${resource}"`,
		);
	}
	const continueOnFail = this.continueOnFail();
	const { concurrency, transport } = runSettings.call(this);
	const api = new CalypsoClient(this, transport);

	const prepared: Outcome[] = items.map((_, i) => {
		try {
			return { ok: true, value: operation.prepare.call(this, i) };
		} catch (error) {
			const itemError = asNodeError(this.getNode(), error, i);
			if (!continueOnFail) throw itemError;
			return { ok: false, error: itemError };
		}
	});

	const output: INodeExecutionData[][] = new Array(items.length);
	const completed = new Set<number>();
	/** Items whose change was not sent because the run had stopped (api.stop): not failures of their own. */
	const held = new Set<number>();
	/** Items whose change was sent, not confirmed (a 5xx, a timeout) and not retried because the run had stopped. */
	const unconfirmed = new Set<number>();
	/** Items that failed on their own (their requests were under way when the run stopped): the first one is thrown. */
	const failed = new Set<number>();
	const task = async (i: number) => {
		const input = prepared[i];
		try {
			if (!input.ok) throw input.error;
			const result = await operation.execute.call(this, input.value, api, i);
			output[i] = this.helpers.constructExecutionMetaData(
				this.helpers.returnJsonArray(result as IDataObject[]),
				{ itemData: { item: i } },
			);
			completed.add(i);
		} catch (error) {
			if (error instanceof RunStopped) {
				(error.unconfirmed ? unconfirmed : held).add(i);
				return;
			}
			const itemError = asNodeError(this.getNode(), error, i);
			if (continueOnFail) {
				output[i] = [errorItem.call(this, itemError, i)];
				return;
			}
			// The first failure stops the run: no item starts after it, and no change of an item under way is sent.
			api.stop();
			failed.add(i);
			throw itemError;
		}
	};
	try {
		await runBounded(items.length, concurrency, !continueOnFail, task);
	} catch (error) {
		// The run stops, but other items' requests already went through: say so, as their results go with the run.
		// runBounded throws the failure with the lowest item index; the others are named.
		failed.delete(Math.min(...failed));
		throw withCompletedItems(
			error as NodeApiError | NodeOperationError,
			completed,
			held,
			unconfirmed,
			failed,
		);
	}
	return [output.flat()];
}
