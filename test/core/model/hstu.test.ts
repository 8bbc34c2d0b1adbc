// Properties of the whole model on tiny dims (cpu backend): shapes, causality, left-padding
// invariance, FiLM identity at init, reproducible dropout, a finite-difference gradient check and
// no tensor leak over a training step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { encodeSequences, encodeSequencesAndTargets, encodeTargets, initHstu, lastPosition } from '../../../core/model/hstu.ts';
import type { SequenceBatch } from '../../../core/model/batch.ts';
import { checkSequenceBatch, checkTargetItems } from '../../../core/model/batch.ts';
import { film } from '../../../core/model/film.ts';
import type { ModelParams } from '../../../core/model/init.ts';
import type { ModelConfig } from '../../../core/model/config.ts';
import { Rng } from '../../../core/rng.ts';
import { randomBatch, randomTargets, tinyConfig } from './tiny-model.ts';

await tf.setBackend('cpu');

function states(p: ModelParams, c: ModelConfig, b: SequenceBatch): number[][][] {
  const s = encodeSequences(p, c, b, { training: false });
  const out = s.arraySync() as number[][][];
  s.dispose();
  return out;
}

function maxAbsDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

/** Drops the k leftmost token positions (all padding) from every per-token array. */
function trimLeft(b: SequenceBatch, k: number): SequenceBatch {
  const N = b.seqLen;
  const n = N - k;
  const cut = <T extends Int32Array | Float32Array | Float64Array>(arr: T): T => {
    const w = arr.length / (b.batchSize * N);
    const out = new (arr.constructor as { new (n: number): T })(b.batchSize * n * w);
    for (let s = 0; s < b.batchSize; s++) out.set(arr.subarray((s * N + k) * w, (s + 1) * N * w), s * n * w);
    return out;
  };
  return {
    ...b, seqLen: n, tokenType: cut(b.tokenType), itemIdx: cut(b.itemIdx), action: cut(b.action),
    filmAction: cut(b.filmAction), timestamp: cut(b.timestamp), itemSparse: cut(b.itemSparse),
    itemArray: cut(b.itemArray), itemContinuous: cut(b.itemContinuous), itemMultimodal: b.itemMultimodal.map(cut),
    timeDiscrete: cut(b.timeDiscrete), timeContinuous: cut(b.timeContinuous),
  };
}

test('output shapes: states [B, N, D], queries [B, D], items [M, D], all unit length', () => {
  const c = tinyConfig();
  const p = initHstu(c, 1);
  const b = randomBatch(c, 2, 3, 8);
  const t = randomTargets(c, 3, 5);
  checkSequenceBatch(c, b);
  checkTargetItems(c, t);
  tf.tidy(() => {
    const s = encodeSequences(p, c, b, { training: false });
    assert.deepEqual(s.shape, [3, 8, 8]);
    const q = lastPosition(s);
    assert.deepEqual(q.shape, [3, 8]);
    const items = encodeTargets(p, c, t);
    assert.deepEqual(items.shape, [5, 8]);
    for (const x of [q, items]) for (const n of tf.norm(x, 2, -1).dataSync()) assert.ok(Math.abs(n - 1) < 1e-5);
  });
  p.dispose();
});

test('causality: changing the item (or its time) at position t changes no state before t', () => {
  const c = tinyConfig();
  const p = initHstu(c, 1);
  const b = randomBatch(c, 5, 2, 8, [8, 6]);
  const base = states(p, c, b);
  const t = 5;
  const changed = { ...b, itemIdx: b.itemIdx.slice(), timestamp: b.timestamp.slice(), action: b.action.slice() };
  for (const s of [0, 1]) {
    changed.itemIdx[s * 8 + t] = (b.itemIdx[s * 8 + t]! % 19) + 1;
    changed.timestamp[s * 8 + t] = b.timestamp[s * 8 + t]! + 5000;
    changed.action[s * 8 + t] = (b.action[s * 8 + t]! + 1) % 3;
  }
  const after = states(p, c, changed);
  for (const s of [0, 1]) {
    for (let i = 0; i < t; i++) assert.ok(maxAbsDiff(base[s]![i]!, after[s]![i]!) < 1e-6, `seq ${s} position ${i} changed`);
    assert.ok(maxAbsDiff(base[s]![t]!, after[s]![t]!) > 1e-4, `seq ${s} position ${t} should change`);
  }
  p.dispose();
});

for (const attnNorm of ['padded', 'real'] as const) {
  test(`left-padding invariance (attn_norm ${attnNorm}): extra padding leaves real positions unchanged`, () => {
    const c = tinyConfig({ attnNorm });
    const p = initHstu(c, 2);
    const long = randomBatch(c, 6, 3, 8, [5, 3, 4]); // ≥ 3 pads in every row
    const short = trimLeft(long, 3);
    const a = states(p, c, long);
    const b = states(p, c, short);
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 5; i++) {
        if (short.tokenType[s * 5 + i] === 0) continue;
        assert.ok(maxAbsDiff(a[s]![i + 3]!, b[s]![i]!) < 1e-5, `seq ${s} position ${i}`);
      }
    }
    // Garbage in padding positions does not leak into real ones either.
    const noisy = { ...long, itemIdx: long.itemIdx.slice(), timestamp: long.timestamp.slice() };
    for (let i = 0; i < noisy.itemIdx.length; i++) {
      if (long.tokenType[i] === 0) {
        noisy.itemIdx[i] = 7;
        noisy.timestamp[i] = 123;
      }
    }
    const n = states(p, c, noisy);
    for (let s = 0; s < 3; s++) assert.ok(maxAbsDiff(a[s]![7]!, n[s]![7]!) < 1e-6);
    p.dispose();
  });
}

test('FiLM is the identity at init, and not once γ/β move', () => {
  const c = tinyConfig();
  const p = initHstu(c, 3);
  tf.tidy(() => {
    const h = tf.randomNormal([2, 4, c.hiddenUnits], 0, 1, 'float32', 1);
    const a = tf.tensor2d([[0, 1, 2, 1], [2, 2, 0, 1]], [2, 4], 'int32');
    assert.equal(tf.max(tf.abs(tf.sub(film(p, 'film', h, a), h))).dataSync()[0], 0);
    p.get('film.gamma').assign(tf.onesLike(p.get('film.gamma')));
    assert.ok(tf.max(tf.abs(tf.sub(film(p, 'film', h, a), h))).dataSync()[0]! > 0.1);
  });
  p.dispose();
});

test('dropout is reproducible from its seed and off in inference', () => {
  const c = tinyConfig({ dropoutRate: 0.3 });
  const p = initHstu(c, 4);
  const b = randomBatch(c, 7, 2, 8);
  tf.tidy(() => {
    const run = (training: boolean, seed: number) => encodeSequences(p, c, b, { training, seed }).dataSync();
    assert.deepEqual(run(true, 11), run(true, 11));
    assert.notDeepEqual(run(true, 11), run(true, 12));
    assert.deepEqual(run(false, 11), run(false, 12));
  });
  p.dispose();
});

/** A scalar loss touching every part of the model: states and target items against fixed weights. */
function probeLoss(p: ModelParams, c: ModelConfig, b: SequenceBatch, seed: number): () => tf.Scalar {
  const t = randomTargets(c, seed, 4);
  const ws = tf.randomNormal([b.batchSize, b.seqLen, c.hiddenUnits], 0, 1, 'float32', seed);
  const wt = tf.randomNormal([4, c.hiddenUnits], 0, 1, 'float32', seed + 1);
  return () => tf.add(tf.sum(tf.mul(encodeSequences(p, c, b, { training: false }), ws)), tf.sum(tf.mul(encodeTargets(p, c, t), wt))) as tf.Scalar;
}

test('finite-difference gradient check of a tiny model', () => {
  const c = tinyConfig({ numBlocks: 1 });
  const p = initHstu(c, 5);
  // Larger weights than the 0.02 init so every path is non-trivially non-linear.
  const rng = new Rng(9);
  for (const [name, v] of p.vars) {
    if (p.kinds.get(name) === 'norm') continue;
    v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => 0.3 * rng.normal()), v.shape));
  }
  const b = randomBatch(c, 8, 2, 6, [6, 4]);
  const loss = probeLoss(p, c, b, 3);
  const { grads } = tf.variableGrads(loss, p.trainable());
  const gradOf = new Map(p.names().map((n) => [n, grads[p.get(n).name]!.dataSync()]));
  const probes: [string, number][] = [
    ['blocks.0.uvqk.w', 5], ['blocks.0.uvqk.w', 40], ['blocks.0.out.w', 3], ['blocks.0.rab.pos', 1], ['blocks.0.rab.time', 0],
    ['emb.item', b.itemIdx[b.seqLen - 1]! * c.fieldDim + 1], ['emb.201', b.timeDiscrete[(b.seqLen - 1) * 3]! * c.fieldDim],
    ['history.se.fc1.w', 2], ['user.dnn1.w', 7], ['target.dnn2.b', 1], ['mm.81.w', 4], ['film.gamma', 2], ['film.r_scale', 0],
  ];
  const eps = 1e-2;
  let checked = 0;
  for (const [name, i] of probes) {
    const v = p.get(name);
    const orig = v.dataSync().slice();
    const at = (delta: number): number => {
      const x = orig.slice();
      x[i]! += delta;
      v.assign(tf.tensor(x, v.shape));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    v.assign(tf.tensor(orig, v.shape));
    const g = gradOf.get(name)![i]!;
    assert.ok(Math.abs(fd - g) <= 2e-3 + 0.03 * Math.abs(fd), `${name}[${i}]: analytic ${g}, finite difference ${fd}`);
    if (Math.abs(g) > 1e-3) checked++;
  }
  assert.ok(checked >= probes.length - 3, `only ${checked} probes had a non-trivial gradient`);
  tf.dispose(Object.values(grads));
  p.dispose();
});

test('no tensor leak across forward + backward + update', () => {
  const c = tinyConfig({ dropoutRate: 0.2 });
  const p = initHstu(c, 6);
  const b = randomBatch(c, 9, 2, 8);
  const t = randomTargets(c, 10, 3);
  const opt = tf.train.sgd(0.1);
  const step = (seed: number) => {
    const { value, grads } = tf.variableGrads(() => {
      const q = lastPosition(encodeSequences(p, c, b, { training: true, seed }));
      return tf.sum(tf.matMul(q, encodeTargets(p, c, t), false, true)) as tf.Scalar;
    }, p.trainable());
    opt.applyGradients(grads);
    value.dispose();
    tf.dispose(Object.values(grads));
  };
  const before = tf.memory().numTensors;
  const w0 = p.get('blocks.0.uvqk.w').dataSync().slice();
  step(1);
  step(2);
  assert.equal(tf.memory().numTensors, before);
  assert.notDeepEqual(p.get('blocks.0.uvqk.w').dataSync(), w0, 'the update changed the weights');
  opt.dispose();
  p.dispose();
});

test('encodeSequencesAndTargets (one item-table lookup) equals the two separate encoders, values and gradients', () => {
  const c = { ...tinyConfig(), dropoutRate: 0.2 };
  const p = initHstu(c, 3);
  const b = randomBatch(c, 4, 3, 6);
  const t = randomTargets(c, 5, 7);
  const opts = { training: true, seed: 9 };
  const lossOf = (joint: boolean) => () => tf.tidy(() => {
    const { states, items } = joint ? encodeSequencesAndTargets(p, c, b, t, opts) : { states: encodeSequences(p, c, b, opts), items: encodeTargets(p, c, t) };
    return tf.sum(tf.matMul(tf.reshape(states, [-1, c.hiddenUnits]), items, false, true)) as tf.Scalar;
  });
  const sep = tf.variableGrads(lossOf(false), p.trainable());
  const joint = tf.variableGrads(lossOf(true), p.trainable());
  assert.ok(Math.abs(sep.value.dataSync()[0]! - joint.value.dataSync()[0]!) < 1e-5);
  for (const name of p.names()) {
    const v = p.get(name).name;
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(sep.grads[v]!, joint.grads[v]!))).dataSync()[0]!);
    assert.ok(d < 1e-5, `gradient of ${name} differs by ${d}`);
  }
  assert.ok(tf.tidy(() => tf.sum(tf.abs(joint.grads[p.get('emb.item').name]!)).dataSync()[0]!) > 0, 'the item table gets a gradient');
  tf.dispose([sep.value, joint.value, ...Object.values(sep.grads), ...Object.values(joint.grads)]);
  p.dispose();
});
