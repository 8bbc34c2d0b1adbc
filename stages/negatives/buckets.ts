// Exposure buckets (seed: ≤3, ≤9, ≤54, ≤100, ≤1000, >1000): bucket b is the first b with
// count ≤ bounds[b]; counts above every bound go to the last bucket, bounds.length.
import { validateBounds } from '../../core/ranking/bucket-bounds.ts';

/** Pools as columns, one row per item idx 1..items, sorted by bucket then item. */
export interface Pools {
  item: Int32Array; // [items]
  bucket: Int8Array; // [items]
  exposures: Int32Array; // [items]
  /** [buckets] items per bucket */
  counts: number[];
}

export function bucketOf(count: number, bounds: readonly number[]): number {
  for (let b = 0; b < bounds.length; b++) if (count <= bounds[b]!) return b;
  return bounds.length;
}

/** Buckets items 1..items by exposure (counts: [items + 1], slot 0 unused); counting sort keeps item order. */
export function buildPools(counts: Int32Array, bounds: readonly number[]): Pools {
  validateBounds(bounds);
  const items = counts.length - 1;
  const buckets = bounds.length + 1;
  const bucketOfItem = new Int8Array(counts.length);
  const perBucket = new Array<number>(buckets).fill(0);
  for (let idx = 1; idx <= items; idx++) {
    const b = bucketOf(counts[idx]!, bounds);
    bucketOfItem[idx] = b;
    perBucket[b]!++;
  }
  const next = new Int32Array(buckets);
  for (let b = 1; b < buckets; b++) next[b] = next[b - 1]! + perBucket[b - 1]!;
  const pools: Pools = { item: new Int32Array(items), bucket: new Int8Array(items), exposures: new Int32Array(items), counts: perBucket };
  for (let idx = 1; idx <= items; idx++) {
    const b = bucketOfItem[idx]!;
    const row = next[b]!++;
    pools.item[row] = idx;
    pools.bucket[row] = b;
    pools.exposures[row] = counts[idx]!;
  }
  return pools;
}
