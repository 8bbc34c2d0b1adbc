import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CheckpointSource, type DeferredArray, assignCheckpointWeights, deferredWeights, loadCheckpoint, readWeights, saveCheckpoint, type TrainCheckpoint } from '../../../core/train/checkpoint.ts';
import { AdamW } from '../../../core/train/adamw.ts';
import { MemoryBank } from '../../../core/train/memory-bank.ts';
import { UserError } from '../../../core/stage/errors.ts';
import { Rng } from '../../../core/random/rng.ts';

await tf.setBackend('cpu');

const fresh = (): string => mkdtempSync(join(tmpdir(), 'ckpt-'));

/** A small but complete training state built through the real optimizer and memory bank. */
function makeState(): { ckpt: TrainCheckpoint; dispose: () => void } {
  const vars = { 'lin.w': tf.variable(tf.tensor2d([[0.5, -1.25, 3], [1e-7, 0, 2]])), 'lin.b': tf.variable(tf.tensor1d([0.1, -0.2, 0.3])) };
  const opt = new AdamW(vars, { weightDecay: 0.01, decays: (n) => !n.endsWith('.b') });
  opt.step({ 'lin.w': tf.ones([2, 3]), 'lin.b': tf.tensor1d([1, 2, 3]) }, 0.01, 20);
  const bank = new MemoryBank(2);
  for (let s = 0; s < 3; s++) {
    const emb = tf.fill([2, 3], s + 0.5) as tf.Tensor2D;
    bank.push(emb, Int32Array.from([s, 100 + s]));
    emb.dispose();
  }
  const rng = new Rng(9);
  rng.next();
  const ckpt: TrainCheckpoint = {
    weights: readWeights(vars),
    optimizer: opt.exportState(),
    cursor: { step: 1, epoch: 0, batch: 1 },
    rng: { shuffle: rng.getState(), dropout: new Rng(10).getState() },
    bank: bank.exportState(),
    meta: { params: { lr: 0.01 }, best_score: null },
  };
  return { ckpt, dispose: () => { opt.dispose(); bank.dispose(); Object.values(vars).forEach((v) => v.dispose()); } };
}

test('round trip: identical values, and identical bytes when saved twice', async () => {
  const { ckpt, dispose } = makeState();
  const dir = fresh();
  await saveCheckpoint(join(dir, 'a'), ckpt);
  await saveCheckpoint(join(dir, 'b'), ckpt);
  assert.deepEqual(readdirSync(dir).sort(), ['a', 'b'], 'no temp folders left');
  assert.deepEqual(readdirSync(join(dir, 'a')).sort(), ['checkpoint.bin', 'checkpoint.json']);
  for (const f of ['checkpoint.bin', 'checkpoint.json']) {
    assert.deepEqual(readFileSync(join(dir, 'a', f)), readFileSync(join(dir, 'b', f)), `${f} is deterministic`);
  }
  const loaded = loadCheckpoint(join(dir, 'a'));
  assert.deepEqual(loaded, ckpt);
  assert.equal(loaded.bank.entries.length, 2);
  dispose();
});

test('deferred weights and moments: the same files as host copies, each array read once, in file order', async () => {
  const vars = { 'emb.item': tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, -6]])), 'lin.w': tf.variable(tf.tensor2d([[0.5, -1.25]])) };
  const opt = new AdamW(vars, { weightDecay: 0.01, decays: () => true, rowSparse: ['emb.item'] });
  const rest = { cursor: { step: 0, epoch: 0, batch: 0 }, rng: {}, bank: { entries: [] }, meta: { note: 'deferred' } };
  const dir = fresh();
  await saveCheckpoint(join(dir, 'host'), { weights: readWeights(vars), optimizer: opt.exportState(), ...rest });
  const reads: string[] = [];
  const spy = (key: string, d: DeferredArray): DeferredArray => ({ size: d.size, read: () => (reads.push(key), d.read()) });
  const weights = deferredWeights(vars);
  const optimizer = opt.exportStateDeferred();
  const source: CheckpointSource = {
    weights: Object.fromEntries(Object.entries(weights).map(([n, w]) => [n, { shape: w.shape, values: spy(`weights/${n}`, w.values) }])),
    optimizer: {
      ...optimizer,
      m: Object.fromEntries(Object.entries(optimizer.m).map(([n, x]) => [n, x instanceof Float32Array ? x : spy(`adam_m/${n}`, x)])),
      v: Object.fromEntries(Object.entries(optimizer.v).map(([n, x]) => [n, x instanceof Float32Array ? x : spy(`adam_v/${n}`, x)])),
    },
    ...rest,
  };
  assert.deepEqual(reads, [], 'nothing is read before the writer gets to it');
  await saveCheckpoint(join(dir, 'deferred'), source);
  assert.deepEqual(reads, ['weights/emb.item', 'weights/lin.w', 'adam_m/emb.item', 'adam_v/emb.item'], 'the row-sparse moments and every weight are deferred, read once each in file order');
  for (const f of ['checkpoint.bin', 'checkpoint.json']) {
    assert.deepEqual(readFileSync(join(dir, 'deferred', f)), readFileSync(join(dir, 'host', f)), `${f}: deferred = host copies`);
  }
  const short: CheckpointSource = { ...source, weights: { ...source.weights, 'lin.w': { shape: [1, 2], values: { size: 2, read: () => new Float32Array(1) } } } };
  await assert.rejects(saveCheckpoint(join(dir, 'short'), short), /weights\/lin\.w read 1 values, its index says 2/);
  assert.deepEqual(readdirSync(dir).sort(), ['deferred', 'host'], 'a failed save leaves nothing behind');
  opt.dispose();
  Object.values(vars).forEach((v) => v.dispose());
});

test('weights restore into variables; a mismatched model is a clear error', () => {
  const { ckpt, dispose } = makeState();
  const target = { 'lin.w': tf.variable(tf.zeros([2, 3])), 'lin.b': tf.variable(tf.zeros([3])) };
  assignCheckpointWeights(target, ckpt.weights);
  assert.deepEqual(readWeights(target), ckpt.weights);
  assert.throws(() => assignCheckpointWeights({ 'lin.w': target['lin.w'] }, ckpt.weights), /unknown lin\.b/);
  const wrong = { 'lin.w': tf.variable(tf.zeros([3, 2])), 'lin.b': target['lin.b'] };
  assert.throws(() => assignCheckpointWeights(wrong, ckpt.weights), /lin\.w has shape \[2,3\], the model has \[3,2\]/);
  [...Object.values(target), wrong['lin.w']].forEach((v) => v.dispose());
  dispose();
});

test('a truncated, corrupt or partial checkpoint gives a clear UserError', async () => {
  const { ckpt, dispose } = makeState();
  dispose();
  const dir = join(fresh(), 'ckpt');
  await saveCheckpoint(dir, ckpt);
  const bin = join(dir, 'checkpoint.bin');
  const good = new Uint8Array(readFileSync(bin));

  truncateSync(bin, good.length - 5);
  assert.throws(() => loadCheckpoint(dir), (e: unknown) => e instanceof UserError && /has \d+ bytes but its index says \d+: the file is truncated/.test(e.message));

  const flipped = Uint8Array.from(good);
  flipped[7]! ^= 0x40;
  writeFileSync(bin, flipped);
  assert.throws(() => loadCheckpoint(dir), (e: unknown) => e instanceof UserError && /corrupt: its sha256 does not match/.test(e.message));

  writeFileSync(bin, good);
  const json = readFileSync(join(dir, 'checkpoint.json'), 'utf8');
  writeFileSync(join(dir, 'checkpoint.json'), json.slice(0, json.length >> 1));
  assert.throws(() => loadCheckpoint(dir), (e: unknown) => e instanceof UserError && /not valid JSON/.test(e.message));

  writeFileSync(join(dir, 'checkpoint.json'), json);
  assert.ok(loadCheckpoint(dir), 'restored files load again');
  rmSync(bin);
  assert.throws(() => loadCheckpoint(dir), /incomplete: checkpoint\.bin is missing/);
  assert.throws(() => loadCheckpoint(join(dir, 'nope')), /incomplete: checkpoint\.json is missing/);
});

test('resume from a checkpoint continues exactly like the uninterrupted run', async () => {
  const grads = [tf.tensor1d([0.3, -0.2]), tf.tensor1d([-0.1, 0.4]), tf.tensor1d([0.2, 0.2])];
  const run = (opt: AdamW, from: number): void => {
    for (let s = from; s < grads.length; s++) opt.step({ w: grads[s]! }, 0.05, 20);
  };
  const a = tf.variable(tf.tensor1d([1, -1]));
  const optA = new AdamW({ w: a }, { weightDecay: 0.1, decays: () => true });
  run(optA, 0);

  const b = tf.variable(tf.tensor1d([1, -1]));
  const optB = new AdamW({ w: b }, { weightDecay: 0.1, decays: () => true });
  optB.step({ w: grads[0]! }, 0.05, 20);
  const dir = join(fresh(), 'ckpt');
  await saveCheckpoint(dir, { weights: readWeights({ w: b }), optimizer: optB.exportState(), cursor: { step: 1, epoch: 0, batch: 1 }, rng: {}, bank: { entries: [] }, meta: {} });

  const loaded = loadCheckpoint(dir);
  const c = tf.variable(tf.zeros([2]));
  const optC = new AdamW({ w: c }, { weightDecay: 0.1, decays: () => true });
  assignCheckpointWeights({ w: c }, loaded.weights);
  optC.importState(loaded.optimizer);
  run(optC, loaded.cursor.step);
  assert.deepEqual(Array.from(c.dataSync()), Array.from(a.dataSync()));
  for (const t of [a, b, c, ...grads]) t.dispose();
  for (const o of [optA, optB, optC]) o.dispose();
});
