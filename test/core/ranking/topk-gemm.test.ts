// topKGemm (float32 matMul top-k + exact float64 re-scoring within the float32 error bound) equals topK bit for
// bit — indices and scores — on exact ties, near-ties, with exclusions, at every chunking (down to chunks smaller
// than k, where the per-row fallback runs), with k beyond the candidates left, on cpu and native TensorFlow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../core/ops/backend.ts';
import { gemmItems } from '../../../core/ranking/rank-gemm.ts';
import { topKGemm } from '../../../core/ranking/topk-gemm.ts';
import { topK } from '../../../core/ranking/topk.ts';
import { type Case, nearTieCase, randomCase } from '../../helpers/retrieval-cases.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';

function assertSameLists(c: Case, label: string, ks: number[]): void {
  for (const k of ks) {
    for (const chunkItems of [1, 5, 64, undefined]) {
      for (const exclude of [undefined, c.exclude]) {
        for (const skipRow0 of [true, false]) {
          const want = topK(c.queries, c.items, c.D, k, { chunkItems, exclude, skipRow0 });
          const got = topKGemm(c.queries, c.items, c.D, k, { chunkItems, exclude, skipRow0 });
          const what = `${label}, k ${k}, chunk ${chunkItems ?? 'default'}, ${exclude ? 'with' : 'without'} exclusions, skipRow0 ${skipRow0}`;
          assert.deepEqual(got.indices, want.indices, `${what}: indices`);
          assert.deepEqual(got.scores, want.scores, `${what}: scores`);
        }
      }
    }
  }
}

function checkAll(backend: string): void {
  for (const [seed, integer] of [[1, false], [2, true], [3, true]] as const) assertSameLists(randomCase(seed, integer), `${backend} seed ${seed}`, [1, 10, 40]);
  assertSameLists(randomCase(6, true, 5, 9, 4), `${backend} k beyond the catalogue`, [12]);
  for (const seed of [4, 5]) assertSameLists(nearTieCase(seed), `${backend} near-ties seed ${seed}`, [10, 100]);
}

test('topKGemm equals topK on the cpu backend (ties, near-ties, exclusions, chunks) and leaks no tensors', async () => {
  await tf.setBackend('cpu');
  const before = tf.memory().numTensors;
  checkAll('cpu');
  const c = randomCase(9, false);
  const prepared = gemmItems(c.items, c.D);
  assert.deepEqual(topKGemm(c.queries, c.items, c.D, 10, { exclude: c.exclude }, prepared), topK(c.queries, c.items, c.D, 10, { exclude: c.exclude }), 'items prepared once');
  prepared.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => topKGemm(c.queries, c.items, c.D, 0), /k must be a positive integer/);
});

test('topKGemm equals topK on native TensorFlow (its own float32 GEMM order)', { skip: nativeAbsentReason() ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  try {
    checkAll('tensorflow');
  } finally {
    await tf.setBackend('cpu');
  }
});
