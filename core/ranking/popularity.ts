// The popularity baseline (SPEC §7): every user gets the same item scores — training-visible interaction
// counts — ranked with the same rules as the model (core/ranking/topk.ts): higher count first, ties by lower item
// index, row 0 (padding) never a candidate, exclude(q) removed except the target itself.
import { type ExcludeFn, checkExcludedRow } from './topk.ts';

export type PopularityOptions = { exclude?: ExcludeFn; skipRow0?: boolean };

/** Every item's 1-based place in the popularity order (one sort of the catalogue), made once for many query batches. */
export interface PopularityOrder {
  position: Int32Array; // [I]; 0 for rows below `first`
  first: number;
}

/** The popularity order of `counts` [I] (indexed by itemIdx): higher count first, ties by lower index. */
export function popularityOrder(counts: Int32Array | Float64Array, skipRow0 = true): PopularityOrder {
  for (let i = 0; i < counts.length; i++) {
    if (!Number.isFinite(counts[i]!)) throw new Error(`popularity count of item ${i} is ${counts[i]}`);
  }
  const first = skipRow0 ? 1 : 0;
  return { position: rankItemsByCount(counts, first), first };
}

/**
 * Exact 1-based rank of targets[q] for each query under item scores `counts` [I] (indexed by itemIdx), or under
 * their popularityOrder when the caller ranks many batches (at 4.8M items the sort is seconds; a batch's
 * exclusions are microseconds). The cost is O(I log I) for the order + O(Σ|exclude(q)|).
 */
export function popularityRanks(counts: Int32Array | Float64Array | PopularityOrder, targets: ArrayLike<number>, opts: PopularityOptions = {}): Int32Array {
  const { position, first } = 'position' in counts ? counts : popularityOrder(counts, opts.skipRow0 !== false);
  if ('position' in counts && opts.skipRow0 !== undefined && (opts.skipRow0 ? 1 : 0) !== first) throw new Error('popularityRanks: skipRow0 differs from the order\'s');
  const I = position.length;
  const ranks = new Int32Array(targets.length);
  for (let q = 0; q < targets.length; q++) {
    const t = targets[q]!;
    if (!Number.isInteger(t) || t < first || t >= I) throw new Error(`target ${t} of query ${q} is not a candidate item row (${first}..${I - 1})`);
    let rank = position[t]!;
    const list = opts.exclude ? opts.exclude(q) : [];
    const seen = new Set<number>(); // repeats count once
    for (let j = 0; j < list.length; j++) {
      const e = list[j]!;
      checkExcludedRow(q, e, I);
      if (e === t || e < first || seen.has(e)) continue;
      seen.add(e);
      if (position[e]! < position[t]!) rank--;
    }
    ranks[q] = rank;
  }
  return ranks;
}

/** position[i] = 1-based place of item i in the popularity order; 0 for rows below `first`. */
function rankItemsByCount(counts: Int32Array | Float64Array, first: number): Int32Array {
  const order = sortByCount(counts, first);
  const position = new Int32Array(counts.length);
  for (let p = 0; p < order.length; p++) position[order[p]!] = p + 1;
  return position;
}

function sortByCount(counts: Int32Array | Float64Array, first: number): Int32Array {
  const order = new Int32Array(Math.max(0, counts.length - first));
  for (let p = 0; p < order.length; p++) order[p] = first + p;
  return order.sort((a, b) => counts[b]! - counts[a]! || a - b);
}
