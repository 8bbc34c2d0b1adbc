// Exposure-bucketed negative sampling (SPEC §4 negatives, §6): pick a bucket by weight with an alias
// table (O(1)), then an item uniformly within the bucket. Cold and hot items are drawn at the rates
// the weights set rather than at their popularity, which lowers the chance of hitting a positive.
import { readFileSync } from 'node:fs';
import { AliasTable } from './alias-table.ts';
import { columnValues, readArrowFile } from '../artifacts/arrow-io.ts';
import { negativePoolsPath, negativesManifestPath, type NegativesManifest } from '../artifacts/artifacts.ts';
import { UserError } from '../stage/errors.ts';
import type { Rng } from '../random/rng.ts';

/** Ids never to return: a set of item idx, or a predicate. */
export type Exclusion = Set<number> | ((itemIdx: number) => boolean);

/** Redraws (bucket and item) for one excluded draw before falling back to a scan. */
export const MAX_REJECTIONS = 64;

export class BucketSampler {
  /** [items] item idx grouped by bucket; bucket b is items[offsets[b] .. offsets[b+1]) */
  readonly items: Int32Array;
  /** [buckets + 1] */
  readonly offsets: Int32Array;
  /** [buckets] draw probability per bucket; 0 for an empty bucket whatever its given weight */
  readonly weights: Float64Array;
  private readonly table: AliasTable;

  /**
   * `weights` per bucket (any positive total). A bucket without items cannot be drawn from, so its
   * weight is set to 0 and the rest renormalised (the negatives stage reports this as a warning).
   */
  constructor(items: Int32Array, offsets: Int32Array, weights: ArrayLike<number>) {
    const buckets = offsets.length - 1;
    if (buckets < 1 || weights.length !== buckets) {
      throw new UserError(`negative sampler: ${weights.length} weights for ${buckets} buckets`);
    }
    if (offsets[0] !== 0 || offsets[buckets] !== items.length) throw new UserError('negative sampler: offsets do not cover the items');
    const effective = new Float64Array(buckets);
    let total = 0;
    for (let b = 0; b < buckets; b++) {
      if (offsets[b + 1]! < offsets[b]!) throw new UserError('negative sampler: offsets must be non-decreasing');
      const w = weights[b]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new UserError(`negative sampler: bucket ${b} weight must be finite and >= 0, got ${w}`);
      effective[b] = offsets[b + 1]! > offsets[b]! ? w : 0;
      total += effective[b]!;
    }
    if (!(total > 0)) throw new UserError('negative sampler: no bucket has both items and a positive weight');
    for (let b = 0; b < buckets; b++) effective[b]! /= total;
    this.items = items;
    this.offsets = offsets;
    this.weights = effective;
    this.table = AliasTable.build(effective);
  }

  /** From one pool (item idx array) per bucket. */
  static fromPools(pools: readonly Int32Array[], weights: ArrayLike<number>): BucketSampler {
    const offsets = new Int32Array(pools.length + 1);
    for (let b = 0; b < pools.length; b++) offsets[b + 1] = offsets[b]! + pools[b]!.length;
    const items = new Int32Array(offsets[pools.length]!);
    pools.forEach((pool, b) => items.set(pool, offsets[b]!));
    return new BucketSampler(items, offsets, weights);
  }

  /** From a negatives stage output folder (pools.arrow + manifest.json effective weights). */
  static fromArtifacts(dir: string): BucketSampler {
    const manifestPath = negativesManifestPath(dir);
    let manifest: NegativesManifest;
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as NegativesManifest;
    } catch (e) {
      throw new UserError(`${manifestPath}: cannot read (${(e as Error).message.split('\n')[0]})`);
    }
    if (!Array.isArray(manifest.weights)) throw new UserError(`${manifestPath}: 'weights' must be a list`);
    const table = readArrowFile(negativePoolsPath(dir));
    // columnValues may return the IPC buffer's padding past the last row, hence subarray(0, numRows)
    const items = Int32Array.from(columnValues<Int32Array>(table, 'item').subarray(0, table.numRows));
    const bucket = columnValues<Int8Array>(table, 'bucket').subarray(0, table.numRows);
    const buckets = manifest.weights.length;
    const offsets = new Int32Array(buckets + 1);
    for (let r = 0; r < bucket.length; r++) {
      const b = bucket[r]!;
      if (b < 0 || b >= buckets || (r > 0 && b < bucket[r - 1]!)) {
        throw new UserError(`${negativePoolsPath(dir)}: row ${r}: bucket ${b} out of range or out of order`);
      }
      offsets[b + 1]!++;
    }
    for (let b = 0; b < buckets; b++) offsets[b + 1]! += offsets[b]!;
    return new BucketSampler(items, offsets, manifest.weights);
  }

  get bucketCount(): number {
    return this.weights.length;
  }

  /** The item idx of bucket b (a view, not a copy). */
  pool(b: number): Int32Array {
    return this.items.subarray(this.offsets[b]!, this.offsets[b + 1]!);
  }

  /** One item: bucket by weight, then uniform within it. */
  drawOne(rng: Rng): number {
    const b = this.table.draw(rng);
    const start = this.offsets[b]!;
    return this.items[start + rng.int(this.offsets[b + 1]! - start)]!;
  }

  /**
   * `n` items, independently, with replacement. With `exclude`, an excluded draw is redrawn whole
   * (bucket and item), which samples exactly the original distribution conditioned on "not excluded":
   * a fully excluded bucket simply never yields, and its mass goes to the others pro rata. After
   * MAX_REJECTIONS failed redraws (exclusion covers nearly all the weight) the draw falls back to a
   * scan from a random position of the last drawn bucket through the buckets with weight, taking the
   * first allowed item — no longer exact, but bounded. If no item with weight is allowed, throws.
   */
  draw(n: number, rng: Rng, exclude?: Exclusion): Int32Array {
    return this.drawInto(new Int32Array(n), rng, exclude);
  }

  /** As draw(), filling `out` (reuse one buffer across training steps). */
  drawInto(out: Int32Array, rng: Rng, exclude?: Exclusion): Int32Array {
    if (!exclude) {
      for (let i = 0; i < out.length; i++) out[i] = this.drawOne(rng);
      return out;
    }
    const isExcluded = exclude instanceof Set ? (idx: number): boolean => exclude.has(idx) : exclude;
    for (let i = 0; i < out.length; i++) {
      let item = this.drawOne(rng);
      for (let tries = 1; isExcluded(item) && tries < MAX_REJECTIONS; tries++) item = this.drawOne(rng);
      out[i] = isExcluded(item) ? this.scanAllowed(rng, isExcluded) : item;
    }
    return out;
  }

  private scanAllowed(rng: Rng, isExcluded: (idx: number) => boolean): number {
    const buckets = this.weights.length;
    const first = this.table.draw(rng);
    for (let k = 0; k < buckets; k++) {
      const b = (first + k) % buckets;
      if (this.weights[b] === 0) continue;
      const start = this.offsets[b]!;
      const size = this.offsets[b + 1]! - start;
      const from = rng.int(size);
      for (let j = 0; j < size; j++) {
        const item = this.items[start + ((from + j) % size)]!;
        if (!isExcluded(item)) return item;
      }
    }
    throw new UserError('negative sampler: every item in a bucket with weight is excluded');
  }
}
