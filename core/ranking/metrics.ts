// Ranking metrics from the 1-based rank of each target item (SPEC §7): HR@K, NDCG@K for K in 10/50/200,
// MRR and the competition Score = 0.31·HR@10 + 0.69·NDCG@10.
//
// Rank convention (one for every producer — core/ranking/topk.ts rankOf, core/ranking/popularity.ts):
//   r ≥ 1 (integer)   the target's exact 1-based position among the candidate items;
//   0 or Infinity     NOT_RANKED: the target was not retrieved (e.g. outside a computed top-k list).
// A NOT_RANKED target counts in the denominator of every metric and contributes 0 to each.
// MRR is 1/r for every ranked target, so it is the full-rank MRR when ranks are exact (rankOf) and the
// MRR truncated at the list length when ranks come from a top-k list. Metrics are means over targets.
// No targets at all is an error, not zeros: a metrics file of zeros would look like a (bad) result.

export const METRIC_CUTOFFS = [10, 50, 200] as const;
export type Cutoff = (typeof METRIC_CUTOFFS)[number];

/** Largest cutoff: ranks above it only matter to MRR. */
export const MAX_CUTOFF = 200;

/** Rank value meaning "target not retrieved"; Infinity is accepted too. */
export const NOT_RANKED = 0;

export type RankMetrics = { count: number; mrr: number; score: number } & {
  [K in Cutoff as `hr@${K}`]: number;
} & { [K in Cutoff as `ndcg@${K}`]: number };

/** Competition score (the seed's formula). */
export function computeScore(hr10: number, ndcg10: number): number {
  return 0.31 * hr10 + 0.69 * ndcg10;
}

/**
 * Streams ranks batch by batch. It keeps a histogram of ranks 1..200 (enough for every HR/NDCG cutoff and
 * the HR curve) plus Σ1/r, so results do not depend on how targets were split into batches.
 */
export class RankMetricsAccumulator {
  private readonly hist = new Float64Array(MAX_CUTOFF + 1); // [201], hist[r] = targets at rank r
  private reciprocalSum = 0;
  private n = 0;

  /** Adds one batch of ranks (see the rank convention above). */
  add(ranks: ArrayLike<number>): void {
    for (let j = 0; j < ranks.length; j++) {
      const r = ranks[j] as number;
      this.n++;
      if (r === NOT_RANKED || r === Infinity) continue;
      if (!Number.isInteger(r) || r < 1) throw new Error(`invalid rank ${r} (want an integer ≥ 1, or 0/Infinity for not retrieved)`);
      this.reciprocalSum += 1 / r;
      if (r <= MAX_CUTOFF) this.hist[r]! += 1;
    }
  }

  get count(): number {
    return this.n;
  }

  result(): RankMetrics {
    if (this.n === 0) throw new Error('no targets to evaluate: metrics are undefined for an empty set');
    const out: Record<string, number> = { count: this.n };
    let hits = 0;
    let gain = 0;
    let next = 0;
    for (let r = 1; r <= MAX_CUTOFF; r++) {
      hits += this.hist[r]!;
      gain += this.hist[r]! / Math.log2(r + 1);
      if (r === METRIC_CUTOFFS[next]) {
        out[`hr@${r}`] = hits / this.n;
        out[`ndcg@${r}`] = gain / this.n;
        next++;
      }
    }
    out.mrr = this.reciprocalSum / this.n;
    out.score = computeScore(out['hr@10']!, out['ndcg@10']!);
    return out as RankMetrics;
  }

  /** HR@k for k = 1..maxK (maxK ≤ 200), as [maxK] with curve[k-1] = HR@k. */
  hitRateCurve(maxK: number = MAX_CUTOFF): Float64Array {
    if (this.n === 0) throw new Error('no targets to evaluate: the hit-rate curve is undefined for an empty set');
    if (!Number.isInteger(maxK) || maxK < 1 || maxK > MAX_CUTOFF) throw new Error(`maxK must be an integer in 1..${MAX_CUTOFF}, got ${maxK}`);
    const curve = new Float64Array(maxK);
    let hits = 0;
    for (let k = 1; k <= maxK; k++) {
      hits += this.hist[k]!;
      curve[k - 1] = hits / this.n;
    }
    return curve;
  }
}

/** Metrics of one complete set of ranks. */
export function computeRankMetrics(ranks: ArrayLike<number>): RankMetrics {
  const acc = new RankMetricsAccumulator();
  acc.add(ranks);
  return acc.result();
}

/** HR@k for k = 1..maxK over one complete set of ranks; curve[k-1] = HR@k. */
export function hitRateCurve(ranks: ArrayLike<number>, maxK: number = MAX_CUTOFF): Float64Array {
  const acc = new RankMetricsAccumulator();
  acc.add(ranks);
  return acc.hitRateCurve(maxK);
}
