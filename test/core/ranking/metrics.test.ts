import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METRIC_CUTOFFS, NOT_RANKED, RankMetricsAccumulator, computeRankMetrics, computeScore, hitRateCurve } from '../../../core/ranking/metrics.ts';
import { rankOf } from '../../../core/ranking/topk.ts';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

/** Straight-from-the-definition metrics of one rank, averaged by the test itself. */
function referenceMetrics(ranks: number[]) {
  const n = ranks.length;
  const ranked = ranks.filter((r) => r !== 0 && r !== Infinity);
  const hr = (K: number) => ranked.filter((r) => r <= K).length / n;
  const ndcg = (K: number) => ranked.reduce((s, r) => s + (r <= K ? 1 / Math.log2(r + 1) : 0), 0) / n;
  const mrr = ranked.reduce((s, r) => s + 1 / r, 0) / n;
  return { hr, ndcg, mrr };
}

test('rank 1 is a perfect hit at every cutoff', () => {
  const m = computeRankMetrics([1]);
  for (const K of METRIC_CUTOFFS) {
    assert.equal(m[`hr@${K}`], 1);
    assert.equal(m[`ndcg@${K}`], 1);
  }
  assert.equal(m.mrr, 1);
  assert.equal(m.score, 1);
  assert.equal(m.count, 1);
});

test('rank 10 is inside @10 and rank 11 is not', () => {
  const m10 = computeRankMetrics([10]);
  assert.equal(m10['hr@10'], 1);
  close(m10['ndcg@10'], 1 / Math.log2(11), 'ndcg@10 at rank 10');
  close(m10.mrr, 0.1, 'mrr at rank 10');
  close(m10.score, 0.31 + 0.69 / Math.log2(11), 'score at rank 10');

  const m11 = computeRankMetrics([11]);
  assert.equal(m11['hr@10'], 0);
  assert.equal(m11['ndcg@10'], 0);
  assert.equal(m11['hr@50'], 1);
  close(m11['ndcg@50'], 1 / Math.log2(12), 'ndcg@50 at rank 11');
  close(m11.mrr, 1 / 11, 'mrr at rank 11');
  assert.equal(m11.score, 0);
});

test('ranks beyond 200 only count in MRR; 0 and Infinity count as misses in the denominator', () => {
  const m = computeRankMetrics([201, NOT_RANKED, Infinity, 1]);
  for (const K of METRIC_CUTOFFS) assert.equal(m[`hr@${K}`], 0.25);
  close(m.mrr, (1 / 201 + 1) / 4, 'mrr');
  assert.equal(m.count, 4);
});

test('a mixed set matches the definitions at every cutoff', () => {
  const ranks = [1, 2, 10, 11, 49, 50, 51, 199, 200, 201, 5000, 0, 3, 3];
  const ref = referenceMetrics(ranks);
  const m = computeRankMetrics(ranks);
  for (const K of METRIC_CUTOFFS) {
    close(m[`hr@${K}`], ref.hr(K), `hr@${K}`);
    close(m[`ndcg@${K}`], ref.ndcg(K), `ndcg@${K}`);
  }
  close(m.mrr, ref.mrr, 'mrr');
  close(m.score, computeScore(ref.hr(10), ref.ndcg(10)), 'score');
});

test('streaming in batches gives exactly the one-shot result', () => {
  const ranks = Int32Array.from({ length: 1000 }, (_, j) => (j * 7919) % 263);
  const acc = new RankMetricsAccumulator();
  for (let j = 0; j < ranks.length; j += 97) acc.add(ranks.subarray(j, j + 97));
  assert.deepEqual(acc.result(), computeRankMetrics(ranks));
  assert.deepEqual(acc.hitRateCurve(), hitRateCurve(ranks));
});

test('empty input and invalid ranks are errors, not zeros', () => {
  assert.throws(() => computeRankMetrics([]), /no targets/);
  assert.throws(() => new RankMetricsAccumulator().result(), /no targets/);
  assert.throws(() => hitRateCurve([]), /no targets/);
  for (const bad of [-1, 1.5, NaN]) assert.throws(() => computeRankMetrics([bad]), /invalid rank/);
  assert.throws(() => hitRateCurve([1], 201), /maxK/);
});

test('hitRateCurve gives HR@k for every k and agrees with HR@10/50/200', () => {
  const ranks = [1, 3, 3, 200, 250, 0];
  const curve = hitRateCurve(ranks, 200);
  assert.equal(curve.length, 200);
  assert.equal(curve[0], 1 / 6);
  assert.equal(curve[1], 1 / 6);
  assert.equal(curve[2], 3 / 6);
  assert.equal(curve[198], 3 / 6);
  assert.equal(curve[199], 4 / 6);
  const m = computeRankMetrics(ranks);
  for (const K of METRIC_CUTOFFS) assert.equal(curve[K - 1], m[`hr@${K}`]);
  assert.equal(hitRateCurve(ranks, 3).length, 3);
});

// D = 1 and query = [1], so each item's score is its own value: rankings can be written by hand.
function scoresAsItems(values: number[]): Float32Array {
  return Float32Array.from(values);
}

test('ties and history exclusion reach the metrics through rankOf', () => {
  // row 0 = padding; items 1..12 with scores below. Target 5 (score 7) ties with item 2 (lower index: ahead)
  // and item 9 (higher index: behind); items 1 (9), 3 (8) beat it outright.
  const items = scoresAsItems([100, 9, 7, 8, 1, 7, 0, 0, 0, 7, 0, 0, 0]);
  const q = Float32Array.of(1);
  assert.deepEqual(Array.from(rankOf(q, items, 1, [5])), [4]); // 1, 3, 2 ahead
  // History {1, 3} excluded: only item 2 (the lower-index tie) is still ahead. Excluding the target is ignored.
  const ranks = rankOf(q, items, 1, [5], { exclude: () => [1, 3, 5, 3] });
  assert.deepEqual(Array.from(ranks), [2]);
  const m = computeRankMetrics(ranks);
  assert.equal(m['hr@10'], 1);
  close(m['ndcg@10'], 1 / Math.log2(3), 'ndcg@10 after exclusion');
  close(m.mrr, 0.5, 'mrr after exclusion');
});
