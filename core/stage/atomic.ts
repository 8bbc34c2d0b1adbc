// Atomic outputs: write to a temp path beside the target, then rename, so a killed stage
// never leaves a half-written file or directory that DVC could cache.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from './errors.ts';

const TMP_MARK = '.tmp-';

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${TMP_MARK}${process.pid}`);
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/**
 * mkdir -p, one level at a time. (Node 20's recursive mkdirSync loops forever under /proc, and
 * its errors name the deepest path rather than the part that is wrong.)
 */
function ensureWritableDir(dir: string): void {
  const abs = resolve(dir);
  const parts: string[] = [];
  for (let p = abs; ; p = dirname(p)) {
    parts.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of parts) {
    let isDir: boolean | null = null;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      isDir = null;
    }
    if (isDir === false) throw new UserError(`cannot create output directory ${dir}: ${p} is not a directory`);
    if (isDir === true) continue;
    try {
      mkdirSync(p);
    } catch (e) {
      throw new UserError(`cannot create output directory ${dir}: ${errCode(e)}`);
    }
  }
}

/** Removes temp outputs of `target` left by processes that no longer run (killed stages). */
function removeStaleTemps(target: string): void {
  const prefix = `.${basename(target)}${TMP_MARK}`;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    rmSync(join(dirname(target), name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) === 'EPERM';
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
    throw new UserError(`cannot write ${target}: ${errCode(e)}`);
  }
}

/**
 * Builds a directory atomically: `fill` writes into a fresh temp directory, which then replaces
 * `target` in one rename. On any error the temp directory is removed and `target` is untouched
 * (or absent, if it did not exist).
 */
export async function writeDirAtomic<T>(target: string, fill: (tmpDir: string) => Promise<T> | T): Promise<T> {
  ensureWritableDir(dirname(target));
  removeStaleTemps(target);
  const tmp = tempPathFor(target);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
  } catch (e) {
    throw new UserError(`cannot write ${target}: ${errCode(e)}`);
  }
  try {
    const result = await fill(tmp);
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof UserError || !(e as NodeJS.ErrnoException).code) throw e;
    throw new UserError(`cannot write ${target}: ${errCode(e)}`);
  }
}

/** JSON with keys in insertion order, 2-space indent and a final newline: stable bytes for DVC. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
