// rankOfGemm (float32 matMul scores + exact float64 re-scoring near the target) equals rankOf exactly: on
// exact ties (integer data, duplicate item vectors), on near-ties a float32 sum cannot separate, with
// exclusions, at every chunking, counted on the tfjs device (cpu backend, native TensorFlow) and by the native
// fused kernel (AVX2 and portable).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/ops/backend.ts';
import { type RankCounter, gemmItems, rankOfGemm } from '../../../core/ranking/rank-gemm.ts';
import { countAboveKernel } from '../../../core/ranking/native/count-above.ts';
import { rankOf } from '../../../core/ranking/topk.ts';
import { type Case, nearTieCase, randomCase } from '../../helpers/retrieval-cases.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';

function assertSameRanks(c: Case, label: string, counter: RankCounter = 'device'): void {
  for (const chunkItems of [1, 7, 64, undefined]) {
    for (const exclude of [undefined, c.exclude]) {
      const want = rankOf(c.queries, c.items, c.D, c.targets, { chunkItems, exclude });
      const got = rankOfGemm(c.queries, c.items, c.D, c.targets, { chunkItems, exclude }, undefined, counter);
      assert.deepEqual(got, want, `${label}, chunk ${chunkItems ?? 'default'}, ${exclude ? 'with' : 'without'} exclusions`);
    }
  }
}

function checkAll(backend: string, counter: RankCounter = 'device'): void {
  for (const [seed, integer] of [[1, false], [2, true], [3, true]] as const) assertSameRanks(randomCase(seed, integer), `${backend} seed ${seed}`, counter);
  for (const seed of [4, 5]) {
    const c = nearTieCase(seed);
    // the case really holds near-ties: some items tie the target in float32 but not in float64
    const q0 = c.queries.subarray(0, c.D);
    const t = c.targets[0]!;
    const f32 = (i: number): number => tf.tidy(() => tf.sum(tf.mul(tf.tensor1d(q0), tf.tensor1d(c.items.subarray(i * c.D, (i + 1) * c.D)))).dataSync()[0]!);
    let hidden = 0;
    for (let i = 1; i < 60; i++) {
      let exact = 0;
      for (let d = 0; d < c.D; d++) exact += q0[d]! * c.items[i * c.D + d]!;
      let st = 0;
      for (let d = 0; d < c.D; d++) st += q0[d]! * c.items[t * c.D + d]!;
      if (exact !== st && f32(i) === f32(t)) hidden++;
    }
    assert.ok(hidden > 0, 'near-ties a float32 score cannot separate');
    assertSameRanks(c, `${backend} near-ties seed ${seed}`, counter);
  }
}

test('rankOfGemm equals rankOf on the cpu backend (ties, near-ties, exclusions, chunks) and leaks no tensors', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  checkAll('cpu');
  const c = randomCase(9, false);
  const prepared = gemmItems(c.items, c.D);
  assert.deepEqual(rankOfGemm(c.queries, c.items, c.D, c.targets, { exclude: c.exclude }, prepared), rankOf(c.queries, c.items, c.D, c.targets, { exclude: c.exclude }), 'items prepared once');
  prepared.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => rankOfGemm(c.queries, c.items, c.D, c.targets.subarray(1)), /targets for/);
});

const nativeAbsent = nativeAbsentReason();

test('rankOfGemm equals rankOf on native TensorFlow (its own float32 GEMM order)', { skip: nativeAbsent ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  checkAll('tensorflow');
});

const kernelAbsent = countAboveKernel() === null ? 'the native ranking kernel is not built (bash scripts/setup-kernels.sh; HSTU_NO_KERNELS unset)' : false;

test('the native fused kernel ranks as rankOf: AVX2 and portable, odd tile shapes, one thread and many', { skip: kernelAbsent }, async () => {
  await tf.setBackend('cpu');
  const kernel = countAboveKernel()!;
  for (const counter of ['native', 'portable'] as const) {
    checkAll(counter, counter);
    // shapes around the 6-query × 16-item tiles and the block/thread split; wider D; no tensor is made
    for (const [Q, I, D] of [[1, 2, 1], [5, 17, 3], [6, 16, 8], [7, 33, 64], [13, 1000, 37]] as const) {
      for (const integer of [false, true]) assertSameRanks(randomCase(Q * I + D, integer, Q, I, D), `${counter} Q ${Q} I ${I} D ${D}`, counter);
    }
  }
  // threads: the same counts whether one thread or many split the query tiles (a count is exact, not a float sum)
  const c = nearTieCase(6, 20, 500);
  const queryBound = new Float64Array(20).fill(1e-6);
  const targetScore = Float64Array.from({ length: 20 }, (_, q) => { let s = 0; for (let d = 0; d < c.D; d++) s += c.queries[q * c.D + d]! * c.items[c.targets[q]! * c.D + d]!; return s; });
  const norms = new Float64Array(500).fill(1);
  const offsets = Int32Array.from({ length: 21 }, (_, q) => 3 * q);
  const excluded = Int32Array.from({ length: 60 }, (_, j) => (j * 37) % 500);
  const count = (threads: number, o = offsets, e = excluded, D = c.D, n = norms): { above: Int32Array; rescored: number } =>
    kernel.countAbove(c.queries, D, c.items, 1, n, c.targets, targetScore, queryBound, 7, threads, 0, o, e);
  const one = count(1);
  assert.deepEqual(count(5).above, one.above);
  assert.equal(count(5).rescored, one.rescored);
  assert.ok(one.rescored > 0, 'near-ties are re-scored in float64');
  const before = tf.memory().numTensors;
  rankOfGemm(c.queries, c.items, c.D, c.targets, {}, undefined, 'auto');
  assert.equal(tf.memory().numTensors, before, 'auto ranks with the built kernel: no tensor is made');
  assert.throws(() => count(1, offsets, excluded, 7), /D must divide/);
  assert.throws(() => count(1, offsets, excluded, c.D, norms.subarray(1)), /wrong length/);
  assert.throws(() => count(1, offsets.subarray(1)), /wrong length/);
  assert.throws(() => count(1, offsets, excluded.subarray(1)), /from 0 to excludeItems.length/);
  assert.throws(() => count(1, offsets, Int32Array.from(excluded, (e, j) => (j === 5 ? 500 : e))), /not an item row/);
  assert.throws(() => rankOfGemm(c.queries, c.items, c.D, c.targets, { exclude: () => [1, 2.5] }, undefined, 'native'), /lists 2.5, not an item row/);
});
