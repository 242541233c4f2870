/**
 * What the editor and saved workflows read from the node descriptions: parameter defaults (a contract: n8n saves
 * only values that differ from them), which options show when, docs links, and what an AI agent gets by default.
 */
import { NodeHelpers } from 'n8n-workflow';
import type { INodeProperties, INodePropertyCollection, INodeTypeDescription } from 'n8n-workflow';

import { CalypsoPayApi } from '../../credentials/CalypsoPayApi.credentials';
import { CalypsoPay } from '../../nodes/CalypsoPay/CalypsoPay.node';
import { CalypsoPayTrigger } from '../../nodes/CalypsoPayTrigger/CalypsoPayTrigger.node';
import { readRepoFile, rewriteIfAsked } from '../helpers/repo-files';
import { runNode } from '../helpers/engine';
import { useEmulator } from '../helpers/calypso';

const action = new CalypsoPay().description;
const trigger = new CalypsoPayTrigger().description;
const credential = new CalypsoPayApi();

type Child = INodeProperties | INodePropertyCollection;

/**
 * The displayOptions of a property as node version `version` sees them: undefined when the property does not show
 * in that version; else without the `@version` rule (so a version's keys read as when it was the only one).
 */
function forVersion(displayOptions: INodeProperties['displayOptions'], version: number) {
	if (!displayOptions) return { shown: true, rest: undefined };
	const show = { ...displayOptions.show };
	const rule = show['@version'];
	delete show['@version'];
	// n8n's own reading of the rule (displayParameter: exported by every n8n line, unlike checkConditions).
	const shown =
		rule === undefined ||
		NodeHelpers.displayParameter(
			{},
			{ displayOptions: { show: { '@version': rule } } } as never,
			{ typeVersion: version } as never,
			null,
		);
	const rest = { ...displayOptions, show };
	if (Object.keys(show).length === 0) delete (rest as { show?: unknown }).show;
	return { shown, rest: Object.keys(rest).length === 0 ? undefined : rest };
}

/** Every parameter's default, keyed by where it shows (name plus displayOptions) and its path in collections. */
function defaults(properties: Child[], prefix = '', version = 1): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const property of properties) {
		const { shown, rest } = forVersion(
			'displayOptions' in property ? property.displayOptions : undefined,
			version,
		);
		if (!shown) continue;
		const show = rest ? JSON.stringify(rest) : '';
		const key = `${prefix}${property.name}${show ? ` ${show}` : ''}`;
		if ('default' in property) out[key] = property.default;
		const children = ('options' in property ? property.options : undefined) ?? [];
		const nested = (children as unknown[]).filter(
			(child): child is Child =>
				typeof child === 'object' &&
				child !== null &&
				'name' in child &&
				('type' in child || 'values' in child),
		);
		Object.assign(out, defaults(nested, `${key} > `, version));
		if ('values' in property) Object.assign(out, defaults(property.values, `${key} > `, version));
	}
	return out;
}

/** The published versions' defaults. A change here needs a new node version, not an edit of this file. */
const CONTRACT = 'test/nodes/defaults.v1.json';

describe('parameter defaults are a contract', () => {
	const versionsOf = (node: typeof action | typeof trigger) =>
		(Array.isArray(node.version) ? node.version : [node.version]).map(
			(version): [string, Record<string, unknown>] => [
				`${node.name} v${version}`,
				defaults(node.properties, '', version),
			],
		);
	const current = {
		...Object.fromEntries([...versionsOf(action), ...versionsOf(trigger)]),
		[`${credential.name} (credential)`]: defaults(credential.properties),
	};

	test('no default of a published node version or of the credential changes', () => {
		// UPDATE_CONTRACTS=1 records new parameters; a changed default shows in the file's diff and must not land.
		rewriteIfAsked(CONTRACT, JSON.stringify(current, null, '\t') + '\n');
		const published = JSON.parse(readRepoFile(CONTRACT)) as typeof current;
		for (const [nodeVersion, values] of Object.entries(published)) {
			for (const [parameter, value] of Object.entries(values)) {
				expect({ nodeVersion, parameter, default: current[nodeVersion]?.[parameter] }).toEqual({
					nodeVersion,
					parameter,
					default: value,
				});
			}
		}
		// New parameters are fine, but they join the contract: record them in the file in the same change.
		expect(Object.keys(current).sort()).toEqual(Object.keys(published).sort());
		for (const nodeVersion of Object.keys(current))
			expect(Object.keys(current[nodeVersion]).sort()).toEqual(Object.keys(published[nodeVersion]).sort());
	});

	test('used as an AI tool, every resource defaults to a read operation', () => {
		const writes = new Set(['create', 'update', 'block', 'unblock', 'getOrCreate', 'getAddress']);
		const operationDefaults = action.properties
			.filter((property) => property.name === 'operation')
			.map((property) => [property.displayOptions?.show?.resource?.[0], property.default]);
		expect(operationDefaults).toEqual([
			['customer', 'get'],
			['purse', 'getAll'],
			['transaction', 'getMany'],
		]);
		for (const [, operation] of operationDefaults) expect(writes.has(operation as string)).toBe(false);
	});
});

describe('options that do what they show', () => {
	const getMany = action.properties.find(
		(property) => property.name === 'options' && property.displayOptions?.show?.operation?.[0] === 'getMany',
	) as INodeProperties;
	const options = getMany.options as INodeProperties[];

	test("the operation's own options come first, then the request options", () => {
		expect(options.map((option) => option.displayName)).toEqual([
			'Page Size',
			'Sort By',
			'Sort Direction',
			'Concurrency',
			'Max Retries',
			'Retry',
			'Retry Delay (Ms)',
			'Timeout (Ms)',
		]);
	});

	test('version 1: Max Retries and Retry Delay show only when Retry is Custom', () => {
		// The editor decides what a collection offers with the collection's own values as the node values.
		const shown = (values: Record<string, unknown>) =>
			options
				.filter((option) =>
					NodeHelpers.displayParameter(
						values as never,
						option,
						{ typeVersion: 1 } as never,
						action as INodeTypeDescription,
					),
				)
				.map((option) => option.name);
		for (const retry of [undefined, 'default', 'off'])
			expect(shown(retry ? { retry } : {})).not.toEqual(expect.arrayContaining(['maxRetries']));
		expect(shown({ retry: 'default' })).not.toContain('retryDelay');
		expect(shown({ retry: 'custom' })).toEqual(expect.arrayContaining(['maxRetries', 'retryDelay']));
	});
});

describe('Retry: Custom shows its two settings at once (node version 1.1)', () => {
	/** What n8n keeps of (and shows for) a node's parameters: the editor and the engine both go through this. */
	const resolved = (typeVersion: number, parameters: Record<string, unknown>) =>
		NodeHelpers.getNodeParameters(
			action.properties,
			{ resource: 'customer', operation: 'get', customerId: 'c', ...parameters } as never,
			true,
			false,
			{ id: 'n', name: 'Calypso Pay', type: 'x', typeVersion, position: [0, 0], parameters: {} } as never,
			action as INodeTypeDescription,
		) as Record<string, unknown>;

	test('new nodes are version 1.1', () => {
		expect(action.version).toEqual([1, 1.1]);
		expect(action.defaultVersion).toBe(1.1);
	});

	test('picking Custom shows Max Retries and Retry Delay at once, with their defaults, next to Retry', () => {
		expect(resolved(1.1, {})).toMatchObject({ retry: 'default' });
		expect(resolved(1.1, {})).not.toHaveProperty('maxRetries');
		expect(resolved(1.1, { retry: 'off' })).not.toHaveProperty('retryDelay');
		expect(resolved(1.1, { retry: 'custom' })).toMatchObject({
			retry: 'custom',
			maxRetries: 3,
			retryDelay: 1000,
		});
		// The Options no longer offer them.
		const getOptions = action.properties.find(
			(property) => property.name === 'options' && property.displayOptions?.show?.operation?.[0] === 'get',
		) as INodeProperties;
		const offered = (getOptions.options as INodeProperties[]).filter((option) =>
			NodeHelpers.displayParameter(
				{ retry: 'custom' } as never,
				option,
				{ typeVersion: 1.1 } as never,
				action as INodeTypeDescription,
			),
		);
		expect(offered.map((option) => option.name)).toEqual(['concurrency', 'timeout']);
	});

	test('a version 1 node (saved before) keeps them inside the Options, as saved', () => {
		const old = resolved(1, { options: { retry: 'custom', maxRetries: 5, retryDelay: 200 } });
		expect(old.options).toEqual({ retry: 'custom', maxRetries: 5, retryDelay: 200 });
		for (const name of ['retry', 'maxRetries', 'retryDelay']) expect(old).not.toHaveProperty(name);
	});
});

describe('docs links land on their section', () => {
	// n8n 2.41's editor: a node's docs link is its description's documentationUrl when that is a full URL, else the
	// codex's primaryDocumentation with a tracking query appended as "?utm_…" (after any #anchor, which breaks it).
	const TRACKING = 'utm_source=n8n_app&utm_medium=node_settings_modal-credential_link&utm_campaign=x';
	const readme = readRepoFile('README.md');
	const anchors = new Set(
		[...readme.matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) =>
			heading
				.trim()
				.toLowerCase()
				.replace(/[^\w\- ]/g, '')
				.replace(/ /g, '-'),
		),
	);
	const codex = (file: string) =>
		JSON.parse(readRepoFile(file)) as {
			resources: Record<string, Array<{ url: string }>>;
		};

	const nodes: Record<string, INodeTypeDescription> = {
		'Calypso Pay': action,
		'Calypso Pay Trigger': trigger,
	};
	test.each([
		['Calypso Pay', 'operations', 'nodes/CalypsoPay/CalypsoPay.node.json'],
		['Calypso Pay Trigger', 'trigger', 'nodes/CalypsoPayTrigger/CalypsoPayTrigger.node.json'],
	])(
		'%s: the node docs link opens #%s, and the codex links survive the tracking query',
		(name, anchor, file) => {
			const description = nodes[name];
			const docs = description.documentationUrl?.startsWith('http')
				? description.documentationUrl
				: `${codex(file).resources.primaryDocumentation[0].url}?${TRACKING}`;
			expect(new URL(docs).hash).toBe(`#${anchor}`);
			expect(anchors.has(anchor)).toBe(true);
			for (const links of Object.values(codex(file).resources))
				for (const { url } of links) expect(new URL(`${url}?${TRACKING}`).hash).toBe('');
		},
	);

	test('the credential docs link (used as it is for hosts other than docs.n8n.io) opens #credentials', () => {
		expect(new URL(credential.documentationUrl).hash).toBe('#credentials');
		expect(anchors.has('credentials')).toBe(true);
	});
});

describe('every numeric field carries the bounds run time enforces', () => {
	const server = useEmulator();
	const CUSTOMER = '3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a';

	interface NumberField {
		resource: string;
		operation: string;
		/** The node version the field shows in. */
		typeVersion: number;
		/** Where the value goes: a top-level parameter, or inside a collection. */
		path: [string] | [string, string];
		property: INodeProperties;
		/** The sibling values that make the field show (Retry: Custom for Max Retries). */
		siblings: Record<string, unknown>;
	}

	/** The first value of each show rule but resource, operation and the version: what makes the field show. */
	const siblingsOf = (show: Record<string, unknown[] | undefined> = {}) =>
		Object.fromEntries(
			Object.entries(show)
				.filter(([key]) => !['resource', 'operation', '@version'].includes(key))
				.map(([key, values]) => [key, values?.[0]]),
		);
	const versionOf = (show: Record<string, unknown[] | undefined> = {}) =>
		show['@version'] && !show['@version'].includes(1) ? 1.1 : 1;

	/** The numeric fields of every operation, each once per (parameter path, operation). */
	const fields: NumberField[] = [];
	for (const property of action.properties) {
		const show = property.displayOptions?.show;
		// Fields shown for every operation (Retry's, from version 1.1) are tried on one.
		const resource = (show?.resource?.[0] as string | undefined) ?? 'customer';
		const operation = (show?.operation?.[0] as string | undefined) ?? 'block';
		const typeVersion = versionOf(show);
		if (property.type === 'number') {
			const siblings = siblingsOf(show);
			fields.push({ resource, operation, typeVersion, path: [property.name], property, siblings });
		}
		for (const child of (property.type === 'collection' ? property.options : []) as INodeProperties[]) {
			if (child.type !== 'number') continue;
			fields.push({
				resource,
				operation,
				typeVersion: versionOf(child.displayOptions?.show),
				path: [property.name, child.name],
				property: child,
				siblings: siblingsOf(child.displayOptions?.show),
			});
		}
	}

	test('the node has numeric fields, and each has a minimum and a maximum', () => {
		const names = new Set(fields.map((field) => field.path.join('.')));
		expect([...names].sort()).toEqual([
			'limit',
			'maxRetries',
			'options.concurrency',
			'options.maxRetries',
			'options.pageSize',
			'options.retryDelay',
			'options.timeout',
			'retryDelay',
		]);
		for (const { property } of fields) {
			expect(typeof property.typeOptions?.minValue).toBe('number');
			expect(typeof property.typeOptions?.maxValue).toBe('number');
		}
		const triggerNumbers = trigger.properties.filter((property) => property.type === 'number');
		expect(triggerNumbers).toEqual([]);
	});

	// One operation per field path is enough for the shared Options; every operation for its own fields.
	const cases = fields.filter(
		(field, index) =>
			field.path[0] !== 'options' ||
			fields.findIndex((other) => other.path.join('.') === field.path.join('.')) === index,
	);
	test.each(cases.map((field) => [`${field.resource} ${field.operation}: ${field.path.join('.')}`, field]))(
		"%s: one past either editor bound is refused at run time with the editor's range, the bounds pass",
		async (_, field) => {
			const { minValue, maxValue } = (field as NumberField).property.typeOptions as {
				minValue: number;
				maxValue: number;
			};
			const { resource, operation, typeVersion, path, property, siblings } = field as NumberField;
			const run = async (value: number) => {
				const parameters: Record<string, unknown> = { resource, operation, customerId: CUSTOMER };
				// Retry Off (unless the field needs Custom), so an accepted value costs one quick request at most.
				if (typeVersion === 1) parameters.options = { retry: 'off' };
				else parameters.retry = 'off';
				if (path.length === 1) Object.assign(parameters, siblings, { [path[0]]: value });
				else parameters[path[0]] = { retry: 'off', ...siblings, [path[1]]: value };
				return await runNode(server.credentials, parameters as never, [{}], { typeVersion });
			};
			for (const outside of [minValue - 1, maxValue + 1]) {
				const result = await run(outside);
				expect(result.error?.message).toBe(
					`${property.displayName} must be a whole number from ${minValue} to ${maxValue}, got "${outside}"`,
				);
			}
			expect(server.emulator.requests).toHaveLength(0);
			for (const inside of [minValue, maxValue]) {
				const result = await run(inside);
				expect(String(result.error?.message ?? '')).not.toContain(property.displayName);
			}
		},
	);
});

describe('the Customer parameter is a resource locator: by ID or by External ID', () => {
	const takesCustomer = [
		['customer', 'get'],
		['customer', 'update'],
		['customer', 'block'],
		['customer', 'unblock'],
		['purse', 'getAddress'],
		['purse', 'getAll'],
		['transaction', 'getMany'],
	];
	const node = (parameters: Record<string, unknown>, typeVersion = 1) =>
		({
			id: 'n',
			name: 'Calypso Pay',
			type: 'n8n-nodes-calypso-pay.calypsoPay',
			typeVersion,
			position: [0, 0],
			parameters,
		}) as never;
	/** The parameters n8n holds for a node saved with `saved` (the editor and the engine both run this). */
	const loaded = (saved: Record<string, unknown>, typeVersion = 1) =>
		NodeHelpers.getNodeParameters(
			action.properties,
			saved as never,
			true,
			false,
			node(saved, typeVersion),
			action,
		);
	/** What n8n saves of those parameters: only what differs from the default of the node's version. */
	const saved = (parameters: Record<string, unknown>, typeVersion: number) =>
		NodeHelpers.getNodeParameters(
			action.properties,
			parameters as never,
			false,
			false,
			node(parameters, typeVersion),
			action,
		);
	const issues = (parameters: Record<string, unknown>, typeVersion = 1) =>
		NodeHelpers.getNodeParametersIssues(action.properties, node(parameters, typeVersion), action)?.parameters
			?.customerId;

	test('every operation that takes a customer offers the modes By ID and By External ID, in both versions', () => {
		const fields = action.properties.filter((property) => property.name === 'customerId');
		const where = (field: INodeProperties) =>
			`${field.displayOptions?.show?.resource?.[0]}.${field.displayOptions?.show?.operation?.[0]}`;
		const expected = takesCustomer.map(([resource, operation]) => `${resource}.${operation}`).sort();
		// One declaration per node version (n8n shows the one whose @version matches), same place, name and modes.
		for (const version of [1, 1.1]) {
			const shown = fields.filter((field) => forVersion(field.displayOptions, version).shown);
			expect(shown.map(where).sort()).toEqual(expected);
		}
		expect(fields).toHaveLength(2 * takesCustomer.length);
		for (const field of fields) {
			expect(field).toMatchObject({ type: 'resourceLocator', required: true });
			expect(field.modes?.map((mode) => [mode.name, mode.displayName])).toEqual([
				['id', 'By ID'],
				['externalId', 'By External ID'],
			]);
		}
	});

	test('version 1 keeps its default "", version 1.1 starts By ID (n8n\'s locator default shape)', () => {
		const fields = action.properties.filter((property) => property.name === 'customerId');
		const defaultsIn = (version: number) =>
			fields.filter((field) => forVersion(field.displayOptions, version).shown).map((field) => field.default);
		expect(defaultsIn(1)).toEqual(takesCustomer.map(() => ''));
		expect(defaultsIn(1.1)).toEqual(takesCustomer.map(() => ({ mode: 'id', value: '' })));
	});

	test('n8n keeps a saved plain Customer ID string as it is; a new v1 node starts empty, a new v1.1 node By ID', () => {
		const id = '3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a';
		const locator = { __rl: true, mode: 'externalId', value: 'user-1' };
		for (const [resource, operation] of takesCustomer) {
			for (const version of [1, 1.1]) {
				expect(loaded({ resource, operation, customerId: id }, version)?.customerId).toBe(id);
				expect(loaded({ resource, operation, customerId: locator }, version)?.customerId).toEqual(locator);
			}
			expect(loaded({ resource, operation })?.customerId).toBe('');
			expect(loaded({ resource, operation }, 1.1)?.customerId).toEqual({ __rl: true, mode: 'id', value: '' });
		}
	});

	test('a new v1.1 node saved as it is loads back By ID; a v1 node saved without a customer stays ""', () => {
		const base = { resource: 'customer', operation: 'block' };
		const fresh = loaded(base, 1.1) as Record<string, unknown>;
		const kept = saved(fresh, 1.1) as Record<string, unknown>;
		expect(loaded(kept, 1.1)?.customerId).toEqual({ __rl: true, mode: 'id', value: '' });
		expect(loaded(saved(loaded(base) as never, 1) as never)?.customerId).toBe('');
	});

	test('the editor flags an empty value and a typed ID that is not a UUID, not an expression', () => {
		const base = { resource: 'customer', operation: 'block' };
		const id = '3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a';
		expect(issues({ ...base, customerId: id })).toBeUndefined();
		expect(issues({ ...base, customerId: { __rl: true, mode: 'id', value: id } })).toBeUndefined();
		expect(
			issues({ ...base, customerId: { __rl: true, mode: 'externalId', value: 'user-1' } }),
		).toBeUndefined();
		expect(
			issues({ ...base, customerId: { __rl: true, mode: 'id', value: '={{ $json.id }}' } }),
		).toBeUndefined();
		expect(issues({ ...base, customerId: { __rl: true, mode: 'id', value: 'user-1' } })).toEqual([
			'Not a Calypso customer ID: expected a UUID like 3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a',
		]);
		expect(issues({ ...base, customerId: { __rl: true, mode: 'externalId', value: '' } })).toEqual([
			'Parameter "Customer" is required.',
		]);
		expect(issues({ ...base, customerId: '' })).toEqual(['Parameter "Customer" is required.']);
		// A new v1.1 node, untouched: the same flag as v1's empty value.
		expect(issues(base, 1.1)).toEqual(['Parameter "Customer" is required.']);
		expect(issues({ ...base, customerId: { __rl: true, mode: 'id', value: 'user-1' } }, 1.1)).toEqual([
			'Not a Calypso customer ID: expected a UUID like 3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a',
		]);
	});
});
