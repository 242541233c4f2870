// @ts-check
'use strict';
/**
 * n8n in queue mode on 127.0.0.1, for `npm run test:queue` (test/queue/run.js) and `npm run bench`:
 *   PostgreSQL and Redis (Debian's `postgresql` and `redis-server`, apt-installed when missing; Postgres runs as
 *   the unprivileged `postgres` user when we are root), then n8n main + worker(s) + webhook processors, all with
 *   EXECUTIONS_MODE=queue, one encryption key, one database and one Redis, and each with this package installed in
 *   its own user folder. The pinned n8n of scripts/n8n-local.js.
 * Everything lives in one temp folder on free ports; stop() stops it all and removes the folder (n8n's logs are kept
 * elsewhere when asked to); stop() also runs on exit, Ctrl-C and SIGTERM.
 */
const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');
const {
	ensureN8n,
	installPackage,
	serve,
	freePort,
	killGroup,
	run,
	nodeEnv,
	n8nEnv,
	ownerEnv,
	restClient,
	NODE_BIN,
	N8N_BIN,
	ROOT: N8N_ROOT,
} = require('../../scripts/n8n-local');

const OWNER = { email: 'queue-owner@example.com', password: 'Queue-owner-password-1' };
const DATABASE = 'n8n';
const WORKER_CONCURRENCY = 10;
/** n8n's default DB_POSTGRESDB_POOL_SIZE (what users get unless they set it); startN8n({ env }) can change it. */
const N8N_DEFAULT_POOL_SIZE = 2;

/** @typedef {(line: string) => void} Log */
/** @typedef {{ name: string, url: string, port: number, log: () => string, stop: () => Promise<void> }} N8nProcess */

const pause = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value or timeoutMs is up (then returns the last value). @template T */
async function waitFor(/** @type {() => Promise<T> | T} */ fn, timeoutMs = 20000, intervalMs = 200) {
	const deadline = Date.now() + timeoutMs;
	let value = await fn();
	while (!value && Date.now() < deadline) {
		await pause(intervalMs);
		value = await fn();
	}
	return value;
}

/** The newest PostgreSQL server binaries folder (/usr/lib/postgresql/<major>/bin), if installed. */
function postgresBin() {
	const base = '/usr/lib/postgresql';
	const majors = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => /^\d+$/.test(v)) : [];
	const bin = majors
		.sort((a, b) => Number(b) - Number(a))
		.map((v) => path.join(base, v, 'bin'))
		.find((dir) => fs.existsSync(path.join(dir, 'postgres')));
	return bin;
}
const which = (/** @type {string} */ cmd) =>
	spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || undefined;

/** Installs Debian's postgresql and redis-server when either is missing (apt-get update first, then only). */
async function ensureServices(/** @type {Log} */ log) {
	if (postgresBin() && which('redis-server') && which('psql') && which('pg_isready')) return;
	const isRoot = process.getuid?.() === 0;
	const sudo = isRoot ? [] : ['sudo', '-n'];
	log('installing postgresql and redis-server (apt-get)…');
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	for (const args of [['apt-get', 'update'], ['apt-get', 'install', '-y', 'postgresql', 'redis-server']]) {
		const all = [...sudo, ...args];
		const r = await run(all[0], all.slice(1), { env });
		if (r.code !== 0) throw new Error(`${all.join(' ')} failed (exit ${r.code}):\n${(r.stderr || r.stdout).slice(-3000)}`);
	}
	if (!postgresBin() || !which('redis-server')) throw new Error('postgresql / redis-server still missing after apt-get');
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port and answers `PING` with `+PONG` (Redis). */
function redisPing(/** @type {number} */ port) {
	return new Promise((resolve) => {
		const socket = net.connect(port, '127.0.0.1');
		socket.setTimeout(1000);
		socket.on('connect', () => socket.write('PING\r\n'));
		socket.on('data', (d) => {
			socket.destroy();
			resolve(String(d).startsWith('+PONG'));
		});
		socket.on('timeout', () => { socket.destroy(); resolve(false); });
		socket.on('error', () => resolve(false));
	});
}

/** Spawns a service in its own process group, output to a file. */
function spawnService(/** @type {string[]} */ cmd, /** @type {string} */ logFile) {
	const out = fs.openSync(logFile, 'a');
	const child = spawn(cmd[0], cmd.slice(1), { detached: true, stdio: ['ignore', out, out] });
	fs.closeSync(out);
	return child;
}

/**
 * Starts PostgreSQL and Redis, and prepares (does not start) the n8n processes.
 * @param {{ packageDir: string, webhooks?: number, log?: Log }} opts
 */
async function startStack({ packageDir, webhooks = 2, log = () => {} }) {
	await ensureN8n({ log });
	await ensureServices(log);
	const bin = /** @type {string} */ (postgresBin());
	const isRoot = process.getuid?.() === 0;
	// Postgres refuses to run as root: as root, run it as Debian's `postgres` user (runuser does not pass signals
	// on, so it is stopped with pg_ctl).
	const asPostgres = (/** @type {string[]} */ cmd) => (isRoot ? ['runuser', '-u', 'postgres', '--', ...cmd] : cmd);

	const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'calypso-queue-'));
	fs.chmodSync(tmp, 0o755); // traversable by the postgres user
	const logs = path.join(tmp, 'logs');
	fs.mkdirSync(logs);
	/** @type {Array<() => Promise<void> | void>} */
	const cleanups = []; // run in reverse order by stop()
	let stopped = false;

	const pgData = path.join(tmp, 'pg');
	const pgSocket = path.join(tmp, 'pg-socket');
	const pgCtlStop = () => {
		const cmd = asPostgres([path.join(bin, 'pg_ctl'), '-D', pgData, 'stop', '-m', 'fast', '-t', '30']);
		spawnSync(cmd[0], cmd.slice(1), { stdio: 'ignore' });
	};
	/** @type {import('node:child_process').ChildProcess[]} */
	const services = [];
	/** @type {N8nProcess[]} */
	let running = [];
	// Last resort on a hard exit: kill every process group we started, stop Postgres (synchronously).
	const onExit = () => {
		for (const p of running) p.stop();
		for (const child of services) {
			try { process.kill(-(/** @type {number} */ (child.pid)), 'SIGKILL'); } catch { /* gone */ }
		}
		if (fs.existsSync(path.join(pgData, 'postmaster.pid'))) pgCtlStop();
		fs.rmSync(tmp, { recursive: true, force: true });
	};
	process.once('exit', onExit);
	const onSignal = (/** @type {NodeJS.Signals} */ signal) => {
		log(`${signal}: stopping the queue-mode stack…`);
		void stop().finally(() => process.exit(130));
	};
	process.once('SIGINT', onSignal);
	process.once('SIGTERM', onSignal);

	async function stop({ keepLogs = false } = {}) {
		if (stopped) return undefined;
		stopped = true;
		process.removeListener('SIGINT', onSignal);
		process.removeListener('SIGTERM', onSignal);
		for (const fn of cleanups.reverse()) {
			try { await fn(); } catch (error) { log(`cleanup: ${error instanceof Error ? error.message : error}`); }
		}
		let kept;
		if (keepLogs) {
			kept = path.join(os.tmpdir(), `calypso-queue-logs-${process.pid}-${Date.now()}`);
			fs.cpSync(logs, kept, { recursive: true });
		}
		fs.rmSync(tmp, { recursive: true, force: true });
		process.removeListener('exit', onExit);
		return kept;
	}

	try {
		// ---- PostgreSQL
		const pgPort = await freePort();
		fs.mkdirSync(pgData, { mode: 0o700 });
		fs.mkdirSync(pgSocket);
		if (isRoot) {
			const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
			const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
			if (!Number.isInteger(uid)) throw new Error('no postgres user (Debian\'s postgresql package creates it)');
			fs.chownSync(pgData, uid, gid);
			fs.chownSync(pgSocket, uid, gid);
		}
		const initdb = asPostgres([path.join(bin, 'initdb'), '-D', pgData, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
		const init = await run(initdb[0], initdb.slice(1));
		if (init.code !== 0) throw new Error(`initdb failed:\n${init.stdout}${init.stderr}`);
		const pg = spawnService(
			asPostgres([path.join(bin, 'postgres'), '-D', pgData, '-p', String(pgPort), '-k', pgSocket, '-c', 'listen_addresses=127.0.0.1']),
			path.join(logs, 'postgres.log'),
		);
		services.push(pg);
		cleanups.push(async () => {
			pgCtlStop();
			await killGroup(pg, 5000);
		});
		const pgUp = await waitFor(async () => (await run('pg_isready', ['-h', '127.0.0.1', '-p', String(pgPort)])).code === 0, 30000, 300);
		if (!pgUp) throw new Error(`PostgreSQL did not come up on port ${pgPort}: ${fs.readFileSync(path.join(logs, 'postgres.log'), 'utf8').slice(-2000)}`);

		/** Runs SQL in the n8n database; resolves with psql's unaligned output lines. @param {string} sql */
		const psql = async (sql, database = DATABASE) => {
			const r = await run('psql', ['-h', '127.0.0.1', '-p', String(pgPort), '-U', 'postgres', '-d', database, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
			if (r.code !== 0) throw new Error(`psql: ${r.stderr || r.stdout}`);
			return r.stdout.split('\n').filter((line) => line !== '');
		};
		await psql(`CREATE DATABASE ${DATABASE}`, 'postgres');

		// ---- Redis
		const redisPort = await freePort();
		const redis = spawnService(
			['redis-server', '--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
			path.join(logs, 'redis.log'),
		);
		services.push(redis);
		cleanups.push(() => killGroup(redis, 5000));
		if (!(await waitFor(() => redisPing(redisPort), 15000, 200))) throw new Error(`Redis did not come up on port ${redisPort}`);

		// ---- n8n: one user folder per process, each with the package installed
		const ports = {
			main: await freePort(),
			worker: await freePort(),
			webhooks: await Promise.all(Array.from({ length: webhooks }, () => freePort())),
		};
		const webhookUrls = ports.webhooks.map((p) => `http://127.0.0.1:${p}`);
		const publicUrl = `${webhookUrls[0]}/`; // what Calypso is given; a load balancer's URL in production
		const folder = (/** @type {string} */ name) => {
			const dir = path.join(tmp, 'n8n', name);
			fs.mkdirSync(dir, { recursive: true });
			installPackage(dir, packageDir);
			return dir;
		};
		/** The environment every n8n process shares, plus its own user folder and task-runner port. */
		const env = async (/** @type {string} */ name, /** @type {Record<string, string>} */ extra = {}) => ({
			...nodeEnv(),
			...n8nEnv(folder(name), await freePort()),
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(pgPort),
			DB_POSTGRESDB_DATABASE: DATABASE,
			DB_POSTGRESDB_USER: 'postgres',
			DB_POSTGRESDB_PASSWORD: '',
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redisPort),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_PROTOCOL: 'http',
			N8N_WEBHOOK_URL: publicUrl,
			OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
			...extra, // no DB_POSTGRESDB_POOL_SIZE: n8n's default, as users run it (startN8n({ env }) tunes it)

		});
		const cliEnv = await env('cli');

		/** Any n8n CLI command against the shared database. @param {string[]} args */
		const cli = async (args) => {
			const r = await run(NODE_BIN, [N8N_BIN, ...args], { env: cliEnv });
			if (r.code !== 0) throw new Error(`n8n ${args.join(' ')} failed (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
			return r;
		};
		const importFile = async (/** @type {string} */ cmd, /** @type {unknown} */ data, /** @type {string[]} */ flags = []) => {
			const file = path.join(tmp, `${cmd.replace(':', '-')}-${crypto.randomUUID()}.json`);
			fs.writeFileSync(file, JSON.stringify(data));
			try { await cli([cmd, `--input=${file}`, ...flags]); } finally { fs.rmSync(file, { force: true }); }
		};

		/** @type {Array<{ name: string, port: number, args: string[], ready: string, extra: Record<string, string> }>} */
		const specs = [
			{
				name: 'main', port: ports.main, args: ['start'], ready: '/healthz/readiness',
				extra: {
					N8N_PORT: String(ports.main),
					N8N_EDITOR_BASE_URL: `http://127.0.0.1:${ports.main}/`,
					N8N_DISABLE_PRODUCTION_MAIN_PROCESS: 'true', // production webhooks go to the webhook processors only
					...ownerEnv(OWNER),
				},
			},
			{
				name: 'worker', port: ports.worker, args: ['worker', `--concurrency=${WORKER_CONCURRENCY}`], ready: '/healthz',
				extra: { QUEUE_HEALTH_CHECK_ACTIVE: 'true', QUEUE_HEALTH_CHECK_PORT: String(ports.worker), N8N_PORT: String(await freePort()) },
			},
			...ports.webhooks.map((port, i) => ({
				name: `webhook-${String.fromCharCode(97 + i)}`, port, args: ['webhook'], ready: '/healthz/readiness',
				extra: { N8N_PORT: String(port) },
			})),
		];
		const envs = await Promise.all(specs.map((s) => env(s.name, s.extra)));
		/** Full output of every n8n process started so far, by name (restarts append). @type {Record<string, string>} */
		const output = Object.fromEntries(specs.map((s) => [s.name, '']));

		/** The environment this start added to every n8n process (startN8n's `env`). @type {Record<string, string>} */
		let started = {};
		/**
		 * Starts every n8n process (main, worker, webhook processors) at once; resolves when all are ready.
		 * `env` is added to every process's environment for this start (e.g. DB_POSTGRESDB_POOL_SIZE).
		 * @param {{ timeoutMs?: number, env?: Record<string, string> }} [opts]
		 */
		async function startN8n({ timeoutMs = 180000, env: added = {} } = {}) {
			started = added;
			const results = await Promise.allSettled(
				specs.map(async (s, i) => {
					const file = path.join(logs, `${s.name}.log`);
					const url = `http://127.0.0.1:${s.port}`;
					const server = await serve({
						args: s.args, env: { ...envs[i], ...added }, readyUrl: `${url}${s.ready}`, timeoutMs,
						onOutput: (chunk) => { output[s.name] += chunk; fs.appendFileSync(file, chunk); },
					});
					/** @type {N8nProcess} */
					const p = { name: s.name, url, port: s.port, log: () => output[s.name], stop: server.stop };
					running.push(p);
					return p;
				}),
			);
			const failed = results.filter((r) => r.status === 'rejected');
			if (failed.length) {
				await stopN8n();
				throw /** @type {PromiseRejectedResult} */ (failed[0]).reason;
			}
			const [main, worker, ...hooks] = results.map((r) => /** @type {PromiseFulfilledResult<N8nProcess>} */ (r).value);
			return { main, worker, webhooks: hooks };
		}
		/** Stops every running n8n process (SIGTERM, then SIGKILL after 10 s). */
		async function stopN8n() {
			const all = running;
			running = [];
			await Promise.all(all.map((p) => p.stop()));
		}
		cleanups.push(stopN8n);

		/** The executions of a workflow, oldest first, from n8n's own table. @param {string} workflowId */
		async function executions(workflowId) {
			const rows = await psql(
				`SELECT json_build_object('id', id, 'status', status, 'mode', mode, 'finished', finished, 'startedAt', "startedAt", 'stoppedAt', "stoppedAt")::text FROM execution_entity WHERE "workflowId" = '${workflowId.replace(/'/g, "''")}' ORDER BY id`,
			);
			return rows.map((/** @type {string} */ row) => /** @type {{ id: string, status: string, mode: string, finished: boolean, startedAt: string | null, stoppedAt: string | null }} */ (JSON.parse(row)));
		}
		const flatted = require(path.join(N8N_ROOT, 'node_modules', 'flatted'));
		/** The run data n8n stored for executions (IRunExecutionData), by id. @param {string[]} ids */
		async function executionData(ids) {
			if (!ids.length) return {};
			const rows = await psql(
				`SELECT json_build_object('id', "executionId", 'data', data)::text FROM execution_data WHERE "executionId" IN (${ids.map(Number).join(',')})`,
			);
			/** @type {Record<string, any>} */
			const out = {};
			for (const row of rows) {
				const { id, data } = JSON.parse(row);
				out[String(id)] = flatted.parse(data);
			}
			return out;
		}

		return {
			OWNER,
			tmp,
			pgPort,
			redisPort,
			publicUrl,
			webhookUrls,
			mainUrl: `http://127.0.0.1:${ports.main}`,
			workerConcurrency: WORKER_CONCURRENCY,
			/** The database pool of every n8n process as last started (n8n's default unless startN8n's env set it). */
			get dbPoolSize() {
				return Number(started.DB_POSTGRESDB_POOL_SIZE ?? N8N_DEFAULT_POOL_SIZE);
			},
			psql,
			cli,
			/** @param {any[]} credentials n8n's export format, `data` as a plain object */
			importCredentials: (credentials) => importFile('import:credentials', credentials),
			/** @param {any[]} workflows n8n's export format, each with an id */
			async importWorkflows(workflows) {
				const dir = path.join(tmp, `workflows-${crypto.randomUUID()}`);
				fs.mkdirSync(dir);
				workflows.forEach((wf, i) => fs.writeFileSync(path.join(dir, `${i}.json`), JSON.stringify({ active: false, settings: {}, connections: {}, ...wf })));
				try { await cli(['import:workflow', '--separate', `--input=${dir}`]); } finally { fs.rmSync(dir, { recursive: true, force: true }); }
			},
			/**
			 * Publishes workflows through the running main's REST API, as the editor's Publish button does (the main
			 * activates the trigger: subscriptions are created there). @param {string[]} ids
			 */
			async publish(ids) {
				const rest = await restClient(`http://127.0.0.1:${ports.main}`, OWNER);
				for (const id of ids) {
					const wf = await rest('GET', `/rest/workflows/${id}`, undefined);
					const versionId = wf.json?.data?.versionId;
					const r = await rest('POST', `/rest/workflows/${id}/activate`, { versionId });
					if (r.status !== 200) throw new Error(`publishing ${id}: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 500)}`);
				}
			},
			startN8n,
			stopN8n,
			/** The owner's REST client on the main (as the editor calls it). */
			rest: () => restClient(`http://127.0.0.1:${ports.main}`, OWNER),
			executions,
			executionData,
			/** Which running processes logged "Worker started execution <id>". @param {string} id */
			ranBy: (id) => specs.map((s) => s.name).filter((name) => new RegExp(`Worker started execution ${id} \\(`).test(output[name])),
			logsDir: logs,
			stop,
		};
	} catch (error) {
		await stop({ keepLogs: true }).then((kept) => kept && log(`logs kept in ${kept}`));
		throw error;
	}
}

module.exports = { startStack, waitFor, pause, OWNER, N8N_DEFAULT_POOL_SIZE };
