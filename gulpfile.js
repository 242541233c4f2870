// Build step after tsc: copy what TypeScript does not emit into dist/ — the node's icons and its codex
// file (*.node.json, read by n8n next to the compiled node), keeping their folders.
const { src, dest } = require('gulp');

function copyAssets() {
	return src(['nodes/**/*.svg', 'nodes/**/*.png', 'nodes/**/*.node.json'], { base: '.', encoding: false }).pipe(dest('dist'));
}

exports.build = copyAssets;
exports.default = copyAssets;
