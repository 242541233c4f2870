// @ts-check
'use strict';
/**
 * n8n-core's own DI container (@n8n/di), found from wherever the n8n-core under test is: nested in the
 * devDependencies' tree, hoisted in an installed n8n's (which `npm test` runs on, see jest.config.js). Plain
 * JavaScript: the linter holds every .ts file to n8n Cloud's import rules.
 */
const path = require('node:path');

module.exports = require(require.resolve('@n8n/di', { paths: [path.dirname(require.resolve('n8n-core'))] }));
