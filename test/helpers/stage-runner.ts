// Shared by stage tests: params files (params.yaml with overrides), spawning a stage the way
// dvc.yaml does, and running stages in order into a temp folder. Not a test file itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Writes `<dir>/<name>`: the repo's params.yaml with `over` applied (every key stays present). */
export function writeParamsFile(dir: string, name: string, over: Record<string, unknown>): string {
  const base = parse(readFileSync(join(ROOT, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  const path = join(dir, name);
  writeFileSync(path, stringify({ ...base, ...over }));
  return path;
}

export interface RunResult {
  code: number | null;
  stderr: string;
}

/** Starts `node --import tsx stages/<stage>/main.ts args… --params file` in the repo root. */
export function startStage(stage: string, args: string[], paramsFile: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, `stages/${stage}/main.ts`), ...args, '--params', paramsFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function runStage(stage: string, args: string[], paramsFile: string): Promise<RunResult> {
  const child = startStage(stage, args, paramsFile);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

/** Runs each [stage, args] in order; throws with the stage's stderr on the first failure. */
export async function runStages(steps: readonly (readonly [string, readonly string[]])[], paramsFile: string): Promise<void> {
  for (const [stage, args] of steps) {
    const r = await runStage(stage, [...args], paramsFile);
    if (r.code !== 0) throw new Error(`${stage} failed: ${r.stderr}`);
  }
}
