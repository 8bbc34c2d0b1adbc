import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogueRows } from '../../../stages/ingest/catalogue-rows.ts';
import { featureCode, featureCodes, predictRules } from '../../../stages/ingest/predict-rules.ts';
import { LineError, parseLine, type RecordLimits } from '../../../stages/ingest/records.ts';

const limits: RecordLimits = { userCount: 10, itemCount: 20, vocab: new Map([['100', 6], ['103', 6], ['106', 6], ['109', 6]]) };
const userRawIds = ['', 'user_00000001', 'user_00000002'];
const layout = { sparse: ['103'], array: ['106'] };

function parse(value: unknown, rows = new CatalogueRows(20, new Map([[1002, 2]]))) {
  return parseLine(value, predictRules(limits, userRawIds, layout, rows));
}

test('featureCode: ints inside the vocabulary pass, strings and unseen ids become 0', () => {
  assert.equal(featureCode(3, 6), 3);
  assert.equal(featureCode(6, 6), 0);
  assert.equal(featureCode('1180000457', 6), 0);
  assert.equal(featureCode(0, 6), 0);
  assert.equal(featureCode(2.5, 6), 0);
  assert.deepEqual(featureCodes([4, 'q', 1, 9], 6), [4, 0, 1, 0], 'a list keeps its positions');
  assert.deepEqual(featureCodes(3, 6), [3], 'a scalar is a one-value list');
  assert.deepEqual(featureCodes(null, 6), []);
});

test('a predict_seq line: string user id, raw creative ids, string feature values, profile record anywhere', () => {
  const rows = new CatalogueRows(20, new Map([[1002, 2]]));
  const p = parse([
    ['user_00000042', null, { '103': 'x9', '106': [3, 'y'], '109': 2 }, null, null, 50],
    ['user_00000042', 7, null, { '100': 2, '118': '1180000457' }, 0, 10],
    ['user_00000042', 23121332822, null, { '100': 4 }, 1, 20],
    ['user_00000042', 1002, null, null, 0, 30],
  ], rows);
  assert.equal(p.user, 'user_00000042');
  assert.deepEqual([...p.items], [7, 21, 2], 'a re-id, a cold creative (first row past the catalogue), a creative the indexer knows');
  assert.deepEqual([...p.actions], [0, 1, 0]);
  assert.deepEqual([...p.ts], [10, 20, 30]);
  assert.deepEqual([...p.profile!], [['103', 0], ['106', [3, 0]]], 'coded in the training layout; 109 is not a user feature there');
  assert.deepEqual(rows.cold, [{ creativeId: 23121332822, features: { '100': 4 } }]);
  assert.equal(parse([[2, 1, null, null, 0, 5]]).user, 'user_00000002', 'a re-id names its raw id through the indexer');
  assert.equal(parse([[9, 1, null, null, 0, 5]]).user, '9', 'a re-id the indexer lacks stays as written');
  assert.equal(parse([[5, null, {}, null, null, 1], [5, 1, null, null, 0, 1]]).profile, null, 'an empty profile is none');
  assert.deepEqual([...parse([[5, null, { '999': 1 }, null, null, 1]]).profile!], [], 'a profile of unknown features is still a profile (has_profile)');
});

test('malformed predict lines are refused naming the record, as in seq.jsonl', () => {
  const refuses = (value: unknown, message: RegExp): void => {
    assert.throws(() => parse(value), (e: unknown) => e instanceof LineError && message.test(e.message));
  };
  refuses({}, /JSON array of records/);
  refuses([[1, 2, null, null, 0]], /record\[0\]: expected 6 fields/);
  refuses([[1, 2, null, null, 0, 1], [2, 3, null, null, 0, 1]], /record\[1\]: user_id 2 differs from the line's user_id "user_00000001"/);
  refuses([[1.5, 2, null, null, 0, 1]], /record\[0\]: user_id must be an int or a string, got 1\.5/);
  refuses([[1, 'abc', null, null, 0, 1]], /record\[0\]: item_id must be an item re-id or a raw creative id \(an int >= 1\), got "abc"/);
  refuses([[1, 2, null, null, 5, 1]], /action_type must be 0, 1 or 2/);
  refuses([[1, 2, null, null, 0, 9], [1, 3, null, null, 0, 8]], /record\[1\]: timestamp 8 is before the previous item record's 9/);
  refuses([[1, 2, null, 'x', 0, 1]], /record\[0\]: item_feature must be an object or null/);
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
