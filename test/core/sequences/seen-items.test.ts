// train_exclude_history's input: for every training positive, the items its user saw before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCutBatch } from '../../../core/sequences/cut-batch.ts';
import { cutSequences, historyItems } from '../../../core/sequences/cut.ts';
import { seenBeforePositives } from '../../../core/sequences/seen-items.ts';
import { tinyShard, tinyStore } from './tiny-shard.ts';

function rows(s: { ptr: Int32Array; items: Int32Array }): number[][] {
  return Array.from({ length: s.ptr.length - 1 }, (_, i) => [...s.items.subarray(s.ptr[i], s.ptr[i + 1])]);
}

test('seen items: the whole history before each positive, earlier windows included, the positive itself left out', () => {
  const shard = tinyShard();
  shard.item[12] = 2; // user 1 sees item 2 again: events 9..13 hold items 2, 3, 4, 2, 1
  const cuts = cutSequences('train', shard, 1, 'all'); // user 0: windows ending at events 1, 3; user 1: at 9, 11, 13
  const cb = buildCutBatch(cuts, shard, tinyStore(), 1, 'train');
  const seen = seenBeforePositives(cuts, shard, cb);
  let positives = 0;
  for (const x of cb.positives.isPositive) positives += x;
  assert.equal(seen.ptr.length, positives + 1, 'one row per positive');
  assert.deepEqual(rows(seen), [
    [], [1], // user 0, window of events 0..1: positives items 1, 2
    [1, 2], [1, 2, 3], // window of events 2..3: the earlier window's items count too
    [], // user 1, window of event 9 alone (no tokens): positive item 2
    [2], [2, 3], // events 10..11: positives items 3, 4
    [3, 4], [2, 3, 4], // events 12..13: item 2 again is its own positive, so left out; then item 1 after it
  ]);
  // The last positive of a cut saw exactly what ranking excludes for a target there (historyItems), but its own item.
  const last = rows(seen).at(-1)!;
  assert.deepEqual(last, [...historyItems(cuts, shard, cuts.count - 1)].filter((i) => i !== 1));
});

test('seen items: the rows follow a batch trimmed to its longest window (left padding of any length)', () => {
  const shard = tinyShard();
  const cuts = cutSequences('train', shard, 50, 'last'); // user 0: events 0..3; user 1: events 9..13
  const cb = buildCutBatch(cuts, shard, tinyStore(), 50, 'train');
  assert.deepEqual(rows(seenBeforePositives(cuts, shard, cb)), [
    [], [1], [1, 2], [1, 2, 3],
    [], [2], [2, 3], [2, 3, 4], [2, 3, 4, 5],
  ]);
  assert.throws(() => seenBeforePositives({ ...cuts, count: 1 }, shard, cb), /batch of 2 rows for 1 cuts/);
});
