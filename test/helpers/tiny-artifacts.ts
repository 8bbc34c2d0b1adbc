// Shared by the evaluate and predict stage tests: a tiny synthetic dataset (synth → ingest → features, with
// predict files and their ingest / features predict folders) built once per test file, a freshly initialised
// tiny model saved as the train stage would, the hooks that set both up for a test file, and each stage's argv. Not a test file itself.
import { after, before } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildModelConfig, type ModelConfig } from '../../core/model/config.ts';
import { initModel } from '../../core/model/sequence-model.ts';
import { buildFeatureSchema, readManifests } from '../../core/sequences/feature-schema.ts';
import { observeArrayLen } from '../../core/sequences/user-shards.ts';
import { type RunResult, runStage, runStages, writeParamsFile } from './stage-runner.ts';

export { ROOT, runStage, type RunResult, writeParamsFile } from './stage-runner.ts';

/** A tiny dataset and model: the stage runs in seconds on the cpu backend. */
export const TINY_PARAMS: Record<string, unknown> = {
  synth_users: 120, synth_items: 300, synth_predict_users: 12,
  maxlen: 12, hidden_units: 8, num_blocks: 1, num_heads: 2, linear_dim: 4, attention_dim: 4, rope_partial_dim: 2,
  backend: 'cpu', eval_item_chunk: 64, exclude_history: true,
};

export interface Artifacts {
  dir: string;
  raw: string;
  ingest: string;
  features: string;
  ingestPredict: string;
  featuresPredict: string;
  params: string;
}

/** synth → ingest → features (each with its predict folder, as dvc.yaml runs them) into a fresh temp folder. */
export async function buildArtifacts(over: Record<string, unknown> = {}): Promise<Artifacts> {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-artifacts-'));
  const params = writeParamsFile(dir, 'params.yaml', { ...TINY_PARAMS, ...over });
  const p = (name: string): string => join(dir, name);
  const a = { dir, raw: p('raw'), ingest: p('ingest'), features: p('features'), ingestPredict: p('ingest-predict'), featuresPredict: p('features-predict'), params };
  await runStages([
    ['synth', [a.raw]],
    ['ingest', [a.raw, a.ingest, a.ingestPredict]],
    ['features', [a.ingest, a.features, a.ingestPredict, a.featuresPredict]],
  ], params);
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

/** One test file's fixture, filled by its `before` hook: the tiny artifacts, a tiny model, and the stage's first run. */
export interface TinyStageRun {
  a: Artifacts;
  modelDir: string;
  /** the stage run with outputs under `<a.dir>/run1` */
  first: RunResult;
}

/**
 * Registers the test file's before / after hooks: builds the artifacts and a freshly initialised model
 * (`<dir>/model/final`), runs `stage` once with `argsOf(a, modelDir, <dir>/run1)`, and removes it all at the end.
 */
export function tinyStageRun(stage: string, argsOf: (a: Artifacts, modelDir: string, out: string) => string[]): TinyStageRun {
  const run = {} as TinyStageRun;
  before(async () => {
    run.a = await buildArtifacts();
    run.modelDir = join(run.a.dir, 'model');
    await saveTinyModel(run.a, run.modelDir, 'final');
    run.first = await runStage(stage, argsOf(run.a, run.modelDir, join(run.a.dir, 'run1')), run.a.params);
  });
  after(() => rmSync(run.a.dir, { recursive: true, force: true }));
  return run;
}

/** The evaluate stage's argv for outputs under `out`. */
export function evaluateArgs(a: Artifacts, modelDir: string, out: string): string[] {
  return [a.ingest, a.features, modelDir, join(out, 'metrics', 'evaluate.json'), join(out, 'reports', 'evaluate.json'), join(out, 'plots')];
}

/** The predict stage's argv, writing `outDir`. */
export function predictArgs(a: Artifacts, modelDir: string, outDir: string): string[] {
  return [a.ingest, a.features, a.ingestPredict, a.featuresPredict, modelDir, outDir];
}
