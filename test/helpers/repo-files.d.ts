// Declarations for repo-files.js.

/** A file of the repository, by its path from the root, as UTF-8 text. */
export function readRepoFile(relative: string): string;

/** Rewrites a repository file only when UPDATE_CONTRACTS=1 is set; returns whether it did. */
export function rewriteIfAsked(relative: string, text: string): boolean;

/** The names of the files in a repository folder, by its path from the root. */
export function listRepoDir(relative: string): string[];

/** A repository script's exports (scripts/ is JavaScript, outside the TypeScript project). */
export function requireRepoModule(relative: string): unknown;
