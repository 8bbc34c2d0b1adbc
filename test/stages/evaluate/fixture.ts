// Shared by the evaluate stage tests: a tiny synthetic dataset (synth → ingest → features, with
// predict files) built once per test file, a freshly initialised tiny model saved as the train stage
// would, params files, and a runner for the stage. Not a test file itself.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildModelConfig, type ModelConfig } from '../../../core/model/config.ts';
import { initModel } from '../../../core/model/sequence-model.ts';
import { buildFeatureSchema, readManifests } from '../../../core/sequences/feature-schema.ts';
import { observeArrayLen } from '../../../core/sequences/user-shards.ts';
import { runStages, writeParamsFile } from '../../helpers/stage-runner.ts';

export { ROOT, runStage, type RunResult } from '../../helpers/stage-runner.ts';

/** A tiny dataset and model: the stage runs in seconds on the cpu backend. */
export const TINY_PARAMS: Record<string, unknown> = {
  synth_users: 120, synth_items: 300, synth_predict_users: 12,
  maxlen: 12, hidden_units: 8, num_blocks: 1, num_heads: 2, linear_dim: 4, attention_dim: 4, rope_partial_dim: 2,
  backend: 'cpu', eval_item_chunk: 64, exclude_history: true,
};

export function writeParams(dir: string, name: string, over: Record<string, unknown> = {}): string {
  return writeParamsFile(dir, name, { ...TINY_PARAMS, ...over });
}

export interface Artifacts {
  dir: string;
  raw: string;
  ingest: string;
  features: string;
  params: string;
}

/** synth → ingest → features into a fresh temp folder. */
export async function buildArtifacts(over: Record<string, unknown> = {}): Promise<Artifacts> {
  const dir = mkdtempSync(join(tmpdir(), 'evaluate-test-'));
  const params = writeParams(dir, 'params.yaml', over);
  const a = { dir, raw: join(dir, 'raw'), ingest: join(dir, 'ingest'), features: join(dir, 'features'), params };
  await runStages([['synth', [a.raw]], ['ingest', [a.raw, a.ingest]], ['features', [a.ingest, a.features]]], params);
  return a;
}

/** The model config train would build for these artifacts with TINY_PARAMS (and `over`, e.g. model_type). */
export function tinyConfig(a: Artifacts, over: Record<string, unknown> = {}): ModelConfig {
  const m = readManifests(a.ingest, a.features);
  const schema = buildFeatureSchema(m, observeArrayLen(a.ingest, m));
  const p = { ...(parse(readFileSync(a.params, 'utf8')) as Record<string, unknown>), ...over };
  return buildModelConfig(p as unknown as Parameters<typeof buildModelConfig>[0], schema, m.ingest.items + 1);
}

/** A freshly initialised model saved as `<modelDir>/<which>/` (the train stage's layout). */
export async function saveTinyModel(a: Artifacts, modelDir: string, which: 'best' | 'final', seed = 7, over: Record<string, unknown> = {}): Promise<ModelConfig> {
  const config = tinyConfig(a, over);
  const model = initModel(config, seed);
  await model.save(join(modelDir, which));
  model.dispose();
  return config;
}

/** The evaluate stage's argv for outputs under `out`. */
export function evaluateArgs(a: Artifacts, modelDir: string, out: string): string[] {
  return [a.raw, a.ingest, a.features, modelDir, join(out, 'metrics', 'evaluate.json'), join(out, 'reports', 'evaluate.json'), join(out, 'plots'), join(out, 'predict')];
}
