import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FeatureSchema } from '../../../core/model/config.ts';
import { ItemStore } from '../../../core/sequences/item-store.ts';
import { loadCalendar } from '../../../core/time/calendar.ts';
import { computeTimeFeatures } from '../../../core/time/time-features.ts';
import { CatalogueRows, buildPredictShard, coldDynamicRow, extendItemStore, featureCode, predictCuts } from '../../../stages/evaluate/predict-shard.ts';
import type { PredictUser } from '../../../stages/evaluate/predict-files.ts';

const SCHEMA: FeatureSchema = {
  userSparse: [{ fid: '103', vocab: 4 }],
  userArray: [{ fid: '106', vocab: 5 }],
  userContinuous: [],
  itemSparse: [{ fid: '100', vocab: 6 }],
  itemArray: [],
  itemContinuous: [],
  itemMultimodal: [{ fid: '81', dim: 2 }],
  timeDiscrete: [{ fid: '201', vocab: 8 }, { fid: '204', vocab: 35 }, { fid: '206', vocab: 35 }],
  timeContinuous: ['205'],
  dynamicDiscrete: [{ fid: 'dyn_hot', vocab: 2 }],
  dynamicContinuous: ['dyn_log_exposures', 'dyn_ctr'],
  arrayLen: 2,
};
const DEFAULTS = { '100': 4, '103': 2, '106': [0] };

/** Items 1..3 (raw creative ids 1001..1003); item 2 was never seen in training (log exposures 0). */
function store(): ItemStore {
  return new ItemStore({
    schema: SCHEMA, rows: 4, itemId: Float64Array.from([0, 1001, 1002, 1003]),
    itemSparse: Int32Array.from([4, 1, 2, 3]), itemArray: new Int32Array(0), itemContinuous: new Float32Array(0),
    itemMultimodal: [Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3])],
    dynamicDiscrete: Int32Array.from([0, 1, 0, 1]), dynamicContinuous: Float32Array.from([0, 0, 1.5, 0.3, 0, 0.1, 2, 0.2]),
  });
}

test('featureCode: ints inside the vocabulary pass, strings and unseen ids become 0', () => {
  assert.equal(featureCode(3, 6), 3);
  assert.equal(featureCode(6, 6), 0);
  assert.equal(featureCode('1180000457', 6), 0);
  assert.equal(featureCode(0, 6), 0);
  assert.equal(featureCode(2.5, 6), 0);
});

test('CatalogueRows: re-ids and known creatives keep their rows; each cold creative gets one row past the catalogue', () => {
  const rows = new CatalogueRows(3, new Map([[1002, 2]]));
  assert.equal(rows.ofCell(3, null), 3);
  assert.equal(rows.ofCell(1002, null), 2, 'a raw id the indexer maps');
  assert.equal(rows.ofCreative(5000, { '100': 5 }), 4);
  assert.equal(rows.ofCell(6000, null), 5);
  assert.equal(rows.ofCell(5000, { '100': 1 }), 4, 'same creative, same row; first features win');
  assert.deepEqual(rows.cold, [{ creativeId: 5000, features: { '100': 5 } }, { creativeId: 6000, features: {} }]);
});

test('extendItemStore: cold rows carry their own features (strings → default), zero vectors, an unseen item\'s dynamics', () => {
  const base = store();
  assert.equal(coldDynamicRow(base), 2);
  const ext = extendItemStore(base, [{ creativeId: 5000, features: { '100': 5 } }, { creativeId: 6000, features: { '100': 'x' } }], DEFAULTS);
  assert.equal(ext.rows, 6);
  assert.deepEqual([...ext.itemId], [0, 1001, 1002, 1003, 5000, 6000]);
  assert.deepEqual([...ext.itemSparse], [4, 1, 2, 3, 5, 4]);
  assert.deepEqual([...ext.itemMultimodal[0]!.subarray(8)], [0, 0, 0, 0]);
  assert.deepEqual([...ext.dynamicContinuous.subarray(8)], [0, Math.fround(0.1), 0, Math.fround(0.1)]);
  assert.deepEqual([...ext.dynamicDiscrete.subarray(4)], [0, 0]);
  const t = ext.targetItems(Int32Array.from([4, 1]));
  assert.deepEqual([...t.itemSparse], [5, 1]);
});

test('buildPredictShard + predictCuts: events, user features with defaults, stored time codes, whole-history cuts', () => {
  const users: PredictUser[] = [
    { userCell: 'user_1', itemCells: [1, 9999, 3], itemFeatures: [null, { '100': 2 }, null], actions: [0, 1, 0], ts: [1_745_800_000, 1_745_800_600, 1_745_900_000], profile: { '103': 3, '106': [4, 'q', 1] } },
    { userCell: 7, itemCells: [], itemFeatures: [], actions: [], ts: [], profile: null },
    { userCell: 8, itemCells: [2, 3, 1, 2], itemFeatures: [null, null, null, null], actions: [0, 0, 2, 0], ts: [1, 2, 3, 4], profile: { '103': 'new' } },
  ];
  const rows = new CatalogueRows(3, new Map());
  const calendar = loadCalendar();
  const shard = buildPredictShard(users, rows, SCHEMA, DEFAULTS, calendar, (cell) => `id:${cell}`);
  assert.deepEqual(shard.userId, ['id:user_1', 'id:7', 'id:8']);
  assert.deepEqual([...shard.item], [1, 4, 3, 2, 3, 1, 2]);
  assert.deepEqual([...shard.eventStart], [0, 3, 3]);
  assert.deepEqual([...shard.eventEnd], [3, 3, 7]);
  assert.deepEqual([...shard.hasProfile], [1, 0, 1]);
  assert.deepEqual([...shard.userSparse], [3, 2, 2], 'no profile and a string value both take the default');
  assert.deepEqual([...shard.userArray], [4, 0, 0, 0, 0, 0], 'first arrayLen values, strings → 0');
  const ref = computeTimeFeatures(Int32Array.from([0, 0, 0, 2, 2, 2, 2]), shard.ts, calendar).columns;
  for (let e = 0; e < 7; e++) {
    assert.equal(shard.time[e * 3], ref['201'][e]);
    assert.equal(shard.time[e * 3 + 1], 0, '204 is per cut');
    assert.equal(shard.time[e * 3 + 2], ref['206'][e]);
  }
  const cuts = predictCuts(shard, 2);
  assert.deepEqual([...cuts.historyStart], [0, 3, 3]);
  assert.deepEqual([...cuts.historyEnd], [3, 3, 7]);
  assert.deepEqual([...cuts.windowStart], [1, 3, 5], 'the last maxlen records become tokens');
});
