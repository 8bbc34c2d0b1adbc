import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { attentionActivation } from '../../../../../core/model/encoders/hstu/block.ts';
import { Rng } from '../../../../../core/random/rng.ts';

await tf.setBackend('cpu');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('the fused attention activation matches SiLU(scores + rab)·weights under stock autodiff within 1e-5', () => {
  const rng = new Rng(12);
  const [B, H, N] = [2, 3, 4];
  const rand = (shape: number[], s = 1): tf.Tensor => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => s * rng.normal()), shape);
  const scores = rand([B, H, N, N], 3);
  const coef = rand([B, H, N, N]);
  for (const [rabShape, wShape] of [[[B, 1, N, N], [B, 1, N, N]], [[1, 1, N, N], [B, H, N, N]]] as const) {
    const rab = rand([...rabShape]);
    const weights = tf.abs(rand([...wShape]));
    const stock = (s: tf.Tensor, r: tf.Tensor): tf.Tensor => {
      const z = tf.add(s, r);
      return tf.mul(tf.mul(z, tf.sigmoid(z)), weights);
    };
    const run = (f: (s: tf.Tensor, r: tf.Tensor) => tf.Tensor) => tf.grads((s: tf.Tensor, r: tf.Tensor) => tf.sum(tf.mul(f(s, r), coef)))([scores, rab]);
    const ours = run((s, r) => attentionActivation(s, r, weights));
    const ref = run(stock);
    assert.deepEqual(ours[1]!.shape, rab.shape, 'the rab gradient has rab\'s shape');
    for (let i = 0; i < 2; i++) {
      const d = maxAbsDiff(ours[i]!.dataSync(), ref[i]!.dataSync());
      assert.ok(d < 1e-5, `gradient ${i} (rab [${rabShape}]) differs by ${d}`);
    }
    assert.ok(maxAbsDiff(attentionActivation(scores, rab, weights).dataSync(), stock(scores, rab).dataSync()) < 1e-6, 'forward');
  }
});
