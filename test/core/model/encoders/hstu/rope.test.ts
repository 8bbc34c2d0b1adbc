import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { applyRope } from '../../../../../core/model/encoders/hstu/rope.ts';
import { Rng } from '../../../../../core/random/rng.ts';

await tf.setBackend('cpu');

test('RoPE rotates the first r dims by pos·theta^(−2i/r) (rotate-half pairs) and leaves the rest', () => {
  const [B, H, N, d, r, theta] = [2, 2, 5, 6, 4, 100];
  const rng = new Rng(7);
  const x = Float32Array.from({ length: B * H * N * d }, () => rng.normal());
  const y = applyRope(tf.tensor4d(x, [B, H, N, d]), r, theta).dataSync();
  for (let bh = 0; bh < B * H; bh++) {
    for (let pos = 0; pos < N; pos++) {
      const base = (bh * N + pos) * d;
      for (let i = 0; i < r / 2; i++) {
        const angle = pos / Math.pow(theta, (2 * i) / r);
        const x1 = x[base + i]!;
        const x2 = x[base + i + r / 2]!;
        assert.ok(Math.abs(y[base + i]! - (x1 * Math.cos(angle) - x2 * Math.sin(angle))) < 1e-5);
        assert.ok(Math.abs(y[base + i + r / 2]! - (x2 * Math.cos(angle) + x1 * Math.sin(angle))) < 1e-5);
      }
      for (let k = r; k < d; k++) assert.equal(y[base + k], x[base + k]);
    }
  }
});

test('RoPE scores depend on the position difference only', () => {
  const rng = new Rng(8);
  const q = Float32Array.from({ length: 4 }, () => rng.normal());
  const k = Float32Array.from({ length: 4 }, () => rng.normal());
  // The same q and k placed at every position: q_i·k_j must equal q_{i+s}·k_{j+s}.
  const tile = (v: Float32Array) => tf.tensor4d(Array.from({ length: 6 }, () => [...v]).flat(), [1, 1, 6, 4]);
  const qr = applyRope(tile(q), 4, 10000).reshape([6, 4]);
  const kr = applyRope(tile(k), 4, 10000).reshape([6, 4]);
  const s = tf.matMul(qr, kr, false, true).arraySync() as number[][];
  assert.ok(Math.abs(s[3]![1]! - s[5]![3]!) < 1e-5);
  assert.ok(Math.abs(s[2]![2]! - s[0]![0]!) < 1e-5);
  assert.ok(Math.abs(s[3]![1]! - s[3]![2]!) > 1e-4, 'different distances give different scores');
});

test('RoPE gradient matches the slice/concat form under stock autodiff within 1e-5', () => {
  const [B, H, N, d, r, theta] = [2, 2, 5, 6, 4, 100];
  const rng = new Rng(9);
  const x = tf.tensor4d(Float32Array.from({ length: B * H * N * d }, () => rng.normal()), [B, H, N, d]);
  const coef = tf.tensor4d(Float32Array.from({ length: B * H * N * d }, () => rng.normal()), [B, H, N, d]);
  const half = r / 2;
  const angles = Array.from({ length: N * half }, (_, k) => Math.floor(k / half) * Math.pow(theta, (-2 * (k % half)) / r));
  const cos = tf.tensor2d(angles.map(Math.cos), [N, half]);
  const sin = tf.tensor2d(angles.map(Math.sin), [N, half]);
  const stock = (t: tf.Tensor): tf.Tensor => {
    const x1 = tf.slice(t, [0, 0, 0, 0], [B, H, N, half]);
    const x2 = tf.slice(t, [0, 0, 0, half], [B, H, N, half]);
    const rest = tf.slice(t, [0, 0, 0, r], [B, H, N, d - r]);
    return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin)), rest], -1);
  };
  const grad = (f: (t: tf.Tensor) => tf.Tensor): Float32Array => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), coef)))(x).dataSync() as Float32Array;
  const ours = grad((t) => applyRope(t, r, theta));
  const ref = grad(stock);
  let m = 0;
  for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i]! - ref[i]!));
  assert.ok(m < 1e-5, `gradient differs by ${m}`);
});
