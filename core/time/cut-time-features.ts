// The forward-looking time features 204 and 205 of a cut sequence (a training, validation or test
// history). They depend on where the sequence is cut, so the features stage cannot store them per
// event: train and evaluate call this one function on each cut's own history (SPEC §4 features).
// The log2 gap bucket is shared with 206 (seconds since the previous event), so both use one vocab.

/** Gap buckets: 0 s → 0; [2^k, 2^(k+1)) s → k + 1, k = 0..31 (every uint32 gap fits). */
const GAP_BUCKETS = 33;

/** Stored code of a gap bucket: bucket + 1, so 0 stays padding. Codes 1..33. */
export function gapBucketCode(seconds: number): number {
  // Out-of-order timestamps give a negative gap; they count as simultaneous.
  const gap = seconds > 0 ? Math.min(seconds, 0xffffffff) : 0;
  return 33 - Math.clz32(gap); // 32 - clz32 = floor(log2 gap) + 1 for gap ≥ 1, and 0 for gap 0
}

/** Code of "no such neighbour": 204 of a cut's last event, 206 of a sequence's first event. */
export const GAP_CODE_NONE = GAP_BUCKETS + 1; // 34

/** Vocabulary size of 204 and 206 (codes 0 = padding, 1..33 gaps, 34 = none). */
export const GAP_VOCAB = GAP_CODE_NONE + 1; // 35

/** 205 is divided by log1p of this many seconds, so 30 days before the cut's end maps to 1. */
export const RECENCY_HORIZON_SECONDS = 30 * 86400;
const RECENCY_SCALE = 1 / Math.log1p(RECENCY_HORIZON_SECONDS);

/**
 * Writes 204 and 205 for the history `ts[from..to)` (ascending Unix seconds, the cut's own events
 * only) into `out204[at..at+len)` and `out205[at..at+len)`. 204 of event i is the gap bucket code of
 * ts[i+1] − ts[i]; the last history event gets GAP_CODE_NONE (it never sees the target's time).
 * 205 of event i is log1p(ts[last] − ts[i]) / log1p(30 days): 0 at the last event, 1 at 30 days
 * before it, above 1 for older events (not clamped).
 */
export function fillCutTimeFeatures(
  ts: ArrayLike<number>,
  from: number,
  to: number,
  out204: Int8Array | Int32Array,
  out205: Float32Array,
  at = 0,
): void {
  if (to <= from) return;
  const last = ts[to - 1]!;
  for (let i = from; i < to; i++) {
    const o = at + i - from;
    out204[o] = i + 1 < to ? gapBucketCode(ts[i + 1]! - ts[i]!) : GAP_CODE_NONE;
    const before = last - ts[i]!;
    out205[o] = before > 0 ? Math.log1p(before) * RECENCY_SCALE : 0;
  }
}

/** 204 and 205 of a whole history (all of `historyTs`), as new arrays. */
export function computeCutTimeFeatures(historyTs: ArrayLike<number>): { f204: Int8Array; f205: Float32Array } {
  const f204 = new Int8Array(historyTs.length);
  const f205 = new Float32Array(historyTs.length);
  fillCutTimeFeatures(historyTs, 0, historyTs.length, f204, f205);
  return { f204, f205 };
}
