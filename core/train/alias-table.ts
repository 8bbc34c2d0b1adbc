// Walker's alias method (Vose's stable construction): after an O(n) build, one draw from a discrete
// distribution costs one uniform and one comparison, whatever n is. Used to pick a negative bucket.
import type { Rng } from '../random/rng.ts';

export class AliasTable {
  /** [n] chance of keeping column i (else take alias[i]); exactly 0 for a zero weight */
  readonly keep: Float64Array;
  /** [n] the other outcome sharing column i */
  readonly alias: Int32Array;

  private constructor(keep: Float64Array, alias: Int32Array) {
    this.keep = keep;
    this.alias = alias;
  }

  get size(): number {
    return this.keep.length;
  }

  /** Builds the table from non-negative weights (any positive total; normalised here). */
  static build(weights: ArrayLike<number>): AliasTable {
    const n = weights.length;
    if (n === 0) throw new RangeError('AliasTable: no weights');
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`AliasTable: weight ${i} must be finite and >= 0, got ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new RangeError('AliasTable: all weights are zero');

    // scaled[i] = n·p_i: columns below 1 are topped up by one column above 1 (Vose 1991).
    const scaled = new Float64Array(n);
    for (let i = 0; i < n; i++) scaled[i] = (weights[i]! * n) / total;
    const keep = new Float64Array(n);
    const alias = new Int32Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) (scaled[i]! < 1 ? small : large).push(i);
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large[large.length - 1]!;
      keep[s] = scaled[s]!;
      alias[s] = l;
      // (a + b) − 1 rather than a − (1 − b): the stable order for the donor's remainder
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      if (scaled[l]! < 1) small.push(large.pop()!);
    }
    // Leftovers are 1 up to rounding; a zero weight can never be left over (its column would need
    // ~1 of mass from rounding alone), so zero-weight outcomes stay undrawable.
    for (const i of large) {
      keep[i] = 1;
      alias[i] = i;
    }
    for (const i of small) {
      keep[i] = 1;
      alias[i] = i;
    }
    return new AliasTable(keep, alias);
  }

  /** One outcome in [0, size): one 53-bit uniform gives the column (high part) and the coin (fraction). */
  draw(rng: Rng): number {
    const u = rng.next() * this.keep.length;
    const column = Math.floor(u);
    return u - column < this.keep[column]! ? column : this.alias[column]!;
  }

  /** The distribution the table encodes: P(i) = (keep[i] + Σ_{j: alias[j]=i} (1 − keep[j])) / n. */
  impliedProbabilities(): Float64Array {
    const n = this.keep.length;
    const p = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      p[j]! += this.keep[j]! / n;
      p[this.alias[j]!]! += (1 - this.keep[j]!) / n;
    }
    return p;
  }
}
