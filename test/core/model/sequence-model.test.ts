// Properties of the whole model behind the seam, for every encoder (HSTU with both attention
// normalisations; SASRec on ids only and with the feature towers), on tiny dims (cpu backend):
// shapes, causality, left-padding invariance, reproducible dropout, a finite-difference gradient
// check, one item-table lookup = two, and no tensor leak over a training step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { type SequenceModel, initModel, lastPosition } from '../../../core/model/sequence-model.ts';
import type { SequenceBatch } from '../../../core/model/inputs.ts';
import { checkSequenceBatch, checkTargetItems } from '../../../core/model/inputs.ts';
import type { ModelConfig } from '../../../core/model/config.ts';
import { Rng } from '../../../core/random/rng.ts';
import { randomBatch, randomTargets, tinyConfig, tinySasrecConfig } from './tiny-model.ts';

await tf.setBackend('cpu');

interface Case {
  name: string;
  config: (over?: { dropoutRate?: number; numBlocks?: number }) => ModelConfig;
  /** Variables and flat indices the gradient check probes (beyond the item table), and one weight an update must move. */
  probes: [string, number][];
  weight: string;
}

const HSTU_PROBES: [string, number][] = [
  ['blocks.0.uvqk.w', 5], ['blocks.0.uvqk.w', 40], ['blocks.0.out.w', 3], ['blocks.0.rab.pos', 1], ['blocks.0.rab.time', 0],
  ['history.se.fc1.w', 2], ['user.dnn1.w', 7], ['target.dnn2.b', 1], ['mm.81.w', 4], ['film.gamma', 2], ['film.r_scale', 0],
];
const SASREC_PROBES: [string, number][] = [
  ['sasrec.blocks.0.q.w', 5], ['sasrec.blocks.0.kv.w', 3], ['sasrec.blocks.0.kv.w', 44], ['sasrec.blocks.0.out.w', 9],
  ['sasrec.blocks.0.ffn1.w', 2], ['sasrec.blocks.0.ffn2.b', 1], ['sasrec.blocks.0.ln_attn.b', 3], ['sasrec.pos', 8 * 2 + 1], ['ln_out.g', 0],
];

const CASES: Case[] = [
  { name: 'hstu (attn_norm padded)', config: (o) => tinyConfig(o), probes: HSTU_PROBES, weight: 'blocks.0.uvqk.w' },
  { name: 'hstu (attn_norm real)', config: (o) => tinyConfig({ ...o, attnNorm: 'real' }), probes: HSTU_PROBES, weight: 'blocks.0.uvqk.w' },
  { name: 'sasrec (ids only)', config: (o) => tinySasrecConfig(o), probes: [...SASREC_PROBES, ['emb.start', 3]], weight: 'sasrec.blocks.0.q.w' },
  {
    name: 'sasrec (feature towers)', config: (o) => tinySasrecConfig(o, true),
    probes: [...SASREC_PROBES, ['history.se.fc1.w', 2], ['user.dnn1.w', 7], ['target.dnn2.b', 1], ['film.gamma', 2]], weight: 'sasrec.blocks.0.kv.w',
  },
];

function states(m: SequenceModel, b: SequenceBatch): number[][][] {
  const s = m.encodeSequences(b, { training: false });
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

/**
 * Larger weights than the init (std 0.3) so every path is non-trivially non-linear and no input's
 * effect hides below float32 noise (at init the towers' outputs are ~1e-3 beside SASRec's positions).
 */
function offInit(m: SequenceModel): void {
  const rng = new Rng(9);
  for (const [name, v] of m.weights.vars) {
    if (m.weights.kinds.get(name) === 'norm') continue;
    v.assign(tf.tensor(Float32Array.from({ length: v.size }, () => 0.3 * rng.normal()), v.shape));
  }
}

/** A scalar loss touching every part of the model: states and target items against fixed weights. */
function probeLoss(m: SequenceModel, b: SequenceBatch, seed: number): () => tf.Scalar {
  const c = m.config;
  const t = randomTargets(c, seed, 4);
  const ws = tf.randomNormal([b.batchSize, b.seqLen, c.hiddenUnits], 0, 1, 'float32', seed);
  const wt = tf.randomNormal([4, c.hiddenUnits], 0, 1, 'float32', seed + 1);
  return () => tf.add(tf.sum(tf.mul(m.encodeSequences(b, { training: false }), ws)), tf.sum(tf.mul(m.encodeTargets(t), wt))) as tf.Scalar;
}

for (const k of CASES) {
  test(`${k.name}: output shapes — states [B, N, D], queries [B, D], items [M, D], all unit length`, () => {
    const m = initModel(k.config(), 1);
    const c = m.config;
    const b = randomBatch(c, 2, 3, 8);
    const t = randomTargets(c, 3, 5);
    checkSequenceBatch(c, b);
    checkTargetItems(c, t);
    tf.tidy(() => {
      const s = m.encodeSequences(b, { training: false });
      assert.deepEqual(s.shape, [3, 8, 8]);
      const q = lastPosition(s);
      assert.deepEqual(q.shape, [3, 8]);
      const items = m.encodeTargets(t);
      assert.deepEqual(items.shape, [5, 8]);
      for (const x of [q, items]) for (const n of tf.norm(x, 2, -1).dataSync()) assert.ok(Math.abs(n - 1) < 1e-5);
    });
    m.dispose();
  });

  test(`${k.name}: causality — changing the item (its time, its action) at position t changes no state before t`, () => {
    const m = initModel(k.config(), 1);
    offInit(m);
    const b = randomBatch(m.config, 5, 2, 8, [8, 6]);
    const base = states(m, b);
    const t = 5;
    const changed = { ...b, itemIdx: b.itemIdx.slice(), timestamp: b.timestamp.slice(), action: b.action.slice() };
    for (const s of [0, 1]) {
      changed.itemIdx[s * 8 + t] = (b.itemIdx[s * 8 + t]! % 19) + 1;
      changed.timestamp[s * 8 + t] = b.timestamp[s * 8 + t]! + 5000;
      changed.action[s * 8 + t] = (b.action[s * 8 + t]! + 1) % 3;
    }
    const after = states(m, changed);
    for (const s of [0, 1]) {
      for (let i = 0; i < t; i++) assert.ok(maxAbsDiff(base[s]![i]!, after[s]![i]!) < 1e-6, `seq ${s} position ${i} changed`);
      assert.ok(maxAbsDiff(base[s]![t]!, after[s]![t]!) > 1e-4, `seq ${s} position ${t} should change`);
    }
    m.dispose();
  });

  test(`${k.name}: left-padding invariance — extra padding (or garbage in it) leaves real positions unchanged`, () => {
    const m = initModel(k.config(), 2);
    offInit(m);
    const long = randomBatch(m.config, 6, 3, 8, [5, 3, 4]); // ≥ 3 pads in every row
    const short = trimLeft(long, 3);
    const a = states(m, long);
    const b = states(m, short);
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < 5; i++) {
        if (short.tokenType[s * 5 + i] === 0) continue;
        assert.ok(maxAbsDiff(a[s]![i + 3]!, b[s]![i]!) < 1e-5, `seq ${s} position ${i}`);
      }
    }
    const noisy = { ...long, itemIdx: long.itemIdx.slice(), timestamp: long.timestamp.slice() };
    for (let i = 0; i < noisy.itemIdx.length; i++) {
      if (long.tokenType[i] === 0) {
        noisy.itemIdx[i] = 7;
        noisy.timestamp[i] = 123;
      }
    }
    const n = states(m, noisy);
    for (let s = 0; s < 3; s++) assert.ok(maxAbsDiff(a[s]![7]!, n[s]![7]!) < 1e-6);
    m.dispose();
  });

  test(`${k.name}: dropout is reproducible from its seed and off in inference`, () => {
    const m = initModel(k.config({ dropoutRate: 0.3 }), 4);
    const b = randomBatch(m.config, 7, 2, 8);
    tf.tidy(() => {
      const run = (training: boolean, seed: number) => m.encodeSequences(b, { training, seed }).dataSync();
      assert.deepEqual(run(true, 11), run(true, 11));
      assert.notDeepEqual(run(true, 11), run(true, 12));
      assert.deepEqual(run(false, 11), run(false, 12));
    });
    m.dispose();
  });

  test(`${k.name}: finite-difference gradient check`, () => {
    const m = initModel(k.config({ numBlocks: 1 }), 5);
    const { weights: p, config: c } = m;
    offInit(m);
    const b = randomBatch(c, 8, 2, 6, [6, 4]);
    const loss = probeLoss(m, b, 3);
    const { grads } = tf.variableGrads(loss, p.trainable());
    const gradOf = new Map(p.names().map((n) => [n, grads[p.get(n).name]!.dataSync()]));
    const itemWidth = p.get('emb.item').shape[1]!;
    const probes: [string, number][] = [...k.probes, ['emb.item', b.itemIdx[b.seqLen - 1]! * itemWidth + 1]];
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
    assert.ok(checked >= probes.length - 3, `only ${checked} of ${probes.length} probes had a non-trivial gradient`);
    tf.dispose(Object.values(grads));
    m.dispose();
  });

  test(`${k.name}: no tensor leak across forward + backward + update`, () => {
    const m = initModel(k.config({ dropoutRate: 0.2 }), 6);
    const b = randomBatch(m.config, 9, 2, 8);
    const t = randomTargets(m.config, 10, 3);
    const opt = tf.train.sgd(0.1);
    const step = (seed: number) => {
      const { value, grads } = tf.variableGrads(() => {
        const q = lastPosition(m.encodeSequences(b, { training: true, seed }));
        return tf.sum(tf.matMul(q, m.encodeTargets(t), false, true)) as tf.Scalar;
      }, m.weights.trainable());
      opt.applyGradients(grads);
      value.dispose();
      tf.dispose(Object.values(grads));
    };
    const before = tf.memory().numTensors;
    const w0 = m.weights.get(k.weight).dataSync().slice();
    step(1);
    step(2);
    assert.equal(tf.memory().numTensors, before);
    assert.notDeepEqual(m.weights.get(k.weight).dataSync(), w0, 'the update changed the weights');
    opt.dispose();
    m.dispose();
  });

  test(`${k.name}: encodeSequencesAndTargets (one item-table lookup) equals the two encoders, values and gradients`, () => {
    const m = initModel(k.config({ dropoutRate: 0.2 }), 3);
    const { weights: p, config: c } = m;
    const b = randomBatch(c, 4, 3, 6);
    const t = randomTargets(c, 5, 7);
    const opts = { training: true, seed: 9 };
    const lossOf = (joint: boolean) => () => tf.tidy(() => {
      const { states: s, items } = joint ? m.encodeSequencesAndTargets(b, t, opts) : { states: m.encodeSequences(b, opts), items: m.encodeTargets(t) };
      return tf.sum(tf.matMul(tf.reshape(s, [-1, c.hiddenUnits]), items, false, true)) as tf.Scalar;
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
    m.dispose();
  });
}
