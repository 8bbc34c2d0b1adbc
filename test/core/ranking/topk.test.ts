import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../core/random/rng.ts';
import { rankOf, topK, topKTf, type ExcludeFn } from '../../../core/ranking/topk.ts';

type Case = { queries: Float32Array; items: Float32Array; Q: number; I: number; D: number; exclude: ExcludeFn; targets: Int32Array };

/**
 * Random queries and items; `integer` draws small integers so many scores tie exactly, and some item rows
 * are copies of others so ties also come from duplicate vectors. Exclusion lists repeat entries and
 * sometimes hold the target or the padding row.
 */
function makeCase(seed: number, integer: boolean, Q = 37, I = 103, D = 5): Case {
  const rng = new Rng(seed);
  const draw = () => (integer ? rng.int(5) - 2 : rng.normal());
  const queries = Float32Array.from({ length: Q * D }, draw);
  const items = Float32Array.from({ length: I * D }, draw);
  for (let j = 0; j < 15; j++) {
    const from = 1 + rng.int(I - 1);
    const to = 1 + rng.int(I - 1);
    items.copyWithin(to * D, from * D, from * D + D);
  }
  const targets = Int32Array.from({ length: Q }, () => 1 + rng.int(I - 1));
  const lists = Array.from({ length: Q }, (_, q) => {
    const list = Array.from({ length: rng.int(12) }, () => rng.int(I));
    if (q % 3 === 0) list.push(targets[q]!, targets[q]!);
    if (q % 5 === 0) list.push(0);
    return Int32Array.from(list);
  });
  return { queries, items, Q, I, D, exclude: (q) => lists[q]!, targets };
}

function score(c: Case, q: number, i: number): number {
  let s = 0;
  for (let d = 0; d < c.D; d++) s += c.queries[q * c.D + d]! * c.items[i * c.D + d]!;
  return s;
}

/** Brute force: score every candidate, sort the whole list. `keep` stays a candidate even if excluded. */
function sortedCandidates(c: Case, q: number, useExclude: boolean, keep = -1): { idx: number; s: number }[] {
  const banned = new Set(useExclude ? Array.from(c.exclude(q)) : []);
  banned.delete(keep);
  const all: { idx: number; s: number }[] = [];
  for (let i = 1; i < c.I; i++) if (!banned.has(i)) all.push({ idx: i, s: score(c, q, i) });
  return all.sort((a, b) => b.s - a.s || a.idx - b.idx);
}

for (const [seed, integer] of [[1, false], [2, true], [3, true], [4, false]] as const) {
  for (const chunkItems of [1, 7, 103, undefined]) {
    test(`topK and rankOf match brute force (seed ${seed}, ${integer ? 'integer ties' : 'normal'}, chunk ${chunkItems ?? 'default'})`, () => {
      const c = makeCase(seed, integer);
      for (const useExclude of [false, true]) {
        const opts = { chunkItems, exclude: useExclude ? c.exclude : undefined };
        const k = 20;
        const top = topK(c.queries, c.items, c.D, k, opts);
        const ranks = rankOf(c.queries, c.items, c.D, c.targets, opts);
        for (let q = 0; q < c.Q; q++) {
          const ref = sortedCandidates(c, q, useExclude).slice(0, k);
          assert.deepEqual(Array.from(top.indices.subarray(q * k, q * k + k)), ref.map((e) => e.idx), `query ${q} indices`);
          assert.deepEqual(Array.from(top.scores.subarray(q * k, q * k + k)), ref.map((e) => Math.fround(e.s)), `query ${q} scores`);
          const t = c.targets[q]!;
          const refRank = sortedCandidates(c, q, useExclude, t).findIndex((e) => e.idx === t) + 1;
          assert.equal(ranks[q], refRank, `query ${q} rank of target ${t}`);
        }
      }
    });
  }
}

test('integer data really produces ties at the top (the tie-break above is exercised)', () => {
  const c = makeCase(2, true);
  let tiedPairs = 0;
  for (let q = 0; q < c.Q; q++) {
    const ref = sortedCandidates(c, q, false).slice(0, 20);
    for (let j = 1; j < ref.length; j++) if (ref[j]!.s === ref[j - 1]!.s) tiedPairs++;
  }
  assert.ok(tiedPairs > 100, `only ${tiedPairs} tied neighbours`);
});

test('excluded items never appear; the padding row never appears; short lists are padded', () => {
  const c = makeCase(5, true, 9, 12, 3);
  const k = 15; // more than the 11 candidates
  const top = topK(c.queries, c.items, c.D, k, { exclude: c.exclude, chunkItems: 4 });
  for (let q = 0; q < c.Q; q++) {
    const row = Array.from(top.indices.subarray(q * k, q * k + k));
    const banned = new Set(Array.from(c.exclude(q)));
    const kept = row.filter((i) => i !== -1);
    assert.equal(kept.length, 11 - [...banned].filter((i) => i > 0).length, `query ${q} candidate count`);
    for (const i of kept) assert.ok(i > 0 && !banned.has(i), `query ${q} got ${i}`);
    assert.deepEqual(row.slice(kept.length), new Array(k - kept.length).fill(-1));
    for (let j = kept.length; j < k; j++) assert.equal(top.scores[q * k + j], -Infinity);
  }
});

test('skipRow0: false makes row 0 an ordinary candidate', () => {
  const items = Float32Array.of(5, 1, 3); // D = 1, query [1]: scores are the values
  const q = Float32Array.of(1);
  assert.deepEqual(Array.from(topK(q, items, 1, 2).indices), [2, 1]);
  assert.deepEqual(Array.from(topK(q, items, 1, 2, { skipRow0: false }).indices), [0, 2]);
  assert.deepEqual(Array.from(rankOf(q, items, 1, [1], { skipRow0: false })), [3]);
  assert.deepEqual(Array.from(rankOf(q, items, 1, [1])), [2]);
});

test('bad inputs fail loudly', () => {
  const q = Float32Array.of(1, 0);
  const items = Float32Array.of(0, 0, 1, 1, 2, 2);
  assert.throws(() => topK(q, items, 3, 1), /multiple of D/);
  assert.throws(() => topK(q, Float32Array.of(0, 0, NaN, 1), 2, 1), /non-finite value NaN in items row 1/);
  assert.throws(() => rankOf(q, items, 2, [0]), /target 0 .* not a candidate/);
  assert.throws(() => rankOf(q, items, 2, [3]), /not a candidate/);
  assert.throws(() => rankOf(q, items, 2, [1, 2]), /2 targets for 1 queries/);
  assert.throws(() => topK(q, items, 2, 1, { exclude: () => [7] }), /exclude\(0\) lists 7/);
  assert.throws(() => topK(q, items, 2, 0), /k must be/);
  assert.throws(() => topK(q, items, 2, 1, { chunkItems: 0 }), /chunkItems/);
});

test('topKTf equals topK on the cpu backend and leaks no tensors', async () => {
  await tf.setBackend('cpu');
  for (const seed of [2, 3]) {
    // Integer data: float32 matMul sums are exact, so tf and JS scores (and tie-breaks) agree bit for bit.
    const c = makeCase(seed, true);
    const queries = tf.tensor2d(c.queries, [c.Q, c.D]);
    const items = tf.tensor2d(c.items, [c.I, c.D]);
    const before = tf.memory().numTensors;
    for (const chunkItems of [1, 7, 103]) {
      for (const exclude of [undefined, c.exclude]) {
        const want = topK(c.queries, c.items, c.D, 20, { chunkItems, exclude });
        const got = await topKTf(queries, items, 20, { chunkItems, exclude });
        assert.deepEqual(got.indices, want.indices, `seed ${seed} chunk ${chunkItems}`);
        assert.deepEqual(got.scores, want.scores, `seed ${seed} chunk ${chunkItems}`);
      }
    }
    assert.equal(tf.memory().numTensors, before);
    queries.dispose();
    items.dispose();
  }
});
