import { NodeOperationError } from 'n8n-workflow';
import type { IExecuteFunctions } from 'n8n-workflow';

/** Checks run on every item before anything is sent. Each error names the field and the form it expects. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CURRENCY = /^[A-Z0-9]{2,10}(_[A-Z0-9]{2,10})?$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

type Ctx = Pick<IExecuteFunctions, 'getNode'>;

/** How many characters (Unicode code points) a text has, as the API's `maxLength` counts them: 😀 is 1, not 2. */
export function characters(text: string): number {
	return Array.from(text).length;
}

function shown(value: unknown): string {
	const text = typeof value === 'string' ? value : JSON.stringify(value);
	if (text === undefined) return 'nothing';
	const chars = Array.from(text);
	return `"${chars.length > 60 ? `${chars.slice(0, 57).join('')}...` : text}"`;
}

function fail(ctx: Ctx, itemIndex: number, message: string, description?: string): never {
	throw new NodeOperationError(ctx.getNode(), message, { itemIndex, description });
}

export function uuid(
	ctx: Ctx,
	itemIndex: number,
	label: string,
	value: unknown,
	description?: string,
): string {
	const text = typeof value === 'string' ? value.trim() : '';
	if (!UUID.test(text)) {
		fail(
			ctx,
			itemIndex,
			`${label} must be a UUID like 3f2c9a4e-8b1d-4c6f-9a2e-5d7b1c0e4f8a, got ${shown(value)}`,
			description,
		);
	}
	return text.toLowerCase();
}

/** An optional field left empty: absent, null or blank (an expression that resolved to nothing). Such a field is not sent. */
export function isEmpty(value: unknown): boolean {
	return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

export function text(
	ctx: Ctx,
	itemIndex: number,
	label: string,
	value: unknown,
	maxLength: number,
	required = false,
): string {
	if (value !== undefined && value !== null && typeof value !== 'string' && typeof value !== 'number') {
		fail(ctx, itemIndex, `${label} must be text, got ${shown(value)}`);
	}
	const result = value === undefined || value === null ? '' : String(value);
	if (required && result.trim() === '') fail(ctx, itemIndex, `${label} is required and must not be empty`);
	const length = characters(result);
	if (length > maxLength) {
		fail(ctx, itemIndex, `${label} must be at most ${maxLength} characters, got ${length}`);
	}
	return result;
}

export function email(ctx: Ctx, itemIndex: number, label: string, value: unknown): string {
	const result = text(ctx, itemIndex, label, value, 254).trim();
	if (!EMAIL.test(result))
		fail(ctx, itemIndex, `${label} must be an email address like name@example.com, got ${shown(value)}`);
	return result;
}

/** One ticker, upper-cased: BTC, USDT, USDT_TRX. */
export function currency(ctx: Ctx, itemIndex: number, label: string, value: unknown): string {
	const result = typeof value === 'string' ? value.trim().toUpperCase() : '';
	if (!CURRENCY.test(result)) {
		fail(
			ctx,
			itemIndex,
			`${label} must be a Calypso currency ticker such as BTC, ETH, USDT or USDT_TRX, got ${shown(value)}`,
			'Tokens off their home chain carry the network after an underscore: USDT_TRX, USDT_BSC, USDT_MATIC (not USDT-TRC20).',
		);
	}
	return result;
}

/** A list given as an array or as comma-separated text (from an expression), without its empty entries. */
export function list(value: unknown): unknown[] {
	const parts = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [value];
	return parts
		.filter((part) => !isEmpty(part))
		.map((part) => (typeof part === 'string' ? part.trim() : part));
}

/** A comma-separated list of tickers ("USDT_TRX, BTC") or an array of them. */
export function currencies(ctx: Ctx, itemIndex: number, label: string, value: unknown): string[] {
	return list(value).map((part) => currency(ctx, itemIndex, label, part));
}

export function integer(
	ctx: Ctx,
	itemIndex: number,
	label: string,
	value: unknown,
	min: number,
	max: number,
): number {
	if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
		fail(ctx, itemIndex, `${label} must be a whole number from ${min} to ${max}, got ${shown(value)}`);
	}
	return value;
}

export function oneOf<T extends string>(
	ctx: Ctx,
	itemIndex: number,
	label: string,
	value: unknown,
	allowed: readonly T[],
): T {
	if (typeof value !== 'string' || !allowed.includes(value as T)) {
		fail(ctx, itemIndex, `${label} must be one of ${allowed.join(', ')}, got ${shown(value)}`);
	}
	return value as T;
}
