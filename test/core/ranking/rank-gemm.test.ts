// rankOfGemm (float32 matMul scores + exact float64 re-scoring near the target) equals rankOf exactly: on
// exact ties (integer data, duplicate item vectors), on near-ties a float32 sum cannot separate, with
// exclusions, at every chunking, on the cpu backend and on native TensorFlow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/ops/backend.ts';
import { gemmItems, rankOfGemm } from '../../../core/ranking/rank-gemm.ts';
import { rankOf } from '../../../core/ranking/topk.ts';
import { type Case, nearTieCase, randomCase } from '../../helpers/retrieval-cases.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';

function assertSameRanks(c: Case, label: string): void {
  for (const chunkItems of [1, 7, 64, undefined]) {
    for (const exclude of [undefined, c.exclude]) {
      const want = rankOf(c.queries, c.items, c.D, c.targets, { chunkItems, exclude });
      const got = rankOfGemm(c.queries, c.items, c.D, c.targets, { chunkItems, exclude });
      assert.deepEqual(got, want, `${label}, chunk ${chunkItems ?? 'default'}, ${exclude ? 'with' : 'without'} exclusions`);
    }
  }
}

function checkAll(backend: string): void {
  for (const [seed, integer] of [[1, false], [2, true], [3, true]] as const) assertSameRanks(randomCase(seed, integer), `${backend} seed ${seed}`);
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
    assertSameRanks(c, `${backend} near-ties seed ${seed}`);
  }
}

test('rankOfGemm equals rankOf on the cpu backend (ties, near-ties, exclusions, chunks) and leaks no tensors', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  checkAll('cpu');
  const c = randomCase(9, false);
  const prepared = gemmItems(c.items, c.D);
  assert.deepEqual(rankOfGemm(c.queries, c.items, c.D, c.targets, { exclude: c.exclude }, prepared), rankOf(c.queries, c.items, c.D, c.targets, { exclude: c.exclude }), 'items prepared once');
  prepared.tensor.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => rankOfGemm(c.queries, c.items, c.D, c.targets.subarray(1)), /targets for/);
});

const nativeAbsent = nativeAbsentReason();

test('rankOfGemm equals rankOf on native TensorFlow (its own float32 GEMM order)', { skip: nativeAbsent ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  checkAll('tensorflow');
});
