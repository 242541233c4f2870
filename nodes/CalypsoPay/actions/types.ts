import { updateDisplayOptions } from 'n8n-workflow';
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { CalypsoClient } from '../transport';
import { requestOptions } from './fields';

/**
 * One operation = one file. `prepare` reads and validates one item's parameters without any I/O (the router
 * runs it for every item before the first request is sent); `execute` turns the prepared parameters into
 * requests through the client and returns the item's result (an array means one output item per element).
 */
export interface CalypsoOperation<P = IDataObject> {
	description: INodeProperties[];
	/** The operation's own entries of the Options collection; the request options shared by all are added to them. */
	options?: INodeProperties[];
	prepare(this: IExecuteFunctions, itemIndex: number): P;
	execute(
		this: IExecuteFunctions,
		params: P,
		api: CalypsoClient,
		itemIndex: number,
	): Promise<IDataObject | IDataObject[]>;
}

/** Lets each operation keep its own parameter type while the router holds them all in one table. */
export function defineOperation<P>(operation: CalypsoOperation<P>): CalypsoOperation<unknown> {
	return operation as CalypsoOperation<unknown>;
}

const byName = (properties: INodeProperties[]) =>
	[...properties].sort((a, b) => a.displayName.localeCompare(b.displayName));

function optionsCollection(own: INodeProperties[] = []): INodeProperties {
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		// The operation's own options first, then the request options (how it is sent), each group alphabetical.
		options: [...byName(own), ...byName(requestOptions)],
	};
}

/** The Operation selector of one resource followed by every operation's fields, each shown only for its operation. */
export function resourceProperties(
	resource: string,
	selector: INodeProperties,
	operations: Record<string, CalypsoOperation<unknown>>,
): INodeProperties[] {
	return [
		{ ...selector, displayOptions: { show: { resource: [resource] } } },
		...Object.entries(operations).flatMap(([operation, { description, options }]) =>
			updateDisplayOptions({ show: { resource: [resource], operation: [operation] } }, [
				...description,
				optionsCollection(options),
			]),
		),
	];
}
