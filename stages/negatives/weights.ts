// neg_bucket_weights → the draw probability per bucket actually used. Problems the user can fix are
// errors naming the key; harmless ones (a sum off 1, an empty bucket) are fixed and reported.
import { UserError } from '../../core/stage/errors.ts';

const SUM_TOLERANCE = 1e-6;

/** Shape checks that need no data: one weight per bucket, each finite and ≥ 0, not all zero. */
export function validateWeights(weights: readonly number[], bucketCount: number): void {
  if (weights.length !== bucketCount) {
    throw new UserError(
      `params: 'neg_bucket_weights' has ${weights.length} weights; 'neg_bucket_bounds' makes ${bucketCount} buckets (bounds + 1)`,
    );
  }
  weights.forEach((w, i) => {
    if (!Number.isFinite(w) || w < 0) throw new UserError(`params: 'neg_bucket_weights' must be >= 0, got ${w} at index ${i}`);
  });
  if (!weights.some((w) => w > 0)) throw new UserError(`params: 'neg_bucket_weights' are all zero`);
}

/**
 * Effective weights: normalised to sum 1 (notice if the given sum is off by more than 1e-6), then
 * empty buckets set to 0 and the rest renormalised (a "warning:" notice). Throws if no bucket with
 * weight has items.
 */
export function resolveWeights(weights: readonly number[], bucketCounts: readonly number[]): { weights: number[]; notices: string[] } {
  validateWeights(weights, bucketCounts.length);
  const notices: string[] = [];
  const sum = weights.reduce((s, w) => s + w, 0);
  if (Math.abs(sum - 1) > SUM_TOLERANCE) notices.push(`neg_bucket_weights sum to ${sum}; normalised to 1`);
  const empty = bucketCounts.flatMap((c, b) => (c === 0 ? [b] : []));
  const kept = weights.map((w, b) => (bucketCounts[b] === 0 ? 0 : w));
  const keptSum = kept.reduce((s, w) => s + w, 0);
  if (!(keptSum > 0)) {
    throw new UserError(`params: 'neg_bucket_weights' give weight only to empty buckets (${empty.join(', ')}); no item can be drawn`);
  }
  const lost = empty.filter((b) => weights[b]! > 0);
  if (lost.length > 0) {
    const share = lost.reduce((s, b) => s + weights[b]!, 0) / sum;
    notices.push(`warning: bucket(s) ${lost.join(', ')} have no items; their weight (${share.toFixed(4)} of the total) is renormalised over the rest`);
  }
  return { weights: kept.map((w) => w / keptSum), notices };
}
