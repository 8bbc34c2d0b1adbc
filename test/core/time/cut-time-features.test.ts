import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GAP_CODE_NONE, GAP_VOCAB, computeCutTimeFeatures, fillCutTimeFeatures, gapBucketCode,
} from '../../../core/time/cut-time-features.ts';

test('gap bucket codes at the log2 edges (code = bucket + 1, 0 stays padding)', () => {
  // gap → bucket: 0 → 0; [2^k, 2^(k+1)) → k + 1
  const expected: [number, number][] = [
    [0, 1], [1, 2], [2, 3], [3, 3], [4, 4], [7, 4], [8, 5], [15, 5], [16, 6],
    [1023, 11], [1024, 12], [65535, 17], [65536, 18], [86400, 18],
    [2 ** 31 - 1, 32], [2 ** 31, 33], [2 ** 32 - 1, 33],
  ];
  for (const [gap, code] of expected) assert.equal(gapBucketCode(gap), code, `gap ${gap}`);
  assert.equal(gapBucketCode(-5), 1, 'an out-of-order gap counts as simultaneous');
  assert.equal(GAP_CODE_NONE, 34);
  assert.equal(GAP_VOCAB, 35);
});

test('204: the gap to the next event, and the last event gets the "no next event" code', () => {
  // gaps 0, 1, 2, 1000 s; 1000 is in [512, 1024) → bucket 10 → code 11
  const { f204 } = computeCutTimeFeatures([100, 100, 101, 103, 1103]);
  assert.deepEqual([...f204], [1, 2, 3, 11, 34]);
});

test('205: log1p(seconds to the cut\'s last event) / log1p(30 days)', () => {
  const day = 86400;
  const { f205 } = computeCutTimeFeatures([0, 29 * day, 30 * day - day, 30 * day]);
  // 30 days before the end → exactly 1; one day before → ln(86401)/ln(2592001) = 11.366755/14.767941 = 0.769691
  assert.equal(f205[0], 1);
  assert.ok(Math.abs(f205[1]! - 0.769691) < 1e-5, String(f205[1]));
  assert.ok(Math.abs(f205[2]! - 0.769691) < 1e-5);
  assert.equal(f205[3], 0, 'the last event is 0 seconds from itself');
  const older = computeCutTimeFeatures([0, 60 * day]).f205[0]!;
  assert.ok(older > 1, 'older than 30 days is not clamped');
});

test('a cut sees only its own events: the target\'s time changes neither 204 nor 205', () => {
  const ts = new Uint32Array([1000, 1060, 5000, 9000, 123456]); // index 4 = the target
  const a204 = new Int8Array(4), a205 = new Float32Array(4);
  fillCutTimeFeatures(ts, 0, 4, a204, a205);
  ts[4] = 9001; // move the target: nothing in the history may change
  const b204 = new Int8Array(4), b205 = new Float32Array(4);
  fillCutTimeFeatures(ts, 0, 4, b204, b205);
  assert.deepEqual(b204, a204);
  assert.deepEqual(b205, a205);
  assert.equal(a204[3], GAP_CODE_NONE, 'the last history event never sees the target');
  assert.equal(a205[3], 0, '205 is relative to the last history event, not the target');
  // 1000 → 1060: 60 s is in [32, 64) → bucket 6 → code 7; 1060 → 5000: 3940 in [2048, 4096) → 12 + 1 = 13
  assert.deepEqual([...a204], [7, 13, 13, 34]);
});

test('fill writes at an offset (left-padded batches) and leaves the padding untouched', () => {
  const out204 = new Int32Array(6), out205 = new Float32Array(6);
  fillCutTimeFeatures([10, 20, 30, 40, 50], 2, 5, out204, out205, 3);
  assert.deepEqual([...out204], [0, 0, 0, 5, 5, 34]); // gaps 10, 10: [8, 16) → bucket 4 → code 5
  assert.equal(out205[0], 0);
  assert.equal(out205[5], 0);
  assert.ok(out205[3]! > out205[4]! && out205[4]! > 0);
  fillCutTimeFeatures([1, 2], 1, 1, out204, out205); // an empty cut writes nothing
  assert.equal(out204[0], 0);
});
