// Shared by the train stage tests: a tiny synthetic dataset run through synth → ingest → features →
// negatives once per test file, params files with overrides, and a runner for the stage.
import { after, before } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStages, writeParamsFile } from '../../helpers/stage-runner.ts';

export { ROOT, runStage, startStage, type RunResult } from '../../helpers/stage-runner.ts';

/** A tiny model and dataset: ~8 optimizer steps per epoch, seconds per run on the wasm backend. */
export const TINY_PARAMS: Record<string, unknown> = {
  synth_users: 200, synth_items: 400, synth_predict_users: 0,
  maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, rope_partial_dim: 4,
  batch_size: 32, num_negatives: 64, num_epochs: 2, lr: 0.005, backend: 'wasm', eval_item_chunk: 1024, early_stop_patience: 0,
};

export function writeParams(dir: string, name: string, over: Record<string, unknown> = {}): string {
  return writeParamsFile(dir, name, { ...TINY_PARAMS, ...over });
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
  await runStages([
    ['synth', [join(dir, 'raw')]], ['ingest', [join(dir, 'raw'), a.ingest]], ['features', [a.ingest, a.features]], ['negatives', [a.ingest, a.negatives]],
  ], params);
  return a;
}

/**
 * Registers hooks that build the artifacts before this test file's tests and remove them after;
 * the returned object reads the built ones (inside tests only).
 */
export function sharedArtifacts(): Artifacts {
  let built: Artifacts | undefined;
  before(async () => {
    built = await buildArtifacts();
  });
  after(() => {
    if (built) rmSync(built.dir, { recursive: true, force: true });
  });
  const get = (): Artifacts => {
    if (built === undefined) throw new Error('the artifacts are built in before(): read them inside a test');
    return built;
  };
  return {
    get dir() { return get().dir; },
    get ingest() { return get().ingest; },
    get features() { return get().features; },
    get negatives() { return get().negatives; },
  };
}

/** Everything a repeated or resumed run must reproduce byte for byte, under a run's output folder. */
export function trainOutputs(runDir: string): string[] {
  return ['metrics/train.json', 'reports/train.json', 'plots/steps.tsv', 'plots/valid.tsv', 'model/final/weights.bin', 'model/best/weights.bin'].map((f) => readFileSync(join(runDir, f), 'utf8'));
}

/** The train stage's argv for outputs under `out`. */
export function trainArgs(a: Artifacts, out: string): string[] {
  return [a.ingest, a.features, a.negatives, join(out, 'model'), join(out, 'metrics', 'train.json'), join(out, 'reports', 'train.json'), join(out, 'plots')];
}
