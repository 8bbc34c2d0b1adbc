import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flat, makeTable, writeArrowFile } from '../../../core/artifacts/arrow-io.ts';
import { stableJson } from '../../../core/stage/atomic.ts';
import { chiSquareStatistic, chiSquareSurvival } from '../../helpers/chi-square.ts';
import { UserError } from '../../../core/stage/errors.ts';
import { BucketSampler } from '../../../core/train/negative-sampler.ts';
import { Rng } from '../../../core/random/rng.ts';

const SEED_WEIGHTS = [0.251, 0.265, 0.274, 0.068, 0.113, 0.029];
const DRAWS = 100_000;

/** Pools of the given sizes over consecutive item idx from 1; returns pools and item → bucket. */
function makePools(sizes: readonly number[]): { pools: Int32Array[]; bucketOfItem: Int32Array } {
  const total = sizes.reduce((a, b) => a + b, 0);
  const bucketOfItem = new Int32Array(total + 1).fill(-1);
  let next = 1;
  const pools = sizes.map((size, b) => {
    const pool = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      pool[i] = next;
      bucketOfItem[next++] = b;
    }
    return pool;
  });
  return { pools, bucketOfItem };
}

function bucketHistogram(draws: Int32Array, bucketOfItem: Int32Array, buckets: number): Float64Array {
  const h = new Float64Array(buckets);
  for (const item of draws) h[bucketOfItem[item]!]!++;
  return h;
}

function pValue(observed: ArrayLike<number>, probabilities: readonly number[], draws: number): number {
  const expected = probabilities.map((p) => p * draws);
  const dof = probabilities.filter((p) => p > 0).length - 1;
  return chiSquareSurvival(chiSquareStatistic(observed, expected), dof);
}

test('bucket frequencies match the weights (chi-square, 1e5 seeded draws)', () => {
  const { pools, bucketOfItem } = makePools([40, 30, 50, 10, 20, 5]);
  const sampler = BucketSampler.fromPools(pools, SEED_WEIGHTS);
  const draws = sampler.draw(DRAWS, new Rng(42));
  const observed = bucketHistogram(draws, bucketOfItem, 6);
  const p = pValue(observed, SEED_WEIGHTS, DRAWS);
  assert.ok(p > 0.001, `p = ${p}, observed ${Array.from(observed)}`);
  // the test has power: the same draws are far from uniform bucket weights
  assert.ok(pValue(observed, new Array(6).fill(1 / 6), DRAWS) < 1e-6);
});

test('items are uniform within a bucket (chi-square over the items of each bucket)', () => {
  const { pools } = makePools([40, 30, 50, 10, 20, 5]);
  const sampler = BucketSampler.fromPools(pools, SEED_WEIGHTS);
  const draws = sampler.draw(DRAWS, new Rng(43));
  const perItem = new Float64Array(156);
  for (const item of draws) perItem[item]!++;
  for (const b of [0, 2, 4]) {
    const pool = pools[b]!;
    const observed = Array.from(pool, (item) => perItem[item]!);
    const n = observed.reduce((a, c) => a + c, 0);
    const p = pValue(observed, new Array(pool.length).fill(1 / pool.length), n);
    assert.ok(p > 0.001, `bucket ${b}: p = ${p}`);
  }
});

test('all items in one bucket: every draw comes from it, uniformly', () => {
  const pool = Int32Array.from({ length: 25 }, (_, i) => i + 1);
  const sampler = BucketSampler.fromPools([pool, new Int32Array(0), new Int32Array(0)], [0.5, 0.3, 0.2]);
  assert.deepEqual(Array.from(sampler.weights), [1, 0, 0]);
  const draws = sampler.draw(20_000, new Rng(5));
  const perItem = new Float64Array(26);
  for (const item of draws) {
    assert.ok(item >= 1 && item <= 25, `drew ${item}`);
    perItem[item]!++;
  }
  const p = pValue(Array.from(perItem.subarray(1)), new Array(25).fill(1 / 25), draws.length);
  assert.ok(p > 0.001, `p = ${p}`);
});

test('an empty bucket is renormalised away and never drawn', () => {
  const sizes = [40, 30, 0, 10, 20, 5];
  const { pools, bucketOfItem } = makePools(sizes);
  const sampler = BucketSampler.fromPools(pools, SEED_WEIGHTS);
  const kept = SEED_WEIGHTS.map((w, b) => (sizes[b] === 0 ? 0 : w));
  const sum = kept.reduce((a, b) => a + b, 0);
  const want = kept.map((w) => w / sum);
  want.forEach((w, b) => assert.ok(Math.abs(sampler.weights[b]! - w) < 1e-12, `bucket ${b}`));
  const draws = sampler.draw(DRAWS, new Rng(6));
  const observed = bucketHistogram(draws, bucketOfItem, 6);
  assert.equal(observed[2], 0);
  const p = pValue(observed, want, DRAWS);
  assert.ok(p > 0.001, `p = ${p}`);
});

test('excluded ids are never drawn; a fully excluded bucket yields to the others pro rata', () => {
  const { pools, bucketOfItem } = makePools([40, 30, 50, 10, 20, 5]);
  const sampler = BucketSampler.fromPools(pools, SEED_WEIGHTS);
  const excluded = new Set<number>([...pools[2]!, 1, 2, 3, 41, 150]);
  const draws = sampler.draw(DRAWS, new Rng(8), excluded);
  for (const item of draws) assert.ok(!excluded.has(item), `drew excluded ${item}`);
  // expected: P(item) ∝ w_b / |pool_b| over allowed items
  const mass = SEED_WEIGHTS.map((w, b) => (w * pools[b]!.filter((i) => !excluded.has(i)).length) / pools[b]!.length);
  const total = mass.reduce((a, b) => a + b, 0);
  const p = pValue(bucketHistogram(draws, bucketOfItem, 6), mass.map((m) => m / total), DRAWS);
  assert.ok(p > 0.001, `p = ${p}`);
  // the predicate form excludes the same way
  const odd = sampler.draw(5000, new Rng(9), (idx) => idx % 2 === 1);
  for (const item of odd) assert.equal(item % 2, 0);
});

test('when exclusion covers nearly everything, the fallback scan still returns allowed items', () => {
  const { pools } = makePools([400, 300, 200]);
  const sampler = BucketSampler.fromPools(pools, [0.5, 0.3, 0.2]);
  const allowed = new Set([777]); // one item in bucket 1
  const draws = sampler.draw(200, new Rng(3), (idx) => !allowed.has(idx));
  for (const item of draws) assert.equal(item, 777);
  assert.throws(() => sampler.draw(1, new Rng(3), () => true), UserError);
});

test('the same seed gives the same draws; drawInto fills a buffer', () => {
  const { pools } = makePools([4, 3, 5]);
  const sampler = BucketSampler.fromPools(pools, [1, 1, 1]);
  const a = sampler.draw(1000, new Rng(11));
  const b = sampler.drawInto(new Int32Array(1000), new Rng(11));
  assert.deepEqual(a, b);
});

test('bad sampler input is a UserError', () => {
  const { pools } = makePools([4, 3]);
  assert.throws(() => BucketSampler.fromPools(pools, [1]), UserError);
  assert.throws(() => BucketSampler.fromPools(pools, [1, -1]), UserError);
  assert.throws(() => BucketSampler.fromPools([pools[0]!, new Int32Array(0)], [0, 1]), /no bucket has both items and a positive weight/);
});

test('fromArtifacts reads pools.arrow and the effective weights of manifest.json', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'neg-sampler-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // items 1..6 in buckets [2, 0, 3, 1] sizes; bucket 1 empty
  const item = Int32Array.from([2, 5, 1, 3, 4, 6]);
  const bucket = Int8Array.from([0, 0, 2, 2, 2, 3]);
  writeArrowFile(join(dir, 'pools.arrow'), makeTable({ item: flat(item), bucket: flat(bucket), exposures: flat(new Int32Array(6)) }));
  writeFileSync(join(dir, 'manifest.json'), stableJson({ weights: [0.5, 0, 0.25, 0.25] }));
  const sampler = BucketSampler.fromArtifacts(dir);
  assert.equal(sampler.bucketCount, 4);
  assert.deepEqual(Array.from(sampler.pool(0)), [2, 5]);
  assert.deepEqual(Array.from(sampler.pool(1)), []);
  assert.deepEqual(Array.from(sampler.pool(2)), [1, 3, 4]);
  assert.deepEqual(Array.from(sampler.pool(3)), [6]);
  const draws = sampler.draw(20_000, new Rng(2));
  const inBucket0 = draws.filter((i) => i === 2 || i === 5).length;
  assert.ok(Math.abs(inBucket0 / draws.length - 0.5) < 0.02, `bucket 0 share ${inBucket0 / draws.length}`);
  assert.throws(() => BucketSampler.fromArtifacts(join(dir, 'missing')), UserError);
});
