import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureItemTablePath, itemTablePath } from '../../../core/artifacts/artifacts.ts';
import { flat, makeTable, writeArrowFile } from '../../../core/artifacts/arrow-io.ts';
import type { FeatureSchema } from '../../../core/model/config.ts';
import { ItemStore } from '../../../core/sequences/item-store.ts';

const SCHEMA: FeatureSchema = {
  userSparse: [], userArray: [], userContinuous: [],
  itemSparse: [{ fid: '100', vocab: 6 }],
  itemArray: [{ fid: '101', vocab: 6 }],
  itemContinuous: [],
  itemMultimodal: [{ fid: '81', dim: 2 }],
  timeDiscrete: [], timeContinuous: ['205'],
  dynamicDiscrete: [{ fid: 'dyn_hot', vocab: 2 }],
  dynamicContinuous: ['dyn_log_exposures', 'dyn_ctr'],
  arrayLen: 2,
};
const DEFAULTS = { '100': 4, '101': [0] };

/** Items 1..3 (raw creative ids 1001..1003). */
function store(): ItemStore {
  return new ItemStore({
    schema: SCHEMA, rows: 4, itemId: Float64Array.from([0, 1001, 1002, 1003]),
    itemSparse: Int32Array.from([4, 1, 2, 3]), itemArray: new Int32Array(8), itemContinuous: new Float32Array(0),
    itemMultimodal: [Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3])],
    dynamicDiscrete: Int32Array.from([0, 1, 0, 1]), dynamicContinuous: Float32Array.from([0, 0, 1.5, 0.3, 0, 0.1, 2, 0.2]),
  });
}

/** Item tables of two extra rows (item idx `first`, `first` + 1), as the predict folders hold cold creatives. */
function writeColdTables(dir: string, first: number): { ingest: string; features: string } {
  const d = { ingest: join(dir, 'ingest'), features: join(dir, 'features') };
  for (const sub of Object.values(d)) mkdirSync(join(sub, 'items'), { recursive: true });
  writeArrowFile(itemTablePath(d.ingest), makeTable({
    item: flat(Int32Array.from([first, first + 1])), item_id: flat(Float64Array.from([5000, 6000])),
    f100: flat(Int32Array.from([5, 0])), f101: { kind: 'list', offsets: Int32Array.from([0, 3, 3]), values: Int32Array.from([2, 0, 3]) },
  }));
  writeArrowFile(featureItemTablePath(d.features), makeTable({
    item: flat(Int32Array.from([first, first + 1])), dyn_hot: flat(Int32Array.from([0, 0])),
    dyn_log_exposures: flat(new Float32Array(2)), dyn_ctr: flat(Float32Array.from([0.1, 0.1])),
  }));
  return d;
}

test('withRows: the cold rows after the catalogue, with their features (missing → default), zero vectors, their dynamics', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'item-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const d = writeColdTables(dir, 4);
  const ext = store().withRows(d.ingest, d.features, 2, DEFAULTS);
  assert.equal(ext.rows, 6);
  assert.deepEqual([...ext.itemId], [0, 1001, 1002, 1003, 5000, 6000]);
  assert.deepEqual([...ext.itemSparse], [4, 1, 2, 3, 5, 4]);
  assert.deepEqual([...ext.itemArray.subarray(8)], [2, 0, 0, 0], 'the first arrayLen codes');
  assert.deepEqual([...ext.itemMultimodal[0]!.subarray(8)], [0, 0, 0, 0]);
  assert.deepEqual([...ext.dynamicContinuous.subarray(8)], [0, Math.fround(0.1), 0, Math.fround(0.1)]);
  assert.deepEqual([...ext.dynamicDiscrete.subarray(4)], [0, 0]);
  const targets = ext.targetItems(Int32Array.from([4, 1]));
  assert.deepEqual([...targets.itemSparse], [5, 1]);
});

test('withRows refuses tables whose rows are not the next item idx', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'item-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const d = writeColdTables(dir, 5);
  assert.throws(() => store().withRows(d.ingest, d.features, 2, DEFAULTS), /items\/part-00000\.arrow: row 0 holds item 5; rows must be item idx 4\.\.5 in order/);
  assert.throws(() => store().withRows(d.ingest, d.features, 3, DEFAULTS), /2 rows, expected 3 \(item idx 4\.\.6\)/);
});
