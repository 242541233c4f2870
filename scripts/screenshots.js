#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * `npm run screenshots`: the README's pictures of the node in the real n8n editor, taken fresh from the current
 * build, so they stay true when the node changes:
 *   docs/images/transaction-get-many.png   the Calypso Pay node's Transaction → Get Many panel, with its Options
 *   docs/images/workflow-canvas.png        the sign-up example on the canvas, after a run against the emulator
 *   docs/images/trigger-fired.png          the Calypso Pay Trigger's panel after `npm run send-event` made it fire
 *
 * It builds the package, starts what `npm run dev` starts (scripts/dev.js startDev: n8n with the examples, the
 * emulator; in a fresh user folder of its own and on free ports, so a running `npm run dev` is not disturbed) and
 * drives Debian's Chromium (package `chromium`, /usr/bin/chromium; override with CHROMIUM_PATH) headless through
 * playwright-core. Every request outside 127.0.0.1 is blocked. Each picture is taken once what it shows is on
 * screen and has stopped moving (elements, icons, fonts), not after a fixed sleep. Exits 1 when any picture could
 * not be taken (leaving a screenshot of what the browser showed in the n8n user folder) and leaves the other
 * pictures unchanged. Options: --no-build, --out DIR (default docs/images).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startDev, build, OWNER } = require('./dev');
const { EXAMPLES, TRIGGER_EXAMPLE } = require('./examples');

const ROOT = path.resolve(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const VIEWPORT = { width: 1440, height: 900 };
const STEP_TIMEOUT_MS = 90000;
/** Transient overlays hidden before each picture: toasts ("Workflow executed successfully") and tooltips. */
const HIDE = '.el-notification, .el-popper[role="tooltip"], [role="tooltip"] { display: none !important; }';
const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const secs = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;

/** @param {string[]} argv */
function parseArgs(argv) {
	const opts = { build: true, out: path.join(ROOT, 'docs', 'images') };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i] === '--no-build') opts.build = false;
		else if (argv[i] === '--out' && argv[i + 1]) opts.out = path.resolve(argv[++i]);
		else throw new Error(`Unknown option ${argv[i]} (see the comment at the top of scripts/screenshots.js)`);
	}
	return opts;
}

/** playwright-core (a devDependency) and a Chromium binary, or a clear message of what to install. */
function loadBrowser() {
	if (!fs.existsSync(CHROMIUM)) {
		throw new Error(`no Chromium at ${CHROMIUM}: install Debian's package (as root: apt-get install -y chromium), ` +
			'or set CHROMIUM_PATH to a Chromium binary');
	}
	try {
		return require('playwright-core').chromium;
	} catch {
		throw new Error('playwright-core is missing: run `npm ci` (it is a devDependency)');
	}
}

/**
 * Resolves once `selector` matches visible elements, every visible image has loaded, the fonts are loaded and those
 * elements kept the same boxes for 400 ms (the canvas' fit-to-view and the panel's opening animation are over).
 * @param {import('playwright-core').Page} page @param {string} selector
 */
async function settled(page, selector) {
	await page.waitForFunction((sel) => {
		const visible = (/** @type {Element} */ e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
		const els = [...document.querySelectorAll(sel)].filter(visible); // e.g. the Settings tab's are in the DOM, hidden
		if (els.length === 0 || document.fonts.status !== 'loaded') return false;
		if (![...document.images].filter(visible).every((i) => i.complete && i.naturalWidth > 0)) return false;
		const key = els.map((e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height].map(Math.round).join(','); }).join(';');
		const w = /** @type {any} */ (window);
		if (w.__shotKey !== key) { w.__shotKey = key; w.__shotAt = performance.now(); return false; }
		return performance.now() - w.__shotAt >= 400;
	}, selector, { polling: 100, timeout: STEP_TIMEOUT_MS });
}

/** `npm run send-event` against this emulator; resolves its output, rejects unless it exits 0. @param {string} emulatorUrl */
function sendEvent(emulatorUrl) {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [path.join(ROOT, 'test', 'emulator', 'cli.js'), 'send-event', '--emulator', emulatorUrl],
			{ stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		child.stdout.on('data', (d) => (out += d));
		child.stderr.on('data', (d) => (out += d));
		child.on('error', reject);
		child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`send-event exited ${code}:\n${out}`))));
	});
}

async function main() {
	const t0 = Date.now();
	const opts = parseArgs(process.argv.slice(2));
	const chromium = loadBrowser();
	if (opts.build) {
		say('Building the package (npm run build) …');
		await build();
	}
	const devLog = /** @type {string[]} */ ([]);
	say('Starting n8n and the emulator (as npm run dev does) …');
	const dev = await startDev({ port: 0, emulatorPort: 0, fresh: true, name: 'screenshots', log: (l) => devLog.push(l) });
	say(`n8n ${dev.url}, emulator ${dev.emu.baseUrl} (${secs(Date.now() - t0)})`);
	const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'calypso-screenshots-chromium-'));
	/** @type {import('playwright-core').BrowserContext | undefined} */
	let browser;
	const failures = /** @type {string[]} */ ([]);
	const blocked = /** @type {string[]} */ ([]);
	try {
		browser = await chromium.launchPersistentContext(userDataDir, {
			executablePath: CHROMIUM,
			headless: true,
			viewport: VIEWPORT,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
				'--disable-background-networking', '--disable-component-update', '--disable-sync',
				'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
			timeout: STEP_TIMEOUT_MS,
		});
		await browser.route('**/*', (route) => {
			const url = new URL(route.request().url());
			if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
			blocked.push(url.href);
			return route.abort();
		});
		const page = browser.pages()[0] ?? (await browser.newPage());
		page.setDefaultTimeout(STEP_TIMEOUT_MS);

		await page.goto(`${dev.url}/signin`);
		await page.fill('input[name="emailOrLdapLoginId"]', OWNER.email);
		await page.fill('input[name="password"]', OWNER.password);
		await page.click('[data-test-id="form-submit-button"]');
		await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
		say(`logged in to the editor (${secs(Date.now() - t0)})`);

		const node = (/** @type {string} */ name) => `[data-test-id="canvas-node"][data-node-name="${name}"]`;
		const openWorkflow = async (/** @type {{ id: string, file: string }} */ example) => {
			await page.goto(`${dev.url}/workflow/${example.id}`);
			const names = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', example.file), 'utf8')).nodes.map((/** @type {any} */ n) => n.name);
			await page.waitForFunction((n) => document.querySelectorAll('[data-test-id="canvas-node"]').length === n, names.length);
			await settled(page, '[data-test-id="canvas-node"]');
		};
		const openPanel = async (/** @type {string} */ name) => {
			await page.locator(node(name)).dblclick();
			await page.waitForSelector('[data-test-id="ndv"] [data-test-id="node-parameters"]');
		};
		/** @param {string} file @param {() => Promise<void>} take */
		const shot = async (file, take) => {
			const t = Date.now();
			try {
				await take();
				await page.addStyleTag({ content: HIDE }); // toasts and tooltips: transient, and they cover the view
				const buffer = await page.screenshot({ type: 'png' });
				fs.mkdirSync(opts.out, { recursive: true });
				fs.writeFileSync(path.join(opts.out, file), buffer);
				say(`  ✔ ${path.relative(ROOT, path.join(opts.out, file))} (${Math.round(buffer.length / 1024)} KB, ${secs(Date.now() - t)})`);
			} catch (error) {
				const failed = path.join(path.dirname(dev.logFile), `failed-${file}`);
				await page.screenshot({ path: failed }).catch(() => undefined);
				failures.push(file);
				say(`  ✘ ${file}: ${String(/** @type {Error} */ (error).message).split('\n')[0]}\n      the browser showed: ${path.relative(ROOT, failed)}`);
			}
		};

		const [signup, sweep] = EXAMPLES;
		await shot('transaction-get-many.png', async () => {
			await openWorkflow(sweep);
			await openPanel('Confirmed transactions');
			const params = page.locator('[data-test-id="ndv"] [data-test-id="node-parameters"]');
			await page.waitForFunction(() => {
				const field = document.querySelector('[data-test-id="ndv"] [data-test-id="parameter-input-operation"]');
				const inputs = [...(field?.querySelectorAll('input') ?? [])].map((i) => i.value);
				return [field?.textContent, ...inputs].some((t) => t?.trim() === 'Get Many');
			});
			await params.getByText('Options', { exact: true }).waitFor();
			await settled(page, '[data-test-id="ndv"] [data-test-id="parameter-item"]');
		});
		await shot('workflow-canvas.png', async () => {
			await openWorkflow(signup);
			await page.click('[data-test-id="execute-workflow-button"]');
			// every node of the example ran: n8n marks each one with a success check
			await page.waitForFunction(() => {
				const nodes = [...document.querySelectorAll('[data-test-id="canvas-node"]')];
				return nodes.length > 0 && nodes.every((n) => n.querySelector('[data-test-id="canvas-node-status-success"]'));
			});
			await page.mouse.click(VIEWPORT.width - 10, VIEWPORT.height / 2); // nothing selected or hovered
			await page.waitForFunction(() => /Execute workflow/.test(document.querySelector('[data-test-id="execute-workflow-button"]')?.textContent ?? ''));
			await settled(page, '[data-test-id="canvas-node"], [data-test-id="execute-workflow-button"]');
		});
		await shot('trigger-fired.png', async () => {
			await openWorkflow(TRIGGER_EXAMPLE);
			await openPanel('Calypso Pay Trigger');
			await page.click('[data-test-id="ndv"] [data-test-id="node-execute-button"]'); // "Listen for test event"
			await page.waitForFunction(() => /Listening/i.test(document.querySelector('[data-test-id="ndv"]')?.textContent ?? ''));
			const deadline = Date.now() + STEP_TIMEOUT_MS;
			while (!dev.emu.subscriptions.some((s) => s.url.includes('/webhook-test/'))) {
				if (Date.now() > deadline) throw new Error('the listening trigger created no subscription at the emulator');
				await page.waitForTimeout(100);
			}
			const out = String(await sendEvent(dev.emu.baseUrl));
			say(out.trimEnd().replace(/^/gm, '      '));
			const output = page.locator('[data-test-id="ndv"] [data-test-id="output-panel"]');
			await output.locator('[data-test-id="ndv-run-data-display-mode"]').getByText('JSON', { exact: true }).click();
			await output.getByText('"CUSTOMER_PURSE_FUNDS_RECEIVED_FOR_PURSE"').first().waitFor();
			await settled(page, '[data-test-id="ndv"] [data-test-id="output-panel"]');
		});
	} finally {
		await browser?.close().catch(() => undefined);
		fs.rmSync(userDataDir, { recursive: true, force: true });
		await dev.stop();
	}
	if (blocked.length) say(`blocked ${blocked.length} request(s) outside 127.0.0.1, e.g. ${blocked[0]}`);
	say(`${failures.length ? `${failures.length} screenshot(s) failed` : 'all screenshots taken'} — wall time ${secs(Date.now() - t0)}`);
	if (failures.length) {
		say(`(n8n's log: ${path.relative(ROOT, dev.logFile)})`);
		process.exitCode = 1;
	}
}

main().catch((error) => {
	process.stderr.write(`\nscreenshots failed: ${error instanceof Error ? error.message : error}\n`);
	process.exit(1);
});
