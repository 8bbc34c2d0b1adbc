import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeRankMetrics } from '../../../core/ranking/metrics.ts';
import { evaluateReport, headlineMetrics, hitRateTsv } from '../../../stages/evaluate/eval-outputs.ts';
import { evaluateSegments } from '../../../stages/evaluate/segments.ts';

const model = Int32Array.from([1, 3, 250, 12, 0]); // 0 = not ranked
const popularity = Int32Array.from([2, 2, 60, 1, 7]);
const segments = evaluateSegments({ itemInteractions: [0, 1, 2, 3, 4], historyLength: [1, 2, 3, 4, 5], action: [1, 1, 1, 2, 2] }, model, popularity, [3]);

test('report: both methods over the same targets, the run description, the segments', () => {
  const r = evaluateReport(model, popularity, segments, { skipped_users: 2, weights: 'best', exclude_history: true });
  assert.deepEqual(r.model, computeRankMetrics(model));
  assert.deepEqual(r.popularity, computeRankMetrics(popularity));
  assert.equal(r.targets, 5);
  assert.deepEqual(Object.keys(r), ['model', 'popularity', 'targets', 'skipped_users', 'weights', 'exclude_history', 'segments']);
  assert.equal(r.segments, segments);
  assert.throws(() => evaluateReport(model, popularity.subarray(1), segments, { skipped_users: 0, weights: 'final', exclude_history: false }), /5 model ranks but 4/);
});

test('metrics file: only the headline numbers of each method, Score first', () => {
  const r = evaluateReport(model, popularity, segments, { skipped_users: 2, weights: 'best', exclude_history: true });
  const h = headlineMetrics(r);
  assert.deepEqual(Object.keys(h), ['model', 'popularity']);
  for (const m of ['model', 'popularity'] as const) {
    assert.deepEqual(Object.keys(h[m]), ['score', 'hr@10', 'ndcg@10']);
    assert.deepEqual(h[m], { score: r[m].score, 'hr@10': r[m]['hr@10'], 'ndcg@10': r[m]['ndcg@10'] });
  }
  assert.equal(h.model['hr@10'], 2 / 5);
});

test('HR@k TSV: header, k = 1..200, hits counted by hand', () => {
  const rows = hitRateTsv(model, popularity).trimEnd().split('\n');
  assert.equal(rows[0], 'k\tmodel\tpopularity');
  assert.equal(rows.length, 201);
  assert.equal(rows[1], `1\t${1 / 5}\t${1 / 5}`);
  assert.equal(rows[2], `2\t${1 / 5}\t${3 / 5}`);
  assert.equal(rows[12], `12\t${3 / 5}\t${4 / 5}`);
  assert.equal(rows[60], `60\t${3 / 5}\t${5 / 5}`);
  assert.equal(rows[200], `200\t${3 / 5}\t${5 / 5}`, 'rank 250 and not-ranked never count');
});
