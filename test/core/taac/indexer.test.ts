// readIndexer on tiny pickles: counts and raw ids of a dense indexer, and a corrupt max re-id (2^31 once
// ran the heap out sizing the raw-id arrays) refused with the file and the key named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PyDefaultDict, PyDict, type PickleValue } from '../../../core/taac/pickle/values.ts';
import { writePickle } from '../../../core/taac/pickle/write.ts';
import { readIndexer } from '../../../core/taac/indexer.ts';

type Entries = [PickleValue, PickleValue][];

/** indexer.pkl with users u1..u3 → 1..3, creatives 101..102 → 1..2, feature 100 values → 1..2, with `patch` applied. */
function writeIndexer(patch: { u?: Entries; i?: Entries; f100?: Entries } = {}): string {
  const f = new PyDefaultDict('dict');
  f.set('100', new PyDict(patch.f100 ?? [[7, 1], [8, 2]]));
  const i = new PyDict(patch.i ?? [[101, 1], [102, 2]]);
  const u = new PyDict(patch.u ?? [['u1', 1], ['u2', 2], ['u3', 3]]);
  const file = join(mkdtempSync(join(tmpdir(), 'indexer-test-')), 'indexer.pkl');
  writeFileSync(file, writePickle(new PyDict([['f', f], ['i', i], ['u', u], ['a', new PyDict([[0, 1]])]]), { protocol: 4 }));
  return file;
}

test('a dense indexer gives counts, raw ids by re-id and vocab sizes', () => {
  const x = readIndexer(writeIndexer({ u: [['u2', 2], ['u1', 1], ['u3', 3]] }));
  assert.equal(x.userCount, 3);
  assert.deepEqual(x.userRawIds, ['', 'u1', 'u2', 'u3']);
  assert.equal(x.itemCount, 2);
  assert.deepEqual([...x.itemRawIds], [0, 101, 102]);
  assert.equal(x.itemIdxByCid.get(102), 2);
  assert.deepEqual([...x.vocab], [['100', 3]]);
});

const past: [string, Parameters<typeof writeIndexer>[0], RegExp][] = [
  ["'u'", { u: [['u1', 1], ['u2', 2 ** 31]] }, /indexer\.pkl: 'u': max re-id 2147483648 is larger than the dict's 2 entries/],
  ["'i'", { i: [[101, 1], [102, 2 ** 31]] }, /indexer\.pkl: 'i': max re-id 2147483648 is larger than the dict's 2 entries/],
  ["'i' (a gap of one)", { i: [[101, 1], [102, 3]] }, /'i': max re-id 3 is larger than the dict's 2 entries/],
  ["'f'", { f100: [[7, 1], [8, 2 ** 31]] }, /indexer\.pkl: 'f'\[100\]: max re-id 2147483648 is larger than the dict's 2 entries/],
];
for (const [key, patch, message] of past) {
  test(`a max re-id past the entry count of ${key} is refused, naming the file and the key`, () => {
    assert.throws(() => readIndexer(writeIndexer(patch)), (e: Error) => e.name === 'UserError' && message.test(e.message) && !e.message.includes('\n'));
  });
}
