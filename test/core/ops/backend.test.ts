// Backend selection: cpu and wasm always load; the native backend is checked wherever
// scripts/setup-native.sh built its addon, and its kernels and gradients must agree with cpu.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type LoadedBackend } from '../../../core/ops/backend.ts';
import { UserError } from '../../../core/stage/errors.ts';
import { Rng } from '../../../core/random/rng.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';

const nativeAbsent = nativeAbsentReason();

function randomValues(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** The ops the model leans on, forward and backward, read back as plain arrays. */
function runOps(): Float32Array[] {
  const rng = new Rng(7);
  return tf.tidy(() => {
    const a = tf.tensor2d(randomValues(rng, 6 * 5), [6, 5]);
    const b = tf.tensor2d(randomValues(rng, 5 * 4), [5, 4]);
    const table = tf.tensor2d(randomValues(rng, 8 * 3), [8, 3]);
    const indices = tf.tensor2d([[1], [6], [1], [0]], [4, 1], 'int32'); // duplicate row 1: scatter must sum
    const updates = tf.tensor2d(randomValues(rng, 4 * 3), [4, 3]);
    const logits = tf.tensor2d(randomValues(rng, 3 * 7), [3, 7]);
    const x = tf.tensor2d(randomValues(rng, 4 * 6), [4, 6]);

    const lseGrad = tf.grad((l: tf.Tensor) => tf.logSumExp(l, 1).sum())(logits);
    // Layer-norm-style standardisation through tf.moments, and its gradient.
    const layerNorm = (v: tf.Tensor): tf.Tensor => {
      const { mean, variance } = tf.moments(v, -1, true);
      return v.sub(mean).div(variance.add(1e-5).sqrt());
    };
    const lnGrad = tf.grad((v: tf.Tensor) => layerNorm(v).mul(x).sum())(x);
    const outs = [
      tf.matMul(a, b),
      tf.matMul(b, a, true, true),
      tf.gatherND(table, indices),
      tf.scatterND(indices, updates, [8, 3]),
      tf.logSumExp(logits, 1),
      lseGrad,
      layerNorm(x),
      lnGrad,
    ];
    return outs.map((t) => t.dataSync() as Float32Array);
  });
}

function maxAbsDiff(xs: Float32Array[], ys: Float32Array[]): number {
  assert.equal(xs.length, ys.length);
  let worst = 0;
  xs.forEach((x, i) => {
    assert.equal(x.length, ys[i]!.length, `output ${i} length`);
    x.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - ys[i]![j]!)); });
  });
  return worst;
}

async function runOn(backend: LoadedBackend): Promise<Float32Array[]> {
  assert.equal(await initBackend(backend), backend);
  return runOps();
}

test('cpu initialises and is what @tensorflow/tfjs reports', async () => {
  const lines: string[] = [];
  assert.equal(await initBackend('cpu', (s) => lines.push(s)), 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(lines, ['[backend] cpu (requested)']);
});

test('wasm initialises (its .wasm binaries are found under Node) and agrees with cpu', async () => {
  const cpu = await runOn('cpu');
  const before = tf.memory().numTensors;
  const wasm = await runOn('wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(tf.memory().numTensors, before, 'runOps leaks no tensors');
  assert.ok(maxAbsDiff(cpu, wasm) < 1e-4, `wasm vs cpu max |diff| ${maxAbsDiff(cpu, wasm)}`);
});

test('native tensorflow loads and shares the @tensorflow/tfjs engine', { skip: nativeAbsent ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.equal(tf.engine().backendName, 'tensorflow');
  const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).arraySync());
  assert.deepEqual(sum, [4, 6]);
});

test('native kernels and gradients agree with cpu within 1e-4', { skip: nativeAbsent ?? false }, async () => {
  const cpu = await runOn('cpu');
  const native = await runOn('tensorflow');
  const diff = maxAbsDiff(cpu, native);
  assert.ok(diff < 1e-4, `tensorflow vs cpu max |diff| ${diff}`);
});

test('auto picks the native backend when its addon is built', { skip: nativeAbsent ?? false }, async () => {
  const lines: string[] = [];
  assert.equal(await initBackend('auto', (s) => lines.push(s)), 'tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\[backend\] tensorflow \(auto/);
});

test('without the native addon, auto falls back to wasm and says why', { skip: nativeAbsent === null ? 'native addon present' : false }, async () => {
  const lines: string[] = [];
  assert.equal(await initBackend('auto', (s) => lines.push(s)), 'wasm');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\[backend\] wasm \(auto; skipped tensorflow: .+\)$/);
  await assert.rejects(initBackend('tensorflow'), (err: unknown) =>
    err instanceof UserError && /backend 'tensorflow' is unavailable: .*setup-native/.test(err.message));
});
