// Sampled-softmax negatives (core/train/sampled-softmax.ts): uniform draws over 1..V, and a logQ that
// makes the drawn columns an unbiased estimate of the whole catalogue's softmax denominator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SampledNegatives } from '../../../core/train/sampled-softmax.ts';
import { Rng } from '../../../core/random/rng.ts';

test('shares, draws and logQ', () => {
  const s = new SampledNegatives(Float64Array.from([99, 3, 1, 0, 4])); // row 0 (padding) is ignored
  assert.equal(s.items, 4);
  assert.deepEqual([...s.share], [0, 3 / 8, 1 / 8, 0, 4 / 8]);
  const a = s.draw(2000, new Rng(5, 1));
  assert.deepEqual([...a.slice(0, 50)], [...new SampledNegatives(Float64Array.from([99, 3, 1, 0, 4])).draw(50, new Rng(5, 1))], 'same seed, same draws');
  const seen = new Set(a);
  assert.deepEqual([...seen].sort(), [1, 2, 3, 4], 'every item 1..V is drawn, never padding');
  for (let j = 1; j <= 4; j++) {
    const n = a.filter((x) => x === j).length;
    assert.ok(Math.abs(n - 500) < 5 * Math.sqrt(2000 * 0.25 * 0.75), `item ${j} drawn ${n} of 2000 times`);
  }
  // E[count] = M·f_j + K/V with M = 16 in-batch positives and K = 8 draws over V = 4 items
  const lq = s.logQ(Int32Array.from([1, 3, 4]), 16, 8);
  [16 * 3 / 8 + 2, 2, 16 * 4 / 8 + 2].forEach((e, k) => assert.ok(Math.abs(lq[k]! - Math.log(e)) < 1e-6, `logQ of column ${k}`));
  assert.throws(() => new SampledNegatives(new Float64Array(1)), /catalogue is empty/);
});

test('Σ exp(s − logQ) over in-batch + uniform draws estimates Σ exp(s) over the catalogue; uncorrected it does not', () => {
  // Popular items score high (a model that learnt popularity): uncorrected in-batch negatives overcount them.
  const V = 200, M = 64, K = 32;
  const counts = new Float64Array(V + 1);
  for (let j = 1; j <= V; j++) counts[j] = 1000 / j; // Zipf
  const score = (j: number): number => 2 - Math.log(j) / 2;
  let full = 0;
  for (let j = 1; j <= V; j++) full += Math.exp(score(j));
  const s = new SampledNegatives(counts);
  const rng = new Rng(9, 2);
  const cdf = Array.from(s.share, ((acc) => (x: number) => (acc += x))(0));
  const drawPositive = (): number => {
    const u = rng.next();
    let j = 1;
    while (j < V && cdf[j]! < u) j++;
    return j;
  };
  let corrected = 0, plain = 0;
  const trials = 400;
  for (let t = 0; t < trials; t++) {
    const ids = Int32Array.from([...Array.from({ length: M }, drawPositive), ...s.draw(K, rng)]);
    const lq = s.logQ(ids, M, K);
    ids.forEach((j, k) => {
      corrected += Math.exp(score(j) - lq[k]!);
      plain += Math.exp(score(j) - Math.log((M + K) / V)); // as if every column were a uniform draw
    });
  }
  corrected /= trials;
  plain /= trials;
  assert.ok(Math.abs(corrected / full - 1) < 0.03, `corrected estimate ${corrected.toFixed(1)} vs the catalogue's ${full.toFixed(1)}`);
  assert.ok(plain / full > 1.5, `uncorrected ${plain.toFixed(1)} overcounts popular items (catalogue ${full.toFixed(1)})`);
});
