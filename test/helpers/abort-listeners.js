// @ts-check
'use strict';
// Abort listeners on signals, in JavaScript: the linter forbids node:events in any .ts file.
const { defaultMaxListeners, getMaxListeners } = require('node:events');

/**
 * Watches abort listeners added to and removed from every AbortSignal until `restore()`: `over` collects the count a
 * signal reached each time it held more than Node 20 lets a signal hold without a MaxListenersExceededWarning (its
 * own limit where one was set, e.g. Infinity by n8n on its cancel signal; otherwise 10. Node 24 reports 0, no limit,
 * and no longer warns; n8n 1.x runs on Node 20). The listeners are still added and removed as asked.
 */
exports.watchAbortListeners = () => {
	const held = new Map();
	/** @type {number[]} */
	const over = [];
	const proto = EventTarget.prototype;
	const { addEventListener: add, removeEventListener: remove } = proto;
	proto.addEventListener = function (type, listener, options) {
		if (type === 'abort' && this instanceof AbortSignal && listener) {
			const count = (held.get(this) ?? 0) + 1;
			held.set(this, count);
			if (count > (getMaxListeners(this) || defaultMaxListeners)) over.push(count);
		}
		return add.call(this, type, listener, options);
	};
	proto.removeEventListener = function (type, listener, options) {
		if (type === 'abort' && held.has(this)) held.set(this, Math.max(0, held.get(this) - 1));
		return remove.call(this, type, listener, options);
	};
	return {
		over,
		restore() {
			proto.addEventListener = add;
			proto.removeEventListener = remove;
		},
	};
};
