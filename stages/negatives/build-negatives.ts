// counts → pools + manifest: the whole negatives computation, without I/O.
import type { NegativesManifest } from '../../core/artifacts/artifacts.ts';
import { validateBounds } from '../../core/ranking/bucket-bounds.ts';
import { buildPools, type Pools } from './buckets.ts';
import { resolveWeights, validateWeights } from './weights.ts';

export interface NegativesParams {
  neg_bucket_bounds: number[];
  neg_bucket_weights: number[];
}

/** Param checks that need no data, so a bad param fails before any shard is read. */
export function validateNegativesParams(p: NegativesParams): void {
  validateBounds(p.neg_bucket_bounds);
  validateWeights(p.neg_bucket_weights, p.neg_bucket_bounds.length + 1);
}

/** counts: [items + 1] exposures per item idx (slot 0 unused). */
export function buildNegatives(counts: Int32Array, trainEvents: number, p: NegativesParams): { pools: Pools; manifest: NegativesManifest } {
  validateNegativesParams(p);
  const pools = buildPools(counts, p.neg_bucket_bounds);
  const { weights, notices } = resolveWeights(p.neg_bucket_weights, pools.counts);
  const manifest: NegativesManifest = {
    items: counts.length - 1,
    train_events: trainEvents,
    bounds: [...p.neg_bucket_bounds],
    weights_param: [...p.neg_bucket_weights],
    weights,
    counts: pools.counts,
    empty_buckets: pools.counts.flatMap((c, b) => (c === 0 ? [b] : [])),
    notices,
  };
  return { pools, manifest };
}
