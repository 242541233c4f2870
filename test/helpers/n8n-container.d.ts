// Declarations for n8n-container.js (structural: @n8n/di is n8n-core's dependency, not this package's).

/** n8n-core's DI container. */
export declare const Container: {
	has(type: abstract new (...args: never[]) => unknown): boolean;
	get<T>(type: abstract new (...args: never[]) => T): T;
};
