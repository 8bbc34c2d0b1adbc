// The train stage end to end on a tiny synthetic dataset (wasm backend, tiny model): it learns,
// it is deterministic, a SIGKILLed run resumes to the same result, and a NaN loss stops it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStage, sharedArtifacts, startStage, trainArgs, trainOutputs, writeParams } from './fixture.ts';

const a = sharedArtifacts();

interface Metrics {
  steps: number;
  best: { score: number; step: number } | null;
  last: { score: number; step: number } | null;
}

const readText = (path: string): string => readFileSync(path, 'utf8');
const readTsv = (path: string): Record<string, number>[] => {
  const [header, ...lines] = readText(path).trim().split('\n');
  const cols = header!.split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [cols[i]!, Number(v)])));
};

/** Mean step loss of one epoch, from steps.tsv rows. */
function meanLossOf(steps: Record<string, number>[], epoch: number): number {
  const rows = steps.filter((r) => r['epoch'] === epoch);
  return rows.reduce((s, r) => s + r['loss']!, 0) / rows.length;
}

/** Runs train into `out` and returns its report, every number (failing with the stage's stderr). */
async function train(out: string, over: Record<string, unknown> = {}): Promise<Metrics> {
  const r = await runStage('train', trainArgs(a, join(a.dir, out)), writeParams(a.dir, `${out}.yaml`, over));
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(readText(join(a.dir, out, 'reports', 'train.json'))) as Metrics;
}

const outputs = (out: string): string[] => trainOutputs(join(a.dir, out));

/** Starts train into `out`, SIGKILLs it as soon as its first checkpoint exists; returns the checkpoint's index path. */
async function killAtFirstCheckpoint(out: string, params: string): Promise<string> {
  const index = join(out, 'model', 'checkpoint', 'checkpoint.json');
  const child = startStage('train', trainArgs(a, out), params);
  child.stderr!.resume();
  const exited = new Promise((resolve) => child.on('close', resolve));
  while (!existsSync(index) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await exited;
  return index;
}

test('training loss falls and the validation Score rises; model, metrics and plots are written', async () => {
  const m = await train('run-a', { num_epochs: 3 });
  const steps = readTsv(join(a.dir, 'run-a', 'plots', 'steps.tsv'));
  const meanLoss = (epoch: number): number => meanLossOf(steps, epoch);
  assert.ok(meanLoss(3) < meanLoss(1), `mean loss epoch 1 ${meanLoss(1)} → epoch 3 ${meanLoss(3)}`);
  const evals = readTsv(join(a.dir, 'run-a', 'plots', 'valid.tsv'));
  assert.equal(evals.length, 3, 'one validation per epoch');
  assert.ok(evals[2]!['score']! > evals[0]!['score']!, `Score ${evals[0]!['score']} → ${evals[2]!['score']}`);
  assert.equal(m.steps, steps[steps.length - 1]!['step']);
  assert.equal(m.best!.score, Math.max(...evals.map((r) => r['score']!)));
  assert.deepEqual(m.last!.score, evals[2]!['score']);
  const headline = JSON.parse(readText(join(a.dir, 'run-a', 'metrics', 'train.json'))) as unknown;
  assert.deepEqual(headline, { steps: m.steps, best: { score: m.best!.score, step: m.best!.step } }, 'the metrics file holds the headline numbers only');
  for (const dir of ['final', 'best', 'checkpoint']) assert.ok(existsSync(join(a.dir, 'run-a', 'model', dir)), `model/${dir} exists`);
  const config = JSON.parse(readText(join(a.dir, 'run-a', 'model', 'final', 'config.json'))) as { maxlen: number; hiddenUnits: number };
  assert.deepEqual([config.maxlen, config.hiddenUnits], [20, 16]);
});

test('model_type: sasrec trains through the same loop (loss falls); its folder records the encoder', async () => {
  await train('run-sasrec', { num_epochs: 3, model_type: 'sasrec' });
  const steps = readTsv(join(a.dir, 'run-sasrec', 'plots', 'steps.tsv'));
  const meanLoss = (epoch: number): number => meanLossOf(steps, epoch);
  assert.ok(meanLoss(3) < meanLoss(1), `mean loss epoch 1 ${meanLoss(1)} → epoch 3 ${meanLoss(3)}`);
  const config = JSON.parse(readText(join(a.dir, 'run-sasrec', 'model', 'final', 'config.json'))) as { encoder: unknown };
  assert.deepEqual(config.encoder, { type: 'sasrec', sideFeatures: false });
});

test('same params and seed → byte-identical metrics, plots and weights', async () => {
  await train('run-b', { num_epochs: 3 });
  assert.deepEqual(outputs('run-b'), outputs('run-a'));
});

test('validating and checkpointing every step leave the training trajectory unchanged (no side effects)', async () => {
  // Validation must not touch the memory bank, RNG streams, dropout seeds or AdamW state, and a
  // checkpoint export must not alias optimizer state: per-step loss, lr and grad norm stay identical.
  await train('run-side', { num_epochs: 3, eval_every_steps: 1, ckpt_every_steps: 1 });
  const steps = (out: string): Record<string, number>[] => readTsv(join(a.dir, out, 'plots', 'steps.tsv'));
  const evals = readTsv(join(a.dir, 'run-side', 'plots', 'valid.tsv'));
  assert.ok(evals.length > 3, `validated ${evals.length} times, more than once per epoch`);
  assert.deepEqual(steps('run-side'), steps('run-a'));
});

test('SIGKILL after a checkpoint, then resume: true → the same final metrics as an uninterrupted run', async () => {
  const out = join(a.dir, 'run-c');
  const params = writeParams(a.dir, 'run-c.yaml', { num_epochs: 3, ckpt_every_steps: 3, resume: true });
  const index = await killAtFirstCheckpoint(out, params);
  const cursor = (JSON.parse(readText(index)) as { cursor: { step: number } }).cursor;
  const total = (JSON.parse(readText(join(a.dir, 'run-a', 'reports', 'train.json'))) as Metrics).steps;
  assert.ok(cursor.step < total, `killed at step ${cursor.step} of ${total}`);
  assert.ok(!existsSync(join(out, 'metrics', 'train.json')) && !existsSync(join(out, 'reports', 'train.json')), 'the killed run wrote no metrics');
  const r = await runStage('train', trainArgs(a, out), params);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`resuming from .* at step ${cursor.step}`));
  assert.deepEqual(outputs('run-c'), outputs('run-a'));
});

test('embedding_updates: sparse learns, is unchanged by validating and checkpointing every step, and resumes after SIGKILL to the same outputs', async () => {
  const SPARSE = { num_epochs: 3, embedding_updates: 'sparse' };
  const m = await train('run-sparse', SPARSE);
  const log = readText(join(a.dir, 'run-sparse', 'plots', 'steps.tsv'));
  const steps = readTsv(join(a.dir, 'run-sparse', 'plots', 'steps.tsv'));
  assert.ok(meanLossOf(steps, 3) < meanLossOf(steps, 1), `mean loss epoch 1 ${meanLossOf(steps, 1)} → epoch 3 ${meanLossOf(steps, 3)}`);
  // every validation and checkpoint flushes the tables into the variables: that must not change what training does
  await train('run-sparse-side', { ...SPARSE, eval_every_steps: 1, ckpt_every_steps: 1 });
  assert.equal(readText(join(a.dir, 'run-sparse-side', 'plots', 'steps.tsv')), log);
  const out = join(a.dir, 'run-sparse-kill');
  const params = writeParams(a.dir, 'run-sparse-kill.yaml', { ...SPARSE, ckpt_every_steps: 3, resume: true });
  const index = await killAtFirstCheckpoint(out, params);
  const checkpoint = JSON.parse(readText(index)) as { cursor: { step: number }; optimizerSumSq?: Record<string, number> };
  assert.ok(checkpoint.cursor.step < m.steps, `killed at step ${checkpoint.cursor.step} of ${m.steps}`);
  assert.ok(Object.keys(checkpoint.optimizerSumSq ?? {}).includes('emb.item'), 'the checkpoint keeps the row-sparse tables\' Σp²');
  const r = await runStage('train', trainArgs(a, out), params);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /embedding_updates sparse: row-sparse updates of the item table and \d+ other lookup tables/);
  assert.deepEqual(outputs('run-sparse-kill'), outputs('run-sparse'));
});

test('a NaN loss stops training with an error naming the step', async () => {
  const r = await runStage('train', trainArgs(a, join(a.dir, 'run-nan')), writeParams(a.dir, 'run-nan.yaml', { lr: 1e30, warmup_ratio: 0, num_epochs: 1 }));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\[train\] error: (training loss is (NaN|Infinity|-Infinity)|gradient norm is not finite) at step \d+/);
  assert.ok(!existsSync(join(a.dir, 'run-nan', 'metrics', 'train.json')));
});

test('seed options without a tfjs equivalent are refused with the reason', async () => {
  const r = await runStage('train', trainArgs(a, join(a.dir, 'run-bf16')), writeParams(a.dir, 'run-bf16.yaml', { bf16_autocast: true }));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\[train\] error: bf16_autocast: true is not available: tfjs has no bfloat16/);
});
