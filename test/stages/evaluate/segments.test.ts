import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HISTORY_SEGMENTATION, evaluateSegments, popularityHitRateTsv, popularitySegmentation, ranges, segmentOf, segmentTable,
} from '../../../stages/evaluate/segments.ts';

const ndcg = (r: number): number => 1 / Math.log2(r + 1);

test('popularity segments: cold, then one range up to each neg bucket bound, then above', () => {
  const s = popularitySegmentation([3, 9, 54, 100, 1000]);
  assert.deepEqual(s.names, ['cold', '1-3', '4-9', '10-54', '55-100', '101-1000', '>1000']);
  const cases: [number, string][] = [[0, 'cold'], [1, '1-3'], [3, '1-3'], [4, '4-9'], [9, '4-9'], [10, '10-54'], [100, '55-100'], [101, '101-1000'], [1000, '101-1000'], [1001, '>1000'], [1e6, '>1000']];
  for (const [count, name] of cases) assert.equal(s.names[segmentOf(s, count)], name, `${count} interactions`);
  // a bound of 0 or 1 leaves no empty range; a single-value range is named by its value
  assert.deepEqual(popularitySegmentation([0, 1, 5]).names, ['cold', '1', '2-5', '>5']);
  assert.deepEqual(popularitySegmentation([]).names, ['cold', '>0']);
  assert.throws(() => ranges([5, 3], 0), /ascending integers/);
  assert.throws(() => segmentOf(s, -1), /integer >= 0/);
});

test('history segments: <=10, 11-20, 21-50, >50 item records', () => {
  assert.deepEqual(HISTORY_SEGMENTATION.names, ['<=10', '11-20', '21-50', '>50']);
  assert.deepEqual([0, 10, 11, 20, 21, 50, 51, 99].map((n) => HISTORY_SEGMENTATION.names[segmentOf(HISTORY_SEGMENTATION, n)]),
    ['<=10', '<=10', '11-20', '11-20', '21-50', '21-50', '>50', '>50']);
});

test('segment table: HR@10 / NDCG@10 / count per segment from hand-made ranks; an empty segment is null', () => {
  // targets:   0   1   2   3   4
  const segment = [0, 0, 1, 1, 1];
  const model = Int32Array.from([1, 11, 3, 0, 10]); // 0 = not ranked
  const popularity = Int32Array.from([2, 2, 50, 7, 1]);
  const t = segmentTable(['a', 'b', 'c'], segment, model, popularity);
  assert.deepEqual(Object.keys(t), ['a', 'b', 'c']);
  assert.equal(t.a!.count, 2);
  assert.deepEqual(t.a!.model, { 'hr@10': 1 / 2, 'ndcg@10': ndcg(1) / 2 });
  assert.deepEqual(t.a!.popularity, { 'hr@10': 1, 'ndcg@10': (ndcg(2) + ndcg(2)) / 2 });
  assert.equal(t.b!.count, 3);
  assert.deepEqual(t.b!.model, { 'hr@10': 2 / 3, 'ndcg@10': (ndcg(3) + ndcg(10)) / 3 });
  assert.deepEqual(t.b!.popularity, { 'hr@10': 2 / 3, 'ndcg@10': (ndcg(7) + ndcg(1)) / 3 });
  assert.deepEqual(t.c, { count: 0, model: null, popularity: null });
  assert.throws(() => segmentTable(['a'], [0, 1], Int32Array.of(1, 1), Int32Array.of(1, 1)), /segment 1 is not one of 0\.\.0/);
  assert.throws(() => segmentTable(['a'], [0], Int32Array.of(1, 1), Int32Array.of(1, 1)), /1 segment indices, 2 model ranks/);
});

test('all three tables from per-target facts: item popularity, history length, action', () => {
  const facts = {
    itemInteractions: [0, 0, 2, 40, 5000, 7],
    historyLength: [5, 12, 60, 60, 30, 10],
    action: [1, 2, 1, 1, 2, 1],
  };
  const model = Int32Array.from([1, 30, 2, 4, 1, 11]);
  const popularity = Int32Array.from([400, 500, 9, 3, 1, 20]);
  const s = evaluateSegments(facts, model, popularity, [3, 9, 54, 100, 1000]);
  const counts = (t: Record<string, { count: number }>): Record<string, number> => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.count]));
  assert.deepEqual(counts(s.target_popularity), { cold: 2, '1-3': 1, '4-9': 1, '10-54': 1, '55-100': 0, '101-1000': 0, '>1000': 1 });
  assert.deepEqual(counts(s.history_length), { '<=10': 2, '11-20': 1, '21-50': 1, '>50': 2 });
  assert.deepEqual(counts(s.target_action), { click: 4, conversion: 2 }, 'no exposure targets: no exposure row');
  assert.deepEqual(s.target_popularity.cold!.model, { 'hr@10': 1 / 2, 'ndcg@10': ndcg(1) / 2 });
  assert.deepEqual(s.target_popularity.cold!.popularity, { 'hr@10': 0, 'ndcg@10': 0 }, 'popularity never ranks a cold item in its top 10 here');
  assert.deepEqual(s.target_action.conversion!.model, { 'hr@10': 1 / 2, 'ndcg@10': ndcg(1) / 2 });
  assert.deepEqual(s.history_length['>50']!.popularity, { 'hr@10': 1, 'ndcg@10': (ndcg(9) + ndcg(3)) / 2 });
  const withExposure = evaluateSegments({ ...facts, action: [0, 2, 1, 1, 2, 1] }, model, popularity, [3]);
  assert.deepEqual(Object.keys(withExposure.target_action), ['exposure', 'click', 'conversion']);
  assert.throws(() => evaluateSegments({ ...facts, action: [3, 2, 1, 1, 2, 1] }, model, popularity, [3]), /target 0: action 3/);
});

test('bar plot data: one row per non-empty popularity segment, both methods\' HR@10', () => {
  const s = evaluateSegments({ itemInteractions: [0, 0, 7], historyLength: [1, 1, 1], action: [1, 1, 1] }, Int32Array.of(1, 20, 5), Int32Array.of(900, 800, 2), [3, 9]);
  assert.equal(popularityHitRateTsv(s.target_popularity), 'target_popularity\ttargets\tmodel\tpopularity\ncold\t2\t0.5\t0\n4-9\t1\t1\t1\n');
});
