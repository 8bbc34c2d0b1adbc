import { test } from 'node:test';
import assert from 'node:assert/strict';
import { positionBiasIndices, timeBiasIndices, timeBiasIndicesJs, timeBucket, timeBucketTable } from '../../../../../core/model/encoders/hstu/relative-bias.ts';
import { attentionKernel } from '../../../../../core/model/encoders/hstu/native/attention.ts';
import { Rng } from '../../../../../core/random/rng.ts';

test('time buckets: floor(ln(max(|gap|, 1)) / 0.301), symmetric, clamped', () => {
  assert.equal(timeBucket(0, 128), 0);
  assert.equal(timeBucket(1, 128), 0);
  assert.equal(timeBucket(2, 128), 2); // ln 2 = 0.693 → 2.30
  assert.equal(timeBucket(60, 128), 13); // ln 60 = 4.094 → 13.6
  assert.equal(timeBucket(3600, 128), 27); // ln 3600 = 8.189 → 27.2
  assert.equal(timeBucket(86400, 128), 37); // ln 86400 = 11.367 → 37.8
  assert.equal(timeBucket(-86400, 128), 37);
  assert.equal(timeBucket(86400, 20), 20);
  for (let g = 1; g < 1e7; g *= 1.7) assert.ok(timeBucket(g * 1.7, 128) >= timeBucket(g, 128), 'monotone');
});

test('bias indices: causal distance, and the time gap measured from the query\'s own time', () => {
  assert.deepEqual([...positionBiasIndices(3)], [0, 0, 0, 1, 0, 0, 2, 1, 0]);
  const ts = new Float64Array([1000, 1060, 4660]);
  const idx = timeBiasIndices(ts, 1, 3, 128);
  assert.equal(idx[2 * 3 + 0], timeBucket(3660, 128));
  assert.equal(idx[2 * 3 + 1], timeBucket(3600, 128));
  assert.equal(idx[1 * 3 + 0], timeBucket(60, 128));
  assert.equal(idx[0 * 3 + 2], 0, 'future keys are never looked at');
});

/** The double next to x (x > 0) upwards or downwards. */
function nextDouble(x: number, up: boolean): number {
  const v = new Float64Array([x]);
  const bits = new BigUint64Array(v.buffer);
  bits[0] = up ? bits[0]! + 1n : bits[0]! - 1n;
  return v[0]!;
}

test('timeBucketTable: each threshold is the first gap of its bucket, each 16-bit prefix starts in its bucket: the tables give timeBucket everywhere', () => {
  for (const nb of [128, 20, 3]) {
    const { start, threshold } = timeBucketTable(nb);
    const lookup = (gap: number): number => {
      const a = Math.abs(gap);
      if (!(a >= 1)) return 0;
      let k = start[Number(new BigUint64Array(new Float64Array([a]).buffer)[0]! >> 48n)]!; // its top 16 bits
      while (k < nb && a >= threshold[k + 1]!) k++;
      return k;
    };
    for (let k = 1; k <= nb && Number.isFinite(threshold[k]); k++) {
      assert.equal(timeBucket(threshold[k]!, nb), k, `threshold ${k} is in bucket ${k}`);
      assert.equal(timeBucket(nextDouble(threshold[k]!, false), nb), k - 1, `the double below threshold ${k} is in bucket ${k - 1}`);
    }
    const rng = new Rng(nb);
    for (let x = 0; x < 20000; x++) {
      const gap = (rng.next() - 0.5) * Math.exp(rng.next() * 60);
      const g = x % 3 === 0 ? Math.round(gap) : gap;
      assert.equal(lookup(g), timeBucket(g, nb), `gap ${g}`);
    }
  }
});

const kernelAbsent = attentionKernel() === null ? 'the native attention kernel is not built (bash scripts/setup-kernels.sh; HSTU_NO_KERNELS unset)' : false;

test('timeBiasIndices by the native kernel = the JS reference (integer and fractional times, huge and unsorted gaps)', { skip: kernelAbsent }, () => {
  const rng = new Rng(11);
  const [B, N] = [7, 33];
  const ts = new Float64Array(B * N);
  for (let b = 0; b < B; b++) {
    let t = 1.7e9;
    for (let i = 0; i < N; i++) {
      t += b === 0 ? Math.floor(rng.next() * 100000) : b === 1 ? rng.next() * 10 : b === 2 ? (rng.next() - 0.5) * 1e6 : Math.exp(rng.next() * 50);
      ts[b * N + i] = b === 3 && i === 5 ? NaN : b === 4 && i === 7 ? Infinity : t;
    }
  }
  for (const nb of [128, 20, 3]) assert.deepEqual(timeBiasIndices(ts, B, N, nb), timeBiasIndicesJs(ts, B, N, nb), `${nb} buckets`);
  assert.throws(() => attentionKernel()!.timeBuckets(ts, B, N + 1, timeBucketTable(128).start, timeBucketTable(128).threshold), /timeBuckets: timestamp must be \[B, N\]/);
});
