// Shared by the train stage tests: a tiny synthetic dataset run through synth → ingest → features →
// negatives once per test file, params files with overrides, and a runner for the stage.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A tiny model and dataset: ~8 optimizer steps per epoch, seconds per run on the wasm backend. */
export const TINY_PARAMS: Record<string, unknown> = {
  synth_users: 200, synth_items: 400, synth_predict_users: 0,
  maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, rope_partial_dim: 4,
  batch_size: 32, num_negatives: 64, num_epochs: 2, lr: 0.005, backend: 'wasm', eval_item_chunk: 1024,
};

export function writeParams(dir: string, name: string, over: Record<string, unknown> = {}): string {
  const base = parse(readFileSync(join(ROOT, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  const path = join(dir, name);
  writeFileSync(path, stringify({ ...base, ...TINY_PARAMS, ...over }));
  return path;
}

export interface RunResult {
  code: number | null;
  stderr: string;
}

/** Starts `npx tsx stages/<stage>/main.ts args… --params file` in the repo root. */
export function startStage(stage: string, args: string[], paramsFile: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, `stages/${stage}/main.ts`), ...args, '--params', paramsFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function runStage(stage: string, args: string[], paramsFile: string): Promise<RunResult> {
  const child = startStage(stage, args, paramsFile);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

export interface Artifacts {
  dir: string;
  ingest: string;
  features: string;
  negatives: string;
}

/** synth → ingest → features → negatives into a fresh temp folder. */
export async function buildArtifacts(): Promise<Artifacts> {
  const dir = mkdtempSync(join(tmpdir(), 'train-test-'));
  const params = writeParams(dir, 'data-params.yaml');
  const a = { dir, ingest: join(dir, 'ingest'), features: join(dir, 'features'), negatives: join(dir, 'negatives') };
  for (const [stage, args] of [
    ['synth', [join(dir, 'raw')]], ['ingest', [join(dir, 'raw'), a.ingest]], ['features', [a.ingest, a.features]], ['negatives', [a.ingest, a.negatives]],
  ] as const) {
    const r = await runStage(stage, [...args], params);
    if (r.code !== 0) throw new Error(`${stage} failed: ${r.stderr}`);
  }
  return a;
}

/** The train stage's argv for outputs under `out`. */
export function trainArgs(a: Artifacts, out: string): string[] {
  return [a.ingest, a.features, a.negatives, join(out, 'model'), join(out, 'metrics', 'train.json'), join(out, 'plots')];
}
