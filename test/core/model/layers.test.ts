import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { silu } from '../../../core/model/layers.ts';
import { Rng } from '../../../core/rng.ts';

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
