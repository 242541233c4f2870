// @ts-check
'use strict';
// File access for tests, in JavaScript: the linter forbids node:fs, node:path and process in any .ts file.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

/** @param {string} relative a path from the repository root */
exports.readRepoFile = (relative) => fs.readFileSync(path.join(ROOT, relative), 'utf8');

/** Rewrites a file only when UPDATE_CONTRACTS=1 is set; says whether it did. @param {string} relative @param {string} text */
exports.rewriteIfAsked = (relative, text) => {
	if (process.env.UPDATE_CONTRACTS !== '1') return false;
	fs.writeFileSync(path.join(ROOT, relative), text);
	return true;
};

/** The names of the files in a repository folder, by its path from the root. */
exports.listRepoDir = (relative) => fs.readdirSync(path.join(ROOT, relative));

/** A repository script's exports (scripts/ is JavaScript, outside the TypeScript project). */
exports.requireRepoModule = (relative) => require(path.join(ROOT, relative));
