// Arrow columns → row-major arrays with the features stage's defaults for missing values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flat, makeTable } from '../../../core/artifacts/arrow-io.ts';
import { arrayMatrix, longestList, sparseMatrix } from '../../../core/sequences/columns.ts';
import { buildFeatureSchema, clampArrayLen, MAX_ARRAY_LEN } from '../../../core/sequences/feature-schema.ts';
import type { FeaturesManifest, IngestManifest } from '../../../core/artifacts/artifacts.ts';

const table = makeTable({
  f103: flat(Int32Array.from([2, 0, 5])),
  f104: flat(Int32Array.from([0, 1, 1])),
  f106: { kind: 'list', offsets: Int32Array.from([0, 3, 3, 4]), values: Int32Array.from([4, 5, 6, 7]) },
});

test('sparse: 0 (missing) becomes the most-frequent default; a no-profile row takes every default', () => {
  const out = sparseMatrix(table, ['103', '104'], { '103': 9, '104': 1 }, Uint8Array.from([0, 0, 1]));
  assert.deepEqual([...out], [2, 1, 9, 1, 9, 1]);
  assert.deepEqual([...sparseMatrix(table, ['103'], {})], [2, 0, 5], 'no default: 0 stays missing');
});

test('arrays: the first L values, 0-padded; empty lists (the [0] default) are all padding', () => {
  assert.deepEqual([...arrayMatrix(table, ['106'], 2)], [4, 5, 0, 0, 7, 0]);
  assert.deepEqual([...arrayMatrix(table, ['106'], 2, Uint8Array.from([1, 0, 0]))], [0, 0, 0, 0, 7, 0]);
  assert.equal(longestList(table, ['106']), 3);
  assert.equal(clampArrayLen(0), 1);
  assert.equal(clampArrayLen(1000), MAX_ARRAY_LEN);
});

test('schema: fids from the ingest layout, vocab from the features manifest, 205 continuous, dynamic split by vocab', () => {
  const ingest = { items: 3, events: 5, features: { user_sparse: ['103'], user_array: ['106'], item_sparse: ['100'], item_array: [], item_continuous: [], mm: { '82': 8, '81': 4 } } } as unknown as IngestManifest;
  const features = {
    items: 3, events: 5, vocab: { '103': 10, '106': 8, '100': 6 }, defaults: {},
    time_vocab: { '202': 25, '201': 8, '204': 35 }, dynamic: ['dyn_log_exposures', 'dyn_hot'], dynamic_vocab: { dyn_hot: 2 },
  } as unknown as FeaturesManifest;
  const s = buildFeatureSchema({ ingest, features }, 4);
  assert.deepEqual(s.timeDiscrete.map((f) => f.fid), ['201', '202', '204']);
  assert.deepEqual(s.timeContinuous, ['205']);
  assert.deepEqual(s.itemMultimodal, [{ fid: '81', dim: 4 }, { fid: '82', dim: 8 }]);
  assert.deepEqual(s.dynamicDiscrete, [{ fid: 'dyn_hot', vocab: 2 }]);
  assert.deepEqual(s.dynamicContinuous, ['dyn_log_exposures']);
  assert.deepEqual(s.userSparse, [{ fid: '103', vocab: 10 }]);
  assert.equal(s.arrayLen, 4);
  const broken = { ...features, vocab: {} } as unknown as FeaturesManifest;
  assert.throws(() => buildFeatureSchema({ ingest, features: broken }, 4), /no vocab size for feature 103/);
});
