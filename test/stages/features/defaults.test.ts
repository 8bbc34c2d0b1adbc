import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureCounters, ValueCounter, defaultFor } from '../../../stages/features/defaults.ts';

test('the default is the most frequent non-zero value, not 0, even when 0 is the commonest', () => {
  const c = new ValueCounter();
  c.addFlat(new Int32Array([0, 0, 0, 0, 5, 5, 3, 3, 3, 7]));
  const s = c.summarize('item_sparse');
  assert.equal(s.default, 3);
  assert.deepEqual(s.top3, [[3, 3], [5, 2], [7, 1]]);
  assert.equal(s.coverage, 0.6);
  assert.equal(s.observedVocab, 8);
});

test('ties go to the smaller value; counts accumulate across shards; `from` skips the padding row', () => {
  const c = new ValueCounter();
  c.addFlat(new Int32Array([9, 4, 4]), 1); // row 0 (the 9) is skipped
  c.addFlat(new Int32Array([2, 2, 9]));
  const s = c.summarize('user_sparse');
  assert.deepEqual(s.top3, [[2, 2], [4, 2], [9, 1]]);
  assert.equal(s.default, 2);
  assert.equal(s.coverage, 1);
});

test('arrays default to [0], multimodal and continuous to 0; coverage counts rows with any value', () => {
  const c = new ValueCounter();
  c.addLists(new Int32Array([0, 2, 2, 3, 5]), new Int32Array([6, 6, 0, 8, 6]));
  const s = c.summarize('user_array');
  assert.deepEqual(s.default, [0]);
  assert.deepEqual(s.top3, [[6, 3], [8, 1]]);
  assert.equal(s.coverage, 0.5); // rows: [6,6] present, [] empty, [0] missing, [8,6] present
  const mm = new ValueCounter();
  mm.addPresence(new Int8Array([1, 0, 1, 1]));
  assert.deepEqual(mm.summarize('mm'), { kind: 'mm', default: 0, top3: [], observedVocab: 0, coverage: 0.75 });
  assert.equal(defaultFor('item_continuous', []), 0);
});

test('a feature that is never present defaults to 0 with coverage 0', () => {
  const c = new ValueCounter();
  c.addFlat(new Int32Array(4));
  assert.deepEqual(c.summarize('item_sparse'), { kind: 'item_sparse', default: 0, top3: [], observedVocab: 0, coverage: 0 });
});

test('values far above the initial capacity are counted', () => {
  const c = new ValueCounter();
  c.addFlat(new Int32Array([100_000, 100_000, 17]));
  assert.deepEqual(c.summarize('item_sparse').top3, [[100_000, 2], [17, 1]]);
});

test('FeatureCounters keeps one counter per fid and summarises in ascending fid order', () => {
  const fc = new FeatureCounters();
  fc.counter('212', 'time').addFlat(new Int8Array([2, 1, 1]));
  fc.counter('81', 'mm').addPresence(new Int8Array([1, 0]));
  fc.counter('212', 'time').addFlat(new Int8Array([2, 2]));
  const s = fc.summaries();
  assert.deepEqual([...s.keys()], ['81', '212']);
  assert.equal(s.get('212')!.default, 2); // 3 × 2 against 2 × 1 across both calls
  assert.equal(s.get('81')!.coverage, 0.5);
});
