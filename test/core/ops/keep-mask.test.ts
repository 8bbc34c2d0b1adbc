// Dropout keep masks: JS (wasm, cpu) and TF's stateless Philox on native. Both keep with
// probability 1 − rate, are reproducible for a seed, and change with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/ops/backend.ts';
import { dropoutMask, dropoutMultipliers, keepMaskIsNative, nativeKeepWhere } from '../../../core/ops/keep-mask.ts';
import { initModel } from '../../../core/model/sequence-model.ts';
import { randomBatch, tinyConfig } from '../model/tiny-model.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';

const RATE = 0.2;
const SIZE = 1 << 20;

/** The kept fraction is within 5 standard deviations of 1 − rate (binomial). */
function assertKeepRate(kept: number, size: number, rate: number): void {
  const sd = Math.sqrt(size * rate * (1 - rate));
  assert.ok(Math.abs(kept - size * (1 - rate)) < 5 * sd, `kept ${kept} of ${size}, expected ${size * (1 - rate)} ± ${5 * sd}`);
}

function countEqual(xs: ArrayLike<number>, v: number): number {
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] === v) n++;
  return n;
}

/** Checks a 0/1 mask drawn by `draw(seed)`: only 0 and 1, the rate in each half, seed-determinism. */
function checkKeepMask(draw: (seed: number) => Float32Array): void {
  const a = draw(7);
  const ones = countEqual(a, 1);
  assert.equal(ones + countEqual(a, 0), a.length, 'only 0 and 1');
  assertKeepRate(countEqual(a.subarray(0, SIZE / 2), 1), SIZE / 2, RATE);
  assertKeepRate(countEqual(a.subarray(SIZE / 2), 1), SIZE / 2, RATE);
  assert.deepEqual(draw(7), a, 'same seed, same mask');
  const b = draw(8);
  let same = 0;
  for (let i = 0; i < SIZE; i++) if (a[i] === b[i]) same++;
  // Independent masks agree on 0.8² + 0.2² = 68% of the elements.
  assertKeepRate(SIZE - same, SIZE, 1 - 2 * RATE * (1 - RATE));
}

test('JS masks: multipliers 0 or 1/(1 − rate) at the rate, reproducible per seed', async () => {
  await tf.setBackend('cpu');
  assert.equal(keepMaskIsNative(), false);
  const m = dropoutMask(3, SIZE, RATE);
  const inv = Math.fround(1 / (1 - RATE));
  assert.equal(countEqual(m, inv) + countEqual(m, 0), SIZE);
  assertKeepRate(countEqual(m, inv), SIZE, RATE);
  checkKeepMask((seed) => Float32Array.from(dropoutMask(seed, SIZE, RATE), (v) => (v === 0 ? 0 : 1)));
  assert.deepEqual(dropoutMultipliers([SIZE], 3, RATE).dataSync(), m, 'the tensor form is the same mask');
});

const nativeAbsent = nativeAbsentReason();

test('native masks (TF StatelessRandomUniform): 0/1 at the rate, reproducible per seed; JS masks on request', { skip: nativeAbsent ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  assert.equal(keepMaskIsNative(), true);
  checkKeepMask((seed) => tf.tidy(() => nativeKeepWhere([SIZE / 1024, 1024], seed, 1 - RATE).dataSync() as Float32Array));
  // Per-cell keep probabilities (the attention's (1 − rate)·visible): cells with p = 0 are never kept.
  const visible = tf.tensor2d(Float32Array.from({ length: 1024 }, (_, j) => (j % 2 === 0 ? 1 - RATE : 0)), [1, 1024]);
  const kept = tf.tidy(() => nativeKeepWhere([SIZE / 1024, 1024], 9, visible).dataSync());
  let keptOdd = 0;
  let keptEven = 0;
  kept.forEach((v, i) => { if (v === 1) { if (i % 2 === 1) keptOdd++; else keptEven++; } });
  assert.equal(keptOdd, 0, 'never kept where the keep probability is 0');
  assertKeepRate(keptEven, SIZE / 2, RATE);
  const inv = Math.fround(1 / (1 - RATE));
  const mult = dropoutMultipliers([SIZE], 3, RATE).dataSync();
  assert.equal(countEqual(mult, inv) + countEqual(mult, 0), SIZE, 'multipliers are 0 or 1/(1 − rate)');
  assert.notDeepEqual(mult, dropoutMask(3, SIZE, RATE), 'native draws its own mask');
  assert.deepEqual(dropoutMultipliers([SIZE], 3, RATE, { jsMasks: true }).dataSync(), dropoutMask(3, SIZE, RATE), 'jsMasks: the JS mask on native too');
  assert.equal(keepMaskIsNative({ jsMasks: true }), false);
  // A training forward on native: same seed → identical states, another seed → different ones.
  const c = tinyConfig({ dropoutRate: RATE });
  const model = initModel(c, 1);
  const b = randomBatch(c, 2, 3, 8);
  const states = (seed: number) => tf.tidy(() => model.encodeSequences(b, { training: true, seed }).dataSync());
  assert.deepEqual(states(4), states(4));
  assert.notDeepEqual(states(4), states(5));
  model.dispose();
  await tf.setBackend('cpu');
});
