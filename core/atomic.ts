// Atomic outputs: write to a temp path beside the target, then rename, so a killed stage
// never leaves a half-written file or directory that DVC could cache.
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { UserError } from './errors.ts';

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
}

function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create output directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Writes `data` to `target` atomically (temp file, fsync, rename). */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  ensureWritableDir(dirname(target));
  const tmp = tempPathFor(target);
  try {
    writeFileSync(tmp, data);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof UserError) throw e;
    throw new UserError(`cannot write ${target}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * Builds a directory atomically: `fill` writes into a fresh temp directory, which then replaces
 * `target` in one rename. On any error the temp directory is removed and `target` is untouched
 * (or absent, if it did not exist).
 */
export async function writeDirAtomic<T>(target: string, fill: (tmpDir: string) => Promise<T> | T): Promise<T> {
  ensureWritableDir(dirname(target));
  const tmp = tempPathFor(target);
  rmSync(tmp, { recursive: true, force: true });
  ensureWritableDir(tmp);
  try {
    const result = await fill(tmp);
    if (existsSync(target)) rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** JSON with sorted-as-given keys, 2-space indent and a final newline: stable bytes for DVC. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
