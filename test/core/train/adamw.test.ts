import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { AdamW, FLAT_MAX_SIZE, GradAccumulator, NonFiniteGradNormError, clipNormAt, decayFromKinds, globalNorm } from '../../../core/train/adamw.ts';
import { initBackend } from '../../../core/ops/backend.ts';
import { nativeAbsentReason } from '../../helpers/native.ts';

await tf.setBackend('cpu');

const decayAll = (): boolean => true;

function values(v: tf.Tensor): number[] {
  return Array.from(v.dataSync());
}

function assertNear(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tol, `${what}[${i}]: ${a} vs ${expected[i]}`));
}

/** One PyTorch AdamW step on a scalar, written out from the algorithm in the docs. */
function torchAdamW(p: number, g: number, m: number, v: number, t: number, lr: number, wd: number) {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  p *= 1 - lr * wd;
  m = b1 * m + (1 - b1) * g;
  v = b2 * v + (1 - b2) * g * g;
  const mHat = m / (1 - b1 ** t);
  const vHat = v / (1 - b2 ** t);
  return { p: p - (lr * mHat) / (Math.sqrt(vHat) + eps), m, v };
}

test('one and two AdamW steps on a scalar match hand-computed values', () => {
  const w = tf.variable(tf.scalar(1));
  const opt = new AdamW({ w }, { weightDecay: 0.01, decays: decayAll });
  opt.step({ w: tf.scalar(0.5) }, 0.1, 1e9);
  // Step 1 by hand: decay 1 → 0.999; m̂/√v̂ = 0.5/0.5 = 1, so the update is lr = 0.1.
  assertNear(values(w), [0.899], 1e-6, 'after step 1');
  opt.step({ w: tf.scalar(-1) }, 0.1, 1e9);
  const s1 = torchAdamW(1, 0.5, 0, 0, 1, 0.1, 0.01);
  const s2 = torchAdamW(s1.p, -1, s1.m, s1.v, 2, 0.1, 0.01);
  assertNear(values(w), [s2.p], 1e-6, 'after step 2');
  assert.ok(Math.abs(s2.p - 0.934711) < 1e-5, `reference itself: ${s2.p}`); // 0.898101 + 0.1·0.28947/0.79069
  const state = opt.exportState();
  assert.equal(state.step, 2);
  assertNear(Array.from(state.m['w']!), [s2.m], 1e-7, 'm');
  assertNear(Array.from(state.v['w']!), [s2.v], 1e-9, 'v');
  opt.dispose();
  w.dispose();
});

test('no weight decay for LayerNorm and bias kinds', () => {
  const kinds = new Map([['lin.w', 'weight'], ['lin.b', 'bias'], ['ln.g', 'norm']]);
  const rule = decayFromKinds(kinds);
  assert.deepEqual(['lin.w', 'lin.b', 'ln.g'].map(rule), [true, false, false]);
  assert.throws(() => rule('unknown'), /no parameter kind for unknown/);

  const vars = { 'lin.w': tf.variable(tf.tensor1d([1, -2])), 'lin.b': tf.variable(tf.tensor1d([1, -2])) };
  const opt = new AdamW(vars, { weightDecay: 0.5, decays: rule });
  opt.step({ 'lin.w': tf.tensor1d([0.1, 0.2]), 'lin.b': tf.tensor1d([0.1, 0.2]) }, 0.1, 1e9);
  // First Adam step moves each element by lr·sign(g) = 0.1; decay multiplies by 1 − 0.1·0.5 first.
  assertNear(values(vars['lin.b']), [0.9, -2.1], 1e-6, 'bias: no decay');
  assertNear(values(vars['lin.w']), [0.95 - 0.1, -1.9 - 0.1], 1e-6, 'weight: decayed');
  opt.dispose();
});

test('clip schedule: 20 before step 3000, clip_norm from 3000 on', () => {
  assert.equal(clipNormAt(0, 2.5), 20);
  assert.equal(clipNormAt(2999, 2.5), 20);
  assert.equal(clipNormAt(3000, 2.5), 2.5);
  assert.equal(clipNormAt(3001, 2.5), 2.5);
});

test('gradients are clipped by global norm and the pre-clip norm is returned', () => {
  for (const [startStep, expectedScale] of [[2999, 20 / 50], [3000, 2.5 / 50]] as const) {
    const w = tf.variable(tf.tensor1d([0, 0]));
    const opt = new AdamW({ w }, { weightDecay: 0, decays: decayAll });
    opt.importState({ step: startStep, m: { w: new Float32Array(2) }, v: { w: new Float32Array(2) } });
    const g = tf.tensor1d([30, 40]); // norm 50
    const norm = opt.step({ w: g }, 0.1, clipNormAt(opt.stepCount, 2.5));
    assert.equal(norm, 50);
    // m = (1 − β1)·g_clipped shows the scale the step used.
    assertNear(Array.from(opt.exportState().m['w']!), [3 * expectedScale, 4 * expectedScale], 1e-5, `m at step ${startStep}`);
    assert.equal(opt.stepCount, startStep + 1);
    opt.dispose();
    w.dispose();
    g.dispose();
  }
  assert.equal(globalNorm({ a: tf.tensor1d([3]), b: tf.tensor2d([[4]]) }), 5);
});

test('a non-finite gradient norm throws before any variable changes', () => {
  const w = tf.variable(tf.tensor1d([1, 2]));
  const opt = new AdamW({ w }, { weightDecay: 0.1, decays: decayAll });
  assert.throws(() => opt.step({ w: tf.tensor1d([NaN, 1]) }, 0.1, 20), (e: unknown) => {
    assert.ok(e instanceof NonFiniteGradNormError, 'a typed error the training loop recognises');
    assert.match(e.message, /non-finite gradient norm \(NaN\) at optimizer step 0/);
    return true;
  });
  assert.deepEqual(values(w), [1, 2]);
  assert.equal(opt.stepCount, 0);
  assert.throws(() => opt.step({}, 0.1, 20), /no gradient for w/);
  assert.throws(() => opt.step({ w: tf.tensor1d([1, 1]), x: tf.scalar(1) }, 0.1, 20), /gradient for unknown variable x/);
  opt.dispose();
});

test('accumulating 2 micro-batches equals one step on the concatenated batch (linear loss)', () => {
  const x = tf.tensor2d([[1, 2], [3, -1], [0.5, 4], [-2, 1]]); // 4 rows, 2 micro-batches of 2
  const runAccumulated = (): number[] => {
    const w = tf.variable(tf.tensor1d([0.3, -0.7]));
    const opt = new AdamW({ w }, { weightDecay: 0.01, decays: decayAll });
    const acc = new GradAccumulator();
    for (const half of [x.slice([0, 0], [2, 2]), x.slice([2, 0], [2, 2])]) {
      const { grads } = tf.variableGrads(() => tf.mean(tf.matMul(half, tf.reshape(w, [2, 1]))) as tf.Scalar, [w]);
      acc.add({ w: grads[w.name]! });
      tf.dispose(grads);
    }
    assert.equal(acc.size, 2);
    const mean = acc.mean();
    assert.equal(acc.size, 0);
    opt.step(mean, 0.05, 20);
    tf.dispose(mean);
    const out = values(w);
    opt.dispose();
    w.dispose();
    return out;
  };
  const runWhole = (): number[] => {
    const w = tf.variable(tf.tensor1d([0.3, -0.7]));
    const opt = new AdamW({ w }, { weightDecay: 0.01, decays: decayAll });
    const { grads } = tf.variableGrads(() => tf.mean(tf.matMul(x, tf.reshape(w, [2, 1]))) as tf.Scalar, [w]);
    // The gradient of the mean linear loss is the mean row: a check that the test itself is right.
    assertNear(values(grads[w.name]!), [(1 + 3 + 0.5 - 2) / 4, (2 - 1 + 4 + 1) / 4], 1e-6, 'whole-batch grad');
    opt.step({ w: grads[w.name]! }, 0.05, 20);
    tf.dispose(grads);
    const out = values(w);
    opt.dispose();
    w.dispose();
    return out;
  };
  assertNear(runAccumulated(), runWhole(), 1e-7, 'params after one step');
});

test('exported state resumes to the same trajectory, and steps leak no tensors', () => {
  const grads = [tf.tensor2d([[0.2, -0.1], [0.4, 0.3]]), tf.tensor2d([[-0.5, 0.1], [0.2, 0.0]]), tf.tensor2d([[0.1, 0.1], [-0.3, 0.6]])];
  const init = [[0.5, -0.5], [1, 2]];
  const a = tf.variable(tf.tensor2d(init));
  const optA = new AdamW({ a }, { weightDecay: 0.1, decays: decayAll });
  const before = tf.memory().numTensors;
  for (const g of grads) optA.step({ a: g }, 0.01, 20);
  assert.equal(tf.memory().numTensors, before, 'AdamW.step leaks no tensors');

  const b = tf.variable(tf.tensor2d(init));
  const optB = new AdamW({ b }, { weightDecay: 0.1, decays: decayAll });
  optB.step({ b: grads[0]! }, 0.01, 20);
  optB.step({ b: grads[1]! }, 0.01, 20);
  const st = optB.exportState();
  const c = tf.variable(b.clone());
  const optC = new AdamW({ c }, { weightDecay: 0.1, decays: decayAll });
  optC.importState({ step: st.step, m: { c: st.m['b']! }, v: { c: st.v['b']! } });
  optC.step({ c: grads[2]! }, 0.01, 20);
  assert.deepEqual(values(c), values(a), 'resumed run equals the uninterrupted one');
  assert.throws(() => optC.importState({ step: 1, m: {}, v: {} }), /m\[c\] has no values, expected 4/);

  const acc = new GradAccumulator();
  const accBefore = tf.memory().numTensors;
  acc.add({ a: grads[0]! });
  acc.add({ a: grads[1]! });
  tf.dispose(acc.mean());
  assert.equal(tf.memory().numTensors, accBefore, 'GradAccumulator leaks no tensors');
  for (const t of [a, b, c, ...grads]) t.dispose();
  for (const o of [optA, optB, optC]) o.dispose();
});

/** The flat group and a large variable against the scalar algorithm, on the active backend. */
function checkAgainstScalarAdamW(): void {
  const shapes: Record<string, number[]> = { w: [3, 4], b: [4], g: [5], big: [FLAT_MAX_SIZE / 64 + 1, 64] };
  const decays = (name: string): boolean => name === 'w' || name === 'big';
  const series = (size: number, k: number): Float32Array => Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37 + k));
  const lr = 0.01;
  const wd = 0.1;
  for (const maxNorm of [1e6, 0.5]) { // unclipped, then clipped
    const vars = Object.fromEntries(Object.entries(shapes).map(([n, s], k) => [n, tf.variable(tf.tensor(series(tf.util.sizeFromShape(s), k), s))]));
    const opt = new AdamW(vars, { weightDecay: wd, decays });
    // The reference: every element through the scalar algorithm, in float64.
    const ref = Object.fromEntries(Object.entries(shapes).map(([n, s], k) => {
      const size = tf.util.sizeFromShape(s);
      return [n, { p: Array.from(series(size, k)), m: new Array<number>(size).fill(0), v: new Array<number>(size).fill(0) }];
    }));
    for (let step = 0; step < 3; step++) {
      const g = Object.fromEntries(Object.entries(shapes).map(([n, s], k) => [n, series(tf.util.sizeFromShape(s), 10 * step + k + 5)]));
      if (step === 2) { // someone else assigns a small variable: the optimizer must not use its cached copy
        const size = tf.util.sizeFromShape(shapes['b']!);
        vars['b']!.assign(tf.tensor(Float32Array.from({ length: size }, (_, i) => i), shapes['b']!));
        ref['b']!.p = Array.from({ length: size }, (_, i) => i);
      }
      const grads = Object.fromEntries(Object.entries(g).map(([n, x]) => [n, tf.tensor(x, shapes[n]!)]));
      opt.step(grads, lr, maxNorm);
      tf.dispose(Object.values(grads));
      const norm = Math.sqrt(Object.values(g).reduce((s, x) => s + x.reduce((a, y) => a + y * y, 0), 0));
      const scale = Math.min(1, maxNorm / (norm + 1e-6));
      for (const [n, r] of Object.entries(ref)) {
        r.p.forEach((p, i) => {
          const next = torchAdamW(p, g[n]![i]! * scale, r.m[i]!, r.v[i]!, step + 1, lr, decays(n) ? wd : 0);
          [r.p[i], r.m[i], r.v[i]] = [next.p, next.m, next.v];
        });
      }
    }
    const state = opt.exportState();
    for (const [n, r] of Object.entries(ref)) {
      assertNear(values(vars[n]!), r.p, 2e-6, `${n} (maxNorm ${maxNorm})`);
      assertNear(Array.from(state.m[n]!), r.m, 1e-6, `m[${n}]`);
      assertNear(Array.from(state.v[n]!), r.v, 1e-7, `v[${n}]`);
    }
    tf.dispose(Object.values(vars));
    opt.dispose();
  }
}

test('tensor slots (cpu): the flat update of small variables and the update of a large one follow the scalar AdamW (mixed decay, clipping, outside assignment)', async () => {
  await tf.setBackend('cpu');
  checkAgainstScalarAdamW();
});

test('resource slots (native TensorFlow, ResourceApplyAdam): the same', { skip: nativeAbsentReason() ?? false }, async () => {
  assert.equal(await initBackend('tensorflow'), 'tensorflow');
  const before = tf.memory().numTensors;
  tf.tidy(() => checkAgainstScalarAdamW()); // the test's own tensors go; the optimizer's must go with dispose()
  assert.equal(tf.memory().numTensors, before, 'no tensors left after dispose');
  await tf.setBackend('cpu');
});
