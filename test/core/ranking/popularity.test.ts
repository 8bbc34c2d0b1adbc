import { test } from 'node:test';
import assert from 'node:assert/strict';
import { popularityOrder, popularityRanks } from '../../../core/ranking/popularity.ts';
import { rankOf } from '../../../core/ranking/topk.ts';
import { Rng } from '../../../core/random/rng.ts';

// row:               0    1  2  3  4  5  6  7
const counts = Int32Array.of(999, 5, 9, 5, 0, 7, 9, 1);
// popularity order (row 0 is padding): 2 (9), 6 (9, tie: higher index), 5 (7), 1 (5), 3 (5), 7 (1), 4 (0)

test('ranks by count, ties by lower item index, padding row never counted', () => {
  const ranks = popularityRanks(counts, [2, 6, 5, 1, 3, 7, 4]);
  assert.deepEqual(Array.from(ranks), [1, 2, 3, 4, 5, 6, 7]);
});

test('skipRow0: false lets row 0 compete', () => {
  assert.deepEqual(Array.from(popularityRanks(counts, [2, 0], { skipRow0: false })), [2, 1]);
  assert.throws(() => popularityRanks(counts, [0]), /target 0 of query 0 is not a candidate/);
});

test('history exclusion removes the items ahead of the target, but never the target itself', () => {
  const history = [Int32Array.of(2, 2, 6, 4), Int32Array.of(3, 5, 0), Int32Array.of(1)];
  const ranks = popularityRanks(counts, [3, 3, 1], { exclude: (q) => history[q]! });
  // q0: 2 and 6 (ahead of 3) excluded once each despite the repeat; 4 is behind → 5 - 2.
  // q1: the target 3 is in its own history and stays; 5 ahead excluded; 0 is padding → 5 - 1.
  // q2: the target 1 is in its own history and stays → 4.
  assert.deepEqual(Array.from(ranks), [3, 4, 4]);
});

test('Float64Array counts work and agree with rankOf on a one-dimensional embedding', () => {
  const rng = new Rng(11);
  const I = 60;
  const scores = Float64Array.from({ length: I }, () => rng.int(8)); // many ties
  const targets = Int32Array.from({ length: 25 }, () => 1 + rng.int(I - 1));
  const lists = Array.from({ length: 25 }, () => Int32Array.from({ length: 6 }, () => rng.int(I)));
  const exclude = (q: number) => lists[q]!;
  // rankOf with D = 1, query [1]: the item "vector" is its count, so the two rankings must coincide.
  const viaRankOf = rankOf(Float32Array.from({ length: 25 }, () => 1), Float32Array.from(scores), 1, targets, { exclude });
  assert.deepEqual(popularityRanks(scores, targets, { exclude }), viaRankOf);
  assert.deepEqual(popularityRanks(popularityOrder(scores), targets, { exclude }), viaRankOf, 'an order made once ranks the same');
});

test('bad counts and exclusions fail loudly', () => {
  assert.throws(() => popularityRanks(Float64Array.of(0, NaN, 1), [2]), /count of item 1 is NaN/);
  assert.throws(() => popularityRanks(counts, [1], { exclude: () => [8] }), /exclude\(0\) lists 8/);
});
