// Relative attention bias (HSTU's RelativeBucketedTimeAndPositionBasedBias), one per block:
//   rab_pos[i, j]  = w_pos[i − j]                     learned per causal distance
//   rab_time[i, j] = w_time[bucket(|t_i − t_j|)]      learned per log-bucketed time gap
// The gap uses the query's OWN time t_i, not the next (target) item's: that time is unknown at
// inference, and using it would leak the target. Indices are computed in JS from float64 times.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../../random/rng.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { truncatedNormal } from '../../init.ts';
import { gatherRows } from '../../../ops/fast-ops.ts';
import { attentionKernel } from './native/attention.ts';

/** HSTU's bucketisation: floor(ln(max(|Δt|, 1)) / 0.301), clamped to [0, numBuckets]. */
export function timeBucket(gapSeconds: number, numBuckets: number): number {
  const b = Math.floor(Math.log(Math.max(Math.abs(gapSeconds), 1)) / 0.301);
  return Math.min(b, numBuckets);
}

/** Index of w_pos for each (query i, key j): i − j, clamped into [0, N − 1] (j > i is masked anyway). [N, N] */
export function positionBiasIndices(seqLen: number): Int32Array {
  const out = new Int32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) {
    for (let j = 0; j < seqLen; j++) out[i * seqLen + j] = Math.max(0, i - j);
  }
  return out;
}

const bucketTables = new Map<number, { start: Int32Array; threshold: Float64Array }>();

/**
 * timeBucket as tables, for the native kernel (attention.cc's timeBuckets): start[p] = the bucket of the smallest
 * double whose top 16 bits are p (its exponent and first 4 mantissa bits: a 2^(1/16) interval, narrower than a
 * bucket's e^0.301, so it holds at most one bucket boundary), and threshold[k] = the smallest gap whose bucket is ≥ k
 * (k ≤ numBuckets; Infinity where no double reaches it, and at numBuckets + 1), found by bisection over doubles on
 * timeBucket itself. bucket(gap) = start[top 16 bits of gap], moved up past a threshold ≤ gap: equal to timeBucket for
 * every gap because timeBucket is monotone (relative-bias.test.ts).
 */
export function timeBucketTable(numBuckets: number): { start: Int32Array; threshold: Float64Array } {
  const cached = bucketTables.get(numBuckets);
  if (cached !== undefined) return cached;
  const bits = new BigUint64Array(1);
  const value = new Float64Array(bits.buffer);
  const at = (pattern: bigint): number => ((bits[0] = pattern), value[0]!);
  const patternOf = (x: number): bigint => ((value[0] = x), bits[0]!);
  const [lo0, hi0] = [patternOf(1), patternOf(Number.MAX_VALUE)];
  const threshold = new Float64Array(numBuckets + 2).fill(Infinity);
  threshold[0] = 1;
  for (let k = 1; k <= numBuckets && timeBucket(Number.MAX_VALUE, numBuckets) >= k; k++) {
    let [lo, hi] = [lo0, hi0]; // positive doubles order as their bit patterns
    while (lo < hi) {
      const mid = (lo + hi) >> 1n;
      if (timeBucket(at(mid), numBuckets) >= k) hi = mid;
      else lo = mid + 1n;
    }
    threshold[k] = at(lo);
  }
  const start = Int32Array.from({ length: 1 << 16 }, (_, p) => (p >= 1 << 15 ? 0 : timeBucket(at(BigInt(p) << 48n), numBuckets) || 0));
  const table = { start, threshold };
  bucketTables.set(numBuckets, table);
  return table;
}

/**
 * Index of w_time for each (b, i, j): the bucket of |t[b,i] − t[b,j]|. [B, N, N] By the native kernel from
 * timeBucketTable where it is built (the same indices, ~7 ms of JS a 64×100-token batch saved), else timeBiasIndicesJs.
 */
export function timeBiasIndices(timestamp: Float64Array, batchSize: number, seqLen: number, numBuckets: number): Int32Array {
  const kernel = attentionKernel();
  if (kernel === null) return timeBiasIndicesJs(timestamp, batchSize, seqLen, numBuckets);
  const { start, threshold } = timeBucketTable(numBuckets);
  return kernel.timeBuckets(timestamp, batchSize, seqLen, start, threshold);
}

/** timeBiasIndices in JS, a logarithm per pair: the reference. */
export function timeBiasIndicesJs(timestamp: Float64Array, batchSize: number, seqLen: number, numBuckets: number): Int32Array {
  const N = seqLen;
  const out = new Int32Array(batchSize * N * N);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < N; i++) {
      const ti = timestamp[b * N + i]!;
      const row = (b * N + i) * N;
      for (let j = 0; j <= i; j++) out[row + j] = timeBucket(ti - timestamp[b * N + j]!, numBuckets); // j > i stays 0: masked
    }
  }
  return out;
}

export function initRelativeBias(w: ModelWeights, name: string, maxTokens: number, numBuckets: number, withTime: boolean, rng: Rng): void {
  w.add(`${name}.pos`, 'bias', [maxTokens, 1], truncatedNormal(rng, maxTokens));
  if (withTime) w.add(`${name}.time`, 'bias', [numBuckets + 1, 1], truncatedNormal(rng, numBuckets + 1));
}

/** Precomputed per forward, shared by every block. */
export interface BiasIndices {
  timeIdx: Int32Array | null; // [B, N, N] timeBiasIndices, null without time intervals
  pos: tf.Tensor; // [N, N] int32
  time: tf.Tensor | null; // [B, N, N] int32: timeIdx as a tensor
}

/** rab_pos + rab_time → [B, 1, N, N] (or [1, 1, N, N] without time), broadcast over heads. */
export function relativeBias(w: ModelWeights, name: string, idx: BiasIndices): tf.Tensor {
  const pos = tf.squeeze(gatherRows(w.get(`${name}.pos`), idx.pos), [-1]); // [N, N]
  if (idx.time === null) return tf.expandDims(tf.expandDims(pos, 0), 0); // [1, 1, N, N]
  const time = tf.squeeze(gatherRows(w.get(`${name}.time`), idx.time), [-1]); // [B, N, N]
  return tf.expandDims(tf.add(time, pos), 1); // [B, 1, N, N]
}
