// Early stopping in the train stage (tiny synthetic data, wasm, a validation after every step): a run
// with early_stop_patience is the uninterrupted run cut at the first validation that uses up the
// patience; a run killed mid-patience resumes to the same stop, and a stopped run never trains on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shouldStop } from '../../../stages/train/early-stop.ts';
import { runStage, sharedArtifacts, startStage, trainArgs, trainOutputs, writeParams } from './fixture.ts';

const a = sharedArtifacts();

interface Metrics {
  steps: number;
  epochs: number;
  epochs_run: number;
  stopped_early: boolean;
  stop_step: number | null;
  best: { score: number; step: number } | null;
}

// The seed's recipe on purpose: its validation Scores go up and down on this tiny data, so patience runs out
// mid-run (the defaults' Scores climb almost every step here, which would leave nothing to stop).
const EVERY_STEP = { num_epochs: 3, eval_every_steps: 1, loss_negatives: 'mixed', train_exclude_history: false, tower_init: 'trunc_normal', train_windows: 'last' };
const readText = (path: string): string => readFileSync(path, 'utf8');
const lines = (out: string, plot: string): string[] => readText(join(a.dir, out, 'plots', plot)).trim().split('\n');
const metrics = (out: string): Metrics => JSON.parse(readText(join(a.dir, out, 'reports', 'train.json'))) as Metrics;
const outputs = (out: string): string[] => trainOutputs(join(a.dir, out));

async function train(out: string, over: Record<string, unknown>): Promise<string> {
  const r = await runStage('train', trainArgs(a, join(a.dir, out)), writeParams(a.dir, `${out}.yaml`, { ...EVERY_STEP, ...over }));
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

/** The uninterrupted run's validations as [step, epoch, score]. */
function referenceEvals(): { step: number; epoch: number; score: number }[] {
  const [header, ...rows] = lines('ref', 'valid.tsv');
  const col = (name: string): number => header!.split('\t').indexOf(name);
  return rows.map((l) => l.split('\t').map(Number)).map((v) => ({ step: v[col('step')]!, epoch: v[col('epoch')]!, score: v[col('score')]! }));
}

/** 1-based index of the reference validation where `patience` runs out, or null. */
function expectedStop(patience: number): number | null {
  const scores = referenceEvals().map((r) => r.score);
  for (let n = 1; n <= scores.length; n++) if (shouldStop(scores.slice(0, n), patience)) return n;
  return null;
}

test('patience 0 runs to the cap and says it did not stop early', async () => {
  await train('ref', { early_stop_patience: 0 });
  const m = metrics('ref');
  const evals = referenceEvals();
  assert.deepEqual([m.stopped_early, m.stop_step, m.epochs_run, m.epochs, m.steps], [false, null, 3, 3, evals[evals.length - 1]!.step]);
  assert.ok(evals.length > 10, `${evals.length} validations`);
});

for (const patience of [1, 2]) {
  test(`patience ${patience}: stops at the first validation without a better Score for ${patience} in a row, as a prefix of the full run`, async () => {
    const out = `stop-${patience}`;
    const stderr = await train(out, { early_stop_patience: patience });
    const n = expectedStop(patience);
    const ref = referenceEvals();
    assert.ok(n !== null && n < ref.length, `the reference Scores make patience ${patience} stop before the cap (at validation ${n} of ${ref.length})`);
    const at = ref[n - 1]!;
    const m = metrics(out);
    assert.deepEqual([m.stopped_early, m.stop_step, m.steps, m.epochs_run, m.epochs], [true, at.step, at.step, at.epoch, 3]);
    assert.deepEqual(lines(out, 'valid.tsv'), lines('ref', 'valid.tsv').slice(0, n + 1), 'validations up to the stop, as in the full run');
    // Same loss, grad norm and lr per step: the cosine schedule is cut short, not reshaped.
    assert.deepEqual(lines(out, 'steps.tsv'), lines('ref', 'steps.tsv').slice(0, at.step + 1));
    const bestScore = Math.max(...ref.slice(0, n).map((r) => r.score));
    assert.equal(m.best!.score, bestScore);
    assert.match(stderr, new RegExp(`stopped early at step ${at.step} of ${ref[ref.length - 1]!.step}: no better validation Score in ${patience} validation`));
    assert.match(stderr, new RegExp(`\\[train\\] ${at.step} steps of ${ref[ref.length - 1]!.step}, stopped early in epoch ${at.epoch} of 3 \\(`));
  });
}

test('patience running out at the very last validation is not an early stop', async () => {
  const ref = referenceEvals();
  const patience = Array.from({ length: 20 }, (_, k) => k + 1).find((p) => expectedStop(p) === ref.length);
  assert.ok(patience !== undefined, 'some patience runs out exactly at the last reference validation');
  await train('stop-last', { early_stop_patience: patience });
  const m = metrics('stop-last');
  assert.deepEqual([m.stopped_early, m.stop_step, m.epochs_run], [false, null, 3]);
  assert.deepEqual(outputs('stop-last'), outputs('ref'), 'metrics, plots and weights as without early stopping');
});

/** The checkpoint's step and validation Scores, or null while it is missing or being replaced. */
function readCheckpoint(index: string): { step: number; scores: number[] } | null {
  try {
    const ck = JSON.parse(readText(index)) as { cursor: { step: number }; meta: { log: { evals: { score: number }[] } } };
    return { step: ck.cursor.step, scores: ck.meta.log.evals.map((e) => e.score) };
  } catch {
    return null;
  }
}

test('SIGKILL one validation before the stop (mid-patience), then resume: true → the same stop and outputs', async () => {
  const patience = 2;
  const n = expectedStop(patience)!;
  const target = referenceEvals()[n - 2]!.step; // the last checkpoint before patience runs out
  const out = join(a.dir, 'stop-kill');
  const params = writeParams(a.dir, 'stop-kill.yaml', { ...EVERY_STEP, early_stop_patience: patience, ckpt_every_steps: 1, resume: true });
  const index = join(out, 'model', 'checkpoint', 'checkpoint.json');
  const child = startStage('train', trainArgs(a, out), params);
  child.stderr!.resume();
  const exited = new Promise((resolve) => child.on('close', resolve));
  while (child.exitCode === null && readCheckpoint(index)?.step !== target) await new Promise((r) => setTimeout(r, 2));
  child.kill('SIGSTOP'); // freeze it, then check it has not moved on before killing it
  const ck = readCheckpoint(index);
  child.kill('SIGKILL');
  await exited;
  assert.equal(ck?.step, target, 'killed right after the checkpoint one validation before the stop');
  assert.ok(!shouldStop(ck!.scores, patience) && shouldStop(ck!.scores, patience - 1), 'the checkpoint is mid-patience');
  assert.ok(!existsSync(join(out, 'metrics', 'train.json')) && !existsSync(join(out, 'reports', 'train.json')), 'the killed run wrote no metrics');
  const r = await runStage('train', trainArgs(a, out), params);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`resuming from .* at step ${target}`));
  assert.deepEqual(outputs('stop-kill'), outputs(`stop-${patience}`));
});

test('resume: true after a run that stopped early trains no further', async () => {
  const before = outputs('stop-2');
  const r = await runStage('train', trainArgs(a, join(a.dir, 'stop-2')), writeParams(a.dir, 'stop-2-again.yaml', { ...EVERY_STEP, early_stop_patience: 2, resume: true }));
  assert.equal(r.code, 0, r.stderr);
  const stop = metrics('stop-2').stop_step;
  assert.match(r.stderr, new RegExp(`already stopped early at step ${stop}: nothing left to train`));
  assert.match(r.stderr, /\(0 here,/);
  assert.deepEqual(outputs('stop-2'), before);
});
