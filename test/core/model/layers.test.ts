import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LN_EPS, layerNormOp } from '../../../core/model/layers.ts';
import { relu, silu } from '../../../core/ops/activations.ts';
import { Rng } from '../../../core/random/rng.ts';

await tf.setBackend('cpu');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('SiLU with its custom gradient matches x·σ(x) under stock autodiff within 1e-5', () => {
  const rng = new Rng(11);
  const x = tf.tensor2d(Float32Array.from({ length: 60 }, () => 4 * rng.normal()), [6, 10]);
  const coef = tf.tensor2d(Float32Array.from({ length: 60 }, () => rng.normal()), [6, 10]); // a non-uniform upstream gradient
  const stock = (t: tf.Tensor): tf.Tensor => tf.mul(t, tf.sigmoid(t));
  const [ours, ref] = [silu, stock].map((f) => tf.valueAndGrad((t: tf.Tensor) => tf.sum(tf.mul(f(t), coef)) as tf.Scalar)(x));
  assert.ok(Math.abs(ours!.value.dataSync()[0]! - ref!.value.dataSync()[0]!) < 1e-4, 'values');
  const d = maxAbsDiff(ours!.grad.dataSync(), ref!.grad.dataSync());
  assert.ok(d < 1e-5, `gradient differs by ${d}`);
  assert.ok(maxAbsDiff(silu(x).dataSync(), stock(x).dataSync()) < 1e-6, 'forward');
});

test('LayerNorm with its closed-form gradient matches stock autodiff (x, γ, β) within 1e-5', () => {
  const rng = new Rng(12);
  const normal = (n: number, s = 1, m = 0): Float32Array => Float32Array.from({ length: n }, () => m + s * rng.normal());
  const x = tf.tensor3d(normal(2 * 5 * 8, 3, 0.5), [2, 5, 8]);
  const gamma = tf.tensor1d(normal(8, 0.5, 1));
  const beta = tf.tensor1d(normal(8));
  const coef = tf.tensor3d(normal(2 * 5 * 8), [2, 5, 8]); // a non-uniform upstream gradient
  const stock = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, LN_EPS))), g), b);
  };
  const [ours, ref] = [layerNormOp, stock].map((f) => tf.grads((t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(t, g, b), coef)))([x, gamma, beta]));
  for (const [i, what] of ['x', 'γ', 'β'].entries()) {
    assert.deepEqual(ours![i]!.shape, ref![i]!.shape, `${what} gradient shape`);
    const d = maxAbsDiff(ours![i]!.dataSync(), ref![i]!.dataSync());
    assert.ok(d < 1e-5, `${what} gradient differs by ${d}`);
  }
  assert.ok(maxAbsDiff(layerNormOp(x, gamma, beta).dataSync(), stock(x, gamma, beta).dataSync()) < 1e-6, 'forward');
});

test('ReLU with its custom gradient matches tf.relu under stock autodiff', () => {
  const x = tf.tensor1d([-2, -0.5, 0, 0.3, 4]);
  const w = tf.tensor1d([1, 2, 3, 4, 5]);
  assert.deepEqual(Array.from(relu(x).dataSync()), Array.from(tf.relu(x).dataSync()));
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(relu(t), w)))(x);
  assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 4, 5]);
  assert.deepEqual(Array.from(g.dataSync()), Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), w)))(x).dataSync()));
});
