/**
 * `npm run dev` imports every example workflow in examples/ (checked without starting n8n: the list it imports).
 */
import { listRepoDir, readRepoFile, requireRepoModule } from '../helpers/repo-files';

const { WORKFLOWS } = requireRepoModule('scripts/dev.js') as { WORKFLOWS: Array<{ file: string; id: string }> };

test('npm run dev imports all the examples, each under the id its file carries', () => {
	const files = listRepoDir('examples').filter((file) => file.endsWith('.json'));
	expect(WORKFLOWS.map((workflow) => workflow.file).sort()).toEqual(files.sort());
	for (const { file, id } of WORKFLOWS) {
		const workflow = JSON.parse(readRepoFile(`examples/${file}`)) as { id: string };
		expect({ file, id: workflow.id }).toEqual({ file, id });
	}
});
