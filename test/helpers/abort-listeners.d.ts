// Declarations for abort-listeners.js.

/**
 * Watches abort listeners on every AbortSignal until `restore()`: `over` collects the count a signal reached each time
 * it held more than Node 20 allows without a MaxListenersExceededWarning (its own limit if set, else 10).
 */
export function watchAbortListeners(): { over: number[]; restore(): void };
