/**
 * Runs `task(0..count-1)` with at most `limit` running at once. When a task fails and `stopOnError` is set, no new
 * task starts; the ones in flight finish, and the failure with the lowest index is thrown. Used for the items of a
 * run (router) and for the pages of a Find (transport).
 */
export async function runBounded(
	count: number,
	limit: number,
	stopOnError: boolean,
	task: (index: number) => Promise<void>,
): Promise<void> {
	let next = 0;
	let failure: { index: number; error: unknown } | undefined;
	const worker = async () => {
		while (next < count && !(stopOnError && failure)) {
			const index = next++;
			try {
				await task(index);
			} catch (error) {
				if (!failure || index < failure.index) failure = { index, error };
			}
		}
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
	if (failure) throw failure.error;
}
