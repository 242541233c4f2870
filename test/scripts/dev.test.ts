/**
 * `npm run dev` imports every example workflow in examples/ (checked without starting n8n: the list it imports).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLES_DIR = path.join(ROOT, 'examples');
// Read from the script itself, in a plain Node process (scripts/ is JavaScript, outside the TypeScript project).
const WORKFLOWS = JSON.parse(
	execFileSync(
		process.execPath,
		['-e', "process.stdout.write(JSON.stringify(require('./scripts/dev').WORKFLOWS))"],
		{
			cwd: ROOT,
			encoding: 'utf8',
		},
	),
) as Array<{ file: string; id: string }>;

test('npm run dev imports all the examples, each under the id its file carries', () => {
	const files = fs.readdirSync(EXAMPLES_DIR).filter((file) => file.endsWith('.json'));
	expect(WORKFLOWS.map((workflow) => workflow.file).sort()).toEqual(files.sort());
	for (const { file, id } of WORKFLOWS) {
		const workflow = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as { id: string };
		expect({ file, id: workflow.id }).toEqual({ file, id });
	}
});
