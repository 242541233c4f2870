#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run scan`: n8n's verification scanner (@n8n/scan-community-package, a dev dependency) run locally, the
 * way it checks a published package, on
 *   (a) the repository source: package.json + nodes/ and credentials/ (its SOURCE_FILE_PATTERNS), and
 *   (b) what npm would publish: `npm pack` into a temporary folder, unpacked, its *.js + package.json.
 * The scanner lints with n8n's community-node rules and ignores inline eslint-disable comments.
 * Its npm-only steps (provenance attestation, downloading the release) need a published version and are not run.
 * Build first (`npm run build`): the packed package ships dist/. Exits 1 on any finding.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');

/** @param {string} cmd @param {string[]} args @param {string} cwd */
function run(cmd, args, cwd) {
	const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
	if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
	return r.stdout;
}

/** npm pack → unpacked folder (the scanner does the same with a registry tarball). @param {string} tmp */
function packAndUnpack(tmp) {
	const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], ROOT);
	const [info] = JSON.parse(out);
	const dir = path.join(tmp, 'package');
	fs.mkdirSync(dir);
	run('tar', ['-xzf', path.join(tmp, info.filename), '-C', dir, '--strip-components=1'], tmp);
	return { dir, files: /** @type {Array<{path: string}>} */ (info.files).map((f) => f.path), filename: info.filename };
}

async function main() {
	if (!fs.existsSync(path.join(ROOT, 'dist'))) throw new Error('dist/ is missing: run `npm run build` first');
	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calypso-scan-'));
	// The scanner makes a temporary folder when loaded (for registry downloads) and leaves it behind: put it in ours.
	const tmpdir = process.env.TMPDIR;
	process.env.TMPDIR = tmp;
	let findings = 0;
	try {
		/** @type {any} */
		const scanner = await import(/** @type {string} */ ('@n8n/scan-community-package/scanner/scanner.mjs'));
		if (tmpdir === undefined) delete process.env.TMPDIR;
		else process.env.TMPDIR = tmpdir;
		const packed = packAndUnpack(tmp);
		const targets = [
			{ label: 'source (package.json, nodes/, credentials/)', dir: ROOT, patterns: scanner.SOURCE_FILE_PATTERNS },
			{ label: `npm pack output ${packed.filename} (${packed.files.length} files; *.js + package.json)`, dir: packed.dir, patterns: ['**/*.js', 'package.json'] },
		];
		for (const { label, dir, patterns } of targets) {
			const result = await scanner.analyzePackage(dir, patterns);
			if (result.passed && result.message) {
				findings++; // e.g. "No files found to analyze": nothing was checked
				process.stdout.write(`✘ ${label}: ${result.message}\n`);
			} else if (result.passed) {
				process.stdout.write(`✔ ${label}: no findings\n`);
			} else {
				findings++;
				process.stdout.write(`✘ ${label}: ${result.message}\n${result.details ?? ''}\n`);
			}
		}
	} finally {
		fs.rmSync(tmp, { recursive: true, force: true });
	}
	if (findings) process.exitCode = 1;
}

main().catch((error) => {
	process.stderr.write(`scan failed: ${error instanceof Error ? error.stack : error}\n`);
	process.exitCode = 1;
});
