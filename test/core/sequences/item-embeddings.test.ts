import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildModelConfig, type FeatureSchema } from '../../../core/model/config.ts';
import { initModel } from '../../../core/model/sequence-model.ts';
import { ItemStore } from '../../../core/sequences/item-store.ts';
import { allRows, clampColdIds, embedItems } from '../../../core/sequences/item-embeddings.ts';

const SCHEMA: FeatureSchema = {
  userSparse: [], userArray: [], userContinuous: [],
  itemSparse: [{ fid: '100', vocab: 6 }], itemArray: [], itemContinuous: [],
  itemMultimodal: [{ fid: '81', dim: 2 }],
  timeDiscrete: [{ fid: '201', vocab: 8 }], timeContinuous: ['205'],
  dynamicDiscrete: [{ fid: 'dyn_hot', vocab: 2 }], dynamicContinuous: ['dyn_ctr'],
  arrayLen: 1,
};

/** Items 1..4 plus one cold row (5) that shares item 2's features. */
function store(): ItemStore {
  return new ItemStore({
    schema: SCHEMA, rows: 6, itemId: Float64Array.from([0, 11, 12, 13, 14, 99]),
    itemSparse: Int32Array.from([1, 1, 2, 3, 4, 2]), itemArray: new Int32Array(0), itemContinuous: new Float32Array(0),
    itemMultimodal: [Float32Array.from([0, 0, 1, 0, 0, 1, 1, 1, 0.5, 0.5, 0, 1])],
    dynamicDiscrete: Int32Array.from([0, 0, 1, 0, 1, 1]), dynamicContinuous: Float32Array.from([0, 0.1, 0.2, 0.3, 0.4, 0.2]),
  });
}

test('clampColdIds maps rows past the vocabulary to 0', () => {
  const idx = Int32Array.from([0, 3, 5, 6, 9]);
  clampColdIds(idx, 5);
  assert.deepEqual([...idx], [0, 3, 0, 0, 0]);
});

test('embedItems: chunking does not change embeddings; a cold row is its features with id 0', async () => {
  await tf.setBackend('cpu');
  const p = { model_type: 'hstu', sasrec_features: false, maxlen: 4, hidden_units: 8, num_blocks: 1, num_heads: 2, linear_dim: 4, attention_dim: 4, dropout_rate: 0, use_rope: false, rope_theta: 10000, rope_partial_dim: 0, attn_norm: 'padded', load_time_intervals: true, tower_init: 'trunc_normal' } as const;
  const c = buildModelConfig(p, SCHEMA, 5); // ids 0..4: row 5 is cold
  const model = initModel(c, 3);
  const s = store();
  const before = tf.memory().numTensors;
  const whole = embedItems(model, (r) => s.targetItems(r), allRows(6), 64);
  const chunked = embedItems(model, (r) => s.targetItems(r), allRows(6), 2);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
  assert.equal(whole.length, 6 * 8);
  for (let j = 0; j < whole.length; j++) assert.ok(Math.abs(whole[j]! - chunked[j]!) < 1e-6);
  // Row 5 = item 2's features under id 0: the same as item 2 embedded with its id replaced by 0.
  const t = s.targetItems(Int32Array.from([2]));
  t.itemIdx[0] = 0;
  const asCold = embedItems(model, () => t, Int32Array.from([2]), 1);
  const item2 = whole.subarray(2 * 8, 3 * 8);
  const cold = whole.subarray(5 * 8, 6 * 8);
  for (let d = 0; d < 8; d++) assert.ok(Math.abs(cold[d]! - asCold[d]!) < 1e-6);
  assert.ok(item2.some((v, d) => Math.abs(v - cold[d]!) > 1e-4), 'the id embedding matters');
  model.dispose();
});
