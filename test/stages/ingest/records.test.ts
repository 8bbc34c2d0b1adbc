import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineError, parseLine, seqRules, type FidsSeen, type RecordLimits } from '../../../stages/ingest/records.ts';

const limits: RecordLimits = { userCount: 10, itemCount: 20, vocab: new Map([['100', 6], ['103', 6], ['106', 6]]) };
const item = (i: unknown, a: unknown, t: unknown, feat: unknown = { '100': 1 }): unknown[] => [3, i, null, feat, a, t];
const profile = (feat: unknown, t = 5): unknown[] => [3, null, feat, null, null, t];
const parse = (v: unknown) => parseLine(v, seqRules(limits, { item: new Set() }));

test('item records become typed arrays; the profile record may be anywhere and its ts is ignored', () => {
  const seen: FidsSeen = { item: new Set() };
  const p = parseLine([item(4, 0, 100), profile({ '103': 2, '106': [1, 3] }, 999), item(7, 1, 100), item(2, 2, 150)], seqRules(limits, seen));
  assert.equal(p.user, 3);
  assert.deepEqual([...p.items], [4, 7, 2]);
  assert.deepEqual([...p.actions], [0, 1, 2]);
  assert.deepEqual([...p.ts], [100, 100, 150]);
  assert.deepEqual([...p.profile!], [['103', 2], ['106', [1, 3]]]);
  assert.deepEqual([...seen.item], ['100']);
});

test('a line may lack the profile record or carry null / {} user_feature', () => {
  assert.equal(parse([item(1, 0, 1)]).profile, null);
  assert.equal(parse([item(1, 0, 1), profile(null)]).profile, null);
  assert.equal(parse([profile({}), item(1, 0, 1)]).profile, null);
});

const bad: [string, unknown, RegExp][] = [
  ['not an array', { a: 1 }, /expected a JSON array of records/],
  ['empty array', [], /empty record list/],
  ['wrong arity', [[3, 1, null, {}, 0]], /record\[0\]: expected 6 fields/],
  ['string item id', [item('4', 0, 1)], /record\[0\]: item_id must be an int in 1\.\.20, got "4"/],
  ['float item id', [item(4.5, 0, 1)], /record\[0\]: item_id must be an int/],
  ['item id past itemCount', [item(21, 0, 1)], /record\[0\]: item_id must be an int in 1\.\.20, got 21/],
  ['negative timestamp', [item(1, 0, -5)], /record\[0\]: timestamp must be an int/],
  ['unknown action', [item(1, 7, 1)], /record\[0\]: action_type must be 0, 1 or 2, got 7/],
  ['decreasing timestamps', [item(1, 0, 10), item(2, 0, 9)], /record\[1\]: timestamp 9 is before the previous item record's 10/],
  ['negative feature value', [item(1, 0, 1, { '100': -1 })], /record\[0\]\.item_feature\["100"\] must be an int >= 0, got -1/],
  ['string feature value', [item(1, 0, 1, { '100': '2' })], /item_feature\["100"\] must be an int >= 0, got "2"/],
  ['feature value past vocab', [item(1, 0, 1, { '100': 6 })], /item_feature\["100"\] = 6 is past the indexer's vocab/],
  ['unknown feature id', [item(1, 0, 1, { '999': 1 })], /feature id "999" is not in indexer\.pkl 'f'/],
  ['mixed user ids', [item(1, 0, 1), [4, 2, null, null, 0, 2]], /record\[1\]: user_id 4 differs from the line's user_id 3/],
  ['float in a profile array', [profile({ '106': [1, 2.5] })], /record\[0\]\.user_feature\["106"\] must be an int >= 0, got 2\.5/],
  ['two profile records', [profile({}), profile({})], /record\[1\]: second user-profile record/],
];
for (const [name, value, message] of bad) {
  test(`rejects ${name}`, () => {
    assert.throws(() => parse(value), (e: unknown) => e instanceof LineError && message.test(e.message));
  });
}

test('a feature id with a newline or quote is quoted as JSON, so the error stays one line', () => {
  for (const fid of ['1\n2', '3\r', 'a"b']) {
    const value = { [fid]: 1 };
    for (const line of [[item(1, 0, 1, value)], [profile(value)]]) {
      assert.throws(
        () => parse(line),
        (e: unknown) => e instanceof LineError && !/[\n\r]/.test(e.message) && e.message.includes(`feature id ${JSON.stringify(fid)} is not in`),
      );
    }
  }
  const bad = { '1\n2': -1 };
  assert.throws(() => parse([item(1, 0, 1, bad)]), (e: unknown) => e instanceof LineError && e.message.includes('item_feature["1\\n2"] must be an int >= 0'));
});
