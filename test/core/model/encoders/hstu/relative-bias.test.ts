import { test } from 'node:test';
import assert from 'node:assert/strict';
import { positionBiasIndices, timeBiasIndices, timeBucket } from '../../../../../core/model/encoders/hstu/relative-bias.ts';

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
