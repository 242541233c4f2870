/**
 * How the e2e harness reads one `n8n execute --rawOutput` run (scripts/n8n-local.js, readExecution), against real
 * processes that print what n8n prints and then end the way n8n's does: exit 0, exit 1, or killed by SIGSEGV.
 */
import { requireRepoModule } from '../helpers/repo-files';

type Run = { code: number; signal: string | null; stdout: string; stderr: string; ms: number };
type Execution = { ok: boolean; diedAfter?: string; error?: { message: string }; runData?: unknown };
const { run, readExecution } = requireRepoModule('scripts/n8n-local.js') as {
	run: (cmd: string, args: string[]) => Promise<Run>;
	readExecution: (r: Run) => Execution;
};

const printed = (status: string, error?: object) =>
	JSON.stringify({
		data: { resultData: { runData: { Start: [] }, ...(error ? { error } : {}) } },
		mode: 'cli',
		status,
	});

/** A `node` process (the one on PATH) that prints `stdout`, then exits with `end` or kills itself with SIGSEGV. */
async function processThat(stdout: string, end: number | 'SIGSEGV') {
	const ending = end === 'SIGSEGV' ? "process.kill(process.pid, 'SIGSEGV')" : `process.exitCode = ${end}`;
	const script = `process.stdout.write(${JSON.stringify(stdout + '\n')}, () => { ${ending} })`;
	return readExecution(await run('node', ['-e', script]));
}

test('a success printed, then exit 0: ok', async () => {
	const x = await processThat(printed('success'), 0);
	expect(x).toMatchObject({ ok: true, diedAfter: undefined, error: undefined, runData: { Start: [] } });
});

test('a success printed, then killed by SIGSEGV (n8n exiting): ok, and says it died after', async () => {
	const x = await processThat(printed('success'), 'SIGSEGV');
	expect(x).toMatchObject({ ok: true, diedAfter: 'SIGSEGV', error: undefined, runData: { Start: [] } });
});

test('killed by SIGSEGV before anything was printed: a failure that names the signal', async () => {
	const x = await processThat('', 'SIGSEGV');
	expect(x.ok).toBe(false);
	expect(x.diedAfter).toBeUndefined();
	expect(x.error?.message).toMatch(/killed by SIGSEGV/);
});

test('a failed execution printed, then killed by SIGSEGV: still a failure, with the workflow error', async () => {
	const x = await processThat(printed('error', { message: 'Calypso error 004' }), 'SIGSEGV');
	expect(x).toMatchObject({ ok: false, diedAfter: undefined, error: { message: 'Calypso error 004' } });
});

test('a running execution printed, then killed by SIGSEGV: a failure', async () => {
	const x = await processThat(printed('running'), 'SIGSEGV');
	expect(x).toMatchObject({ ok: false, diedAfter: undefined });
});

test('a success printed, then exit 1: a failure (only a signal after success is excused)', async () => {
	const x = await processThat(printed('success'), 1);
	expect(x.ok).toBe(false);
});

test('a failed execution printed, then its error description as JSON, then killed by SIGSEGV: still a failure', async () => {
	// n8n logs the run (status "error") and then, as separate error lines, the error's message and description; a
	// description that is an API's JSON body (one saying "success" included) is not the execution.
	const line = (level: string, message: string) => JSON.stringify({ level, message, metadata: {} });
	const x = await processThat(
		[
			line('info', printed('error', { message: 'Bad request - please check your parameters' })),
			line('error', 'Bad request - please check your parameters'),
			line('error', JSON.stringify({ status: 'success', message: 'queued' })),
		].join('\n'),
		'SIGSEGV',
	);
	expect(x).toMatchObject({
		ok: false,
		diedAfter: undefined,
		error: { message: 'Bad request - please check your parameters' },
	});
});
