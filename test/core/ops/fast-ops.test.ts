// The fast paths must give the same values and gradients as stock tfjs ops (cpu backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchMatMul, gatherRows, logSumExp, matMul2d, meanLastAxis } from '../../../core/ops/fast-ops.ts';
import { l2Normalize } from '../../../core/model/layers.ts';
import { Rng } from '../../../core/random/rng.ts';

await tf.setBackend('cpu');

function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

function assertClose(a: tf.Tensor, b: tf.Tensor, tol: number, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shapes differ`);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
  assert.ok(diff <= tol, `${what}: max |Δ| = ${diff} > ${tol}`);
}

test('gatherRows equals tf.gather, gradient sums duplicate indices', () => {
  const rng = new Rng(1);
  const table = randn(rng, [6, 3]);
  const idx = tf.tensor2d([[0, 2, 2], [5, 2, 0]], [2, 3], 'int32'); // duplicates on purpose
  const w = randn(rng, [2, 3, 3]);
  const fast = (t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t, idx), w));
  const stock = (t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), w));
  assertClose(gatherRows(table, idx), tf.gather(table, idx), 0, 'value');
  const gFast = tf.grad(fast)(table);
  assertClose(gFast, tf.grad(stock)(table), 1e-5, 'gradient');
  // Row 2 is gathered three times: its gradient is the sum of three slices of w, not one.
  const row2 = gFast.slice([2, 0], [1, 3]);
  const expected = tf.tidy(() => tf.addN([w.slice([0, 1, 0], [1, 1, 3]), w.slice([0, 2, 0], [1, 1, 3]), w.slice([1, 1, 0], [1, 1, 3])]).reshape([1, 3]));
  assertClose(row2, expected, 1e-6, 'duplicate row');
});

test('matMul2d equals tf.matMul in value and both gradients', () => {
  const rng = new Rng(2);
  const a = randn(rng, [5, 4]);
  const b = randn(rng, [4, 3]);
  const w = randn(rng, [5, 3]);
  assertClose(matMul2d(a, b), tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D), 1e-6, 'value');
  const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul2d(x, y), w)))([a, b]);
  const [sa, sb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), w)))([a, b]);
  assertClose(ga!, sa!, 1e-5, 'd/da');
  assertClose(gb!, sb!, 1e-5, 'd/db');
});

test('batchMatMul equals batched tf.matMul in value and both gradients', () => {
  const rng = new Rng(3);
  const a = randn(rng, [3, 5, 4]);
  const b = randn(rng, [3, 4, 2]);
  const w = randn(rng, [3, 5, 2]);
  assertClose(batchMatMul(a, b), tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D), 1e-6, 'value');
  const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(batchMatMul(x, y), w)))([a, b]);
  const [sa, sb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D), w)))([a, b]);
  assertClose(ga!, sa!, 1e-5, 'd/da');
  assertClose(gb!, sb!, 1e-5, 'd/db');
});

test('logSumExp equals tf.logSumExp over the last axis, gradient too, and is stable for large inputs', () => {
  const rng = new Rng(4);
  const x = tf.mul(randn(rng, [4, 7]), 5);
  const w = randn(rng, [4]);
  assertClose(logSumExp(x), tf.logSumExp(x, -1), 1e-5, 'value');
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(logSumExp(t), w)))(x);
  const s = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.logSumExp(t, -1), w)))(x);
  assertClose(g, s, 1e-5, 'gradient');
  const big = tf.tensor2d([[1000, 1000]]);
  assertClose(logSumExp(big), tf.tensor1d([1000 + Math.log(2)]), 1e-3, 'large inputs');
});

test('meanLastAxis equals tf.mean over the last axis, gradient too', () => {
  const rng = new Rng(5);
  const x = randn(rng, [4, 3, 5]);
  const w = randn(rng, [4, 3]);
  assertClose(meanLastAxis(x), tf.mean(x, -1), 1e-7, 'value');
  assertClose(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(meanLastAxis(t), w)))(x), tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mean(t, -1), w)))(x), 1e-7, 'gradient');
});

test('l2Normalize: unit rows, closed-form gradient equals autodiff, all-zero rows stay finite', () => {
  const rng = new Rng(6);
  const x = tf.concat([randn(rng, [5, 4]), tf.zeros([1, 4]), tf.fill([1, 4], 1e-8)], 0); // a zero row and one under the floor
  const w = randn(rng, [7, 4]);
  const stock = (t: tf.Tensor) => tf.mul(t, tf.rsqrt(tf.maximum(tf.sum(tf.square(t), -1, true), 1e-12)));
  assertClose(l2Normalize(x), stock(x), 1e-6, 'value');
  const norms = tf.norm(l2Normalize(x.slice([0, 0], [5, 4])), 'euclidean', -1).dataSync();
  norms.forEach((n) => assert.ok(Math.abs(n - 1) < 1e-6, `row norm ${n}`));
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(l2Normalize(t), w)))(x);
  assertClose(g, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(stock(t), w)))(x), 1e-4, 'gradient');
  assert.ok(g.dataSync().every(Number.isFinite));
});
