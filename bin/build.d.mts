// Types of bin/build.mjs for the TypeScript that imports it (test/global-setup.ts, bench/).

export interface DistState {
  /** dist/ was built from the sources exactly as they are now. */
  fresh: boolean;
  /** Why not, when not fresh: one short clause ("dist/ is not built", "<path> changed since dist/ was built"). */
  reason?: string;
}

/** Every source file dist/ depends on as [path, size, mtimeMs, hash], sorted by path. */
export function sourceListing(root: string): [path: string, size: number, mtimeMs: number, hash: string][];
/** FNV-1a (32 bits, hex) of a file's bytes (bin/dist-state.mjs). */
export function contentHash(bytes: Uint8Array): string;
/** Whether `<root>/dist` is fresh; never throws. */
export function distState(root: string): DistState;
/** Builds `<root>/dist` and swaps it in atomically; resolves with the build time in ms; rejects with tsc's output. */
export function build(root: string, options?: { log?: (line: string) => void }): Promise<number>;
