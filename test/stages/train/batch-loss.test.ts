// Which items the loss contrasts each positive row with (stages/train/batch-loss.ts, SPEC §6): the
// step's sampled negatives + the in-batch positives + the memory bank, accidental hits masked. This
// pins today's composition, row by row, so a change to it (e.g. a popularity correction, or dropping
// a bank) shows up here as a deliberate edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { negativeBanks } from '../../../stages/train/batch-loss.ts';
import { SampledNegatives } from '../../../core/train/sampled-softmax.ts';
import { type InfoNceParams, streamedInfoNce } from '../../../core/train/infonce.ts';
import { Rng } from '../../../core/random/rng.ts';

await tf.setBackend('cpu');

const D = 4;
const PARAMS: InfoNceParams = { temperature: 0.5, margin_click: 0.1, margin_conv: 0.2, chunk: 2 };

/** Unit-length rows from a seeded stream. */
function unitRows(rng: Rng, n: number): tf.Tensor2D {
  const x = tf.tensor2d(Float32Array.from({ length: n * D }, () => rng.normal()), [n, D]);
  return tf.div(x, tf.norm(x, 2, 1, true)) as tf.Tensor2D;
}

// Three positive rows: items 3, 5, 3 (a repeat); two sampled negatives 5, 7; one memory step 3, 9.
const positiveIds = Int32Array.from([3, 5, 3]);
const sampledIds = Int32Array.from([5, 7]);
const memoryIds = Int32Array.from([3, 9]);
const actions = [0, 1, 2];
const weights = Float32Array.from([1, 2, 0.5]);

/**
 * Today's negatives of each row, as (bank, row in bank): the row's own positive and every other
 * occurrence of its id are masked; everything else counts once per occurrence.
 *   row 0 (item 3): sampled 5, 7 · in-batch row 1 (item 5) · memory 9
 *   row 1 (item 5): sampled 7   · in-batch rows 0, 2 (item 3, twice) · memory 3, 9
 *   row 2 (item 3): as row 0
 */
const EXPECTED: [bank: 'sampled' | 'inBatch' | 'memory', index: number][][] = [
  [['sampled', 0], ['sampled', 1], ['inBatch', 1], ['memory', 1]],
  [['sampled', 1], ['inBatch', 0], ['inBatch', 2], ['memory', 0], ['memory', 1]],
  [['sampled', 0], ['sampled', 1], ['inBatch', 1], ['memory', 1]],
];

test('negative banks: sampled (trainable), in-batch positives (trainable), then memory (detached), in that order', () => {
  tf.tidy(() => {
    const rng = new Rng(1);
    const [sampled, positive, memory] = [unitRows(rng, 2), unitRows(rng, 3), unitRows(rng, 2)];
    const banks = negativeBanks(sampled, sampledIds, positive, positiveIds, [{ emb: memory, ids: memoryIds, detached: true }]);
    assert.deepEqual(banks.map((b) => [[...b.ids], b.detached]), [[[5, 7], false], [[3, 5, 3], false], [[3, 9], true]]);
    assert.equal(banks[0]!.emb, sampled);
    assert.equal(banks[1]!.emb, positive, 'the in-batch bank is the positives themselves, not a copy');
    const none = negativeBanks(sampled, new Int32Array(0), positive, positiveIds, []);
    assert.deepEqual(none.map((b) => [...b.ids]), [[3, 5, 3]], 'num_negatives 0: in-batch positives only');
    const all = negativeBanks(sampled, sampledIds, positive, positiveIds, [{ emb: memory, ids: memoryIds, detached: true }], 'all_items');
    assert.deepEqual(all.map((b) => [[...b.ids], b.detached]), [[[5, 7], false]], 'all_items: the catalogue bank alone, no in-batch or memory copies');
    assert.equal(all[0]!.emb, sampled);
    const sm = negativeBanks(sampled, sampledIds, positive, positiveIds, [{ emb: memory, ids: memoryIds, detached: true }], 'sampled', Float32Array.from([0.5, -1]));
    assert.deepEqual(sm.map((b) => [[...b.ids], b.detached, [...b.logQ!]]), [[[5, 7], false, [0.5, -1]]], 'sampled: the columns bank alone, with its correction');
    assert.throws(() => negativeBanks(sampled, sampledIds, positive, positiveIds, [], 'sampled'), /logQ correction/);
  });
});

test('the loss contrasts each row with exactly its expected negatives (value and gradients)', () => {
  const rng = new Rng(2);
  const [query, sampled, positive, memory] = [unitRows(rng, 3), unitRows(rng, 2), unitRows(rng, 3), unitRows(rng, 2)];
  const margins = actions.map((a) => [0, PARAMS.margin_click, PARAMS.margin_conv][a]!);
  const streamed = (q: tf.Tensor, s: tf.Tensor, p: tf.Tensor): tf.Scalar => {
    const banks = negativeBanks(s as tf.Tensor2D, sampledIds, p as tf.Tensor2D, positiveIds, [{ emb: memory, ids: memoryIds, detached: true }]);
    return streamedInfoNce({ query: q as tf.Tensor2D, positive: p as tf.Tensor2D, positiveIds, positiveActions: actions, weights, banks }, PARAMS);
  };
  /** The same loss written out row by row from EXPECTED: Σ w·(log(e^{s⁺} + Σ e^{s⁻}) − s⁺) / Σ w. */
  const explicitWith = (expected: typeof EXPECTED) => (q: tf.Tensor, s: tf.Tensor, p: tf.Tensor): tf.Scalar => {
    const bankOf = { sampled: s, inBatch: p, memory } as const;
    const rows = expected.map((negs, i) => {
      const qi = tf.slice(q, [i, 0], [1, D]);
      const sPos = tf.div(tf.sub(tf.sum(tf.mul(qi, tf.slice(p, [i, 0], [1, D]))), margins[i]!), PARAMS.temperature);
      const sNeg = negs.map(([bank, j]) => tf.div(tf.sum(tf.mul(qi, tf.slice(bankOf[bank], [j, 0], [1, D]))), PARAMS.temperature));
      return tf.mul(tf.sub(tf.logSumExp(tf.stack([sPos, ...sNeg])), sPos), weights[i]!);
    });
    return tf.div(tf.addN(rows), weights.reduce((a, b) => a + b, 0)) as tf.Scalar;
  };
  const [a, b] = [streamed, explicitWith(EXPECTED)].map((f) => tf.valueAndGrads(f as (...x: tf.Tensor[]) => tf.Scalar)([query, sampled, positive]));
  assert.ok(Math.abs(a!.value.dataSync()[0]! - b!.value.dataSync()[0]!) < 1e-5, `loss ${a!.value.dataSync()[0]} vs explicit ${b!.value.dataSync()[0]}`);
  ['query', 'sampled negatives', 'positives (incl. their in-batch role)'].forEach((what, k) => {
    const d = tf.max(tf.abs(tf.sub(a!.grads[k]!, b!.grads[k]!))).dataSync()[0]!;
    assert.ok(d < 1e-5, `gradient w.r.t. the ${what} differs by ${d}`);
  });
  // Dropping any one expected negative changes the loss: none of them is masked away by accident.
  EXPECTED.forEach((negs, i) => negs.forEach((_, j) => {
    const without = EXPECTED.map((n, r) => (r === i ? n.filter((__, k) => k !== j) : n));
    const v = tf.tidy(() => explicitWith(without)(query, sampled, positive).dataSync()[0]!);
    assert.ok(Math.abs(v - a!.value.dataSync()[0]!) > 1e-4, `row ${i} really contrasts with its negative ${j}`);
  }));
  tf.dispose([a!.value, b!.value, ...a!.grads, ...b!.grads, query, sampled, positive, memory]);
});

test('sampled: one column per distinct item (logQ − log count) is the loss of every draw and in-batch copy counted apart', () => {
  // positives 3, 5, 3, 8 (item 3 twice); draws 7, 5, 7, 2: items 5 and 7 appear in both or twice
  const proposal = new SampledNegatives(Float64Array.from([0, 0, 1, 4, 0, 2, 0, 0, 3, 0])); // items 1..9
  const posIds = Int32Array.from([3, 5, 3, 8]);
  const draws = Int32Array.from([7, 5, 7, 2]);
  const cols = proposal.columns(posIds, draws);
  assert.deepEqual([...cols.ids], [3, 5, 8, 7, 2], 'distinct items, first appearance order');
  assert.deepEqual([...cols.positiveColumn], [0, 1, 0, 2]);
  const expected = [3, 5, 8, 7, 2].map((id, k) => Math.log(4 * [0, 0, 1, 4, 0, 2, 0, 0, 3, 0][id]! / 10 + 4 / 9) - Math.log([2, 2, 1, 2, 1][k]!));
  assert.deepEqual([...cols.logQ].map((x) => x.toFixed(5)), expected.map((x) => x.toFixed(5)));
  const rng = new Rng(4);
  const table = unitRows(rng, 10); // row = item id
  const query = unitRows(rng, 4);
  const rows = (ids: Int32Array): tf.Tensor2D => tf.gather(table, ids) as tf.Tensor2D;
  const base = { positiveIds: posIds, positiveActions: [1, 0, 2, 1], weights: Float32Array.from([1, 0.5, 2, 1]) };
  const apart = (q: tf.Tensor): tf.Scalar => streamedInfoNce({ ...base, query: q as tf.Tensor2D, positive: rows(posIds), banks: [
    { emb: rows(draws), ids: draws, detached: false, logQ: proposal.logQ(draws, 4, 4) },
    { emb: rows(posIds), ids: posIds, detached: false, logQ: proposal.logQ(posIds, 4, 4) },
  ] }, PARAMS);
  const merged = (q: tf.Tensor): tf.Scalar => streamedInfoNce({ ...base, query: q as tf.Tensor2D, positive: tf.gather(rows(cols.ids), cols.positiveColumn) as tf.Tensor2D,
    banks: negativeBanks(rows(cols.ids), cols.ids, rows(posIds), posIds, [], 'sampled', cols.logQ) }, PARAMS);
  const a = tf.valueAndGrad(apart)(query);
  const m = tf.valueAndGrad(merged)(query);
  assert.ok(Math.abs(a.value.dataSync()[0]! - m.value.dataSync()[0]!) < 1e-5, `loss ${a.value.dataSync()[0]} vs ${m.value.dataSync()[0]}`);
  const d = tf.max(tf.abs(tf.sub(a.grad, m.grad))).dataSync()[0]!;
  assert.ok(d < 1e-5, `query gradients differ by ${d}`);
});
