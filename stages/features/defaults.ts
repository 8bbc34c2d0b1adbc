// Missing-value defaults, vocab sizes and coverage per feature id (SPEC §4 features). A value of 0
// is "missing" everywhere (ids are re-indexed from 1). Defaults: sparse and time features take
// their most frequent non-zero value (the first of the top 3 by count; ties go to the smaller
// value, so the choice is deterministic), not 0; arrays [0]; continuous 0; multimodal the zero
// vector (written as 0). Counts accumulate shard by shard.
import type { FeatureKind } from '../../core/artifacts/artifacts.ts';
import type { TypedArray } from '../../core/artifacts/arrow-io.ts';

export type { FeatureKind };

export interface FeatureSummary {
  kind: FeatureKind;
  default: number | number[];
  /** up to three [value, count] pairs, most frequent first (ties: smaller value first) */
  top3: [number, number][];
  /** largest value seen + 1 (discrete kinds only; 0 for continuous and multimodal) */
  observedVocab: number;
  /** fraction of rows with a non-missing value */
  coverage: number;
}

/** Counts of non-zero integer values plus how many rows had any; grows to the largest value seen. */
export class ValueCounter {
  private counts = new Float64Array(16);
  private maxValue = 0;
  rows = 0;
  present = 0;

  private grow(v: number): void {
    let len = this.counts.length;
    while (len <= v) len *= 2;
    const next = new Float64Array(len);
    next.set(this.counts);
    this.counts = next;
  }

  private count(v: number): void {
    if (v >= this.counts.length) this.grow(v);
    this.counts[v]!++;
    if (v > this.maxValue) this.maxValue = v;
  }

  /** One value per row; rows with 0 (or a negative value, which no artifact should hold) are missing. */
  addFlat(values: TypedArray, from = 0, to = values.length): void {
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      if (v > 0) {
        this.count(v);
        this.present++;
      }
    }
    this.rows += Math.max(0, to - from);
  }

  /** One list per row; a row is present when any element is non-zero. */
  addLists(offsets: Int32Array, values: Int32Array, from = 0, to = offsets.length - 1): void {
    for (let r = from; r < to; r++) {
      let any = false;
      for (let j = offsets[r]!; j < offsets[r + 1]!; j++) {
        const v = values[j]!;
        if (v > 0) {
          this.count(v);
          any = true;
        }
      }
      if (any) this.present++;
    }
    this.rows += Math.max(0, to - from);
  }

  /** Rows counted as present when `flags[i]` ≠ 0 (multimodal has_f<fid>, continuous ≠ 0). */
  addPresence(flags: ArrayLike<number>, from = 0, to = flags.length): void {
    for (let i = from; i < to; i++) if (flags[i] !== 0) this.present++;
    this.rows += Math.max(0, to - from);
  }

  /** Up to `k` [value, count] pairs, most frequent first, ties to the smaller value. */
  topValues(k: number): [number, number][] {
    const top: [number, number][] = [];
    for (let v = 1; v <= this.maxValue; v++) {
      const n = this.counts[v]!;
      if (n === 0) continue;
      // Scanning values in ascending order and inserting only on a strictly larger count keeps ties stable.
      let at = top.length;
      while (at > 0 && top[at - 1]![1] < n) at--;
      if (at < k) {
        top.splice(at, 0, [v, n]);
        if (top.length > k) top.pop();
      }
    }
    return top;
  }

  summarize(kind: FeatureKind): FeatureSummary {
    const top3 = kind === 'mm' || kind === 'item_continuous' ? [] : this.topValues(3);
    return {
      kind,
      default: defaultFor(kind, top3),
      top3,
      observedVocab: top3.length > 0 ? this.maxValue + 1 : 0,
      coverage: this.rows > 0 ? this.present / this.rows : 0,
    };
  }
}

/** The missing default of a feature of `kind` given its top values. */
export function defaultFor(kind: FeatureKind, top3: [number, number][]): number | number[] {
  switch (kind) {
    case 'user_sparse':
    case 'item_sparse':
    case 'time':
      return top3.length > 0 ? top3[0]![0] : 0;
    case 'user_array':
    case 'item_array':
      return [0];
    case 'item_continuous':
    case 'mm':
      return 0;
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** One ValueCounter per feature id, remembering each id's kind; summaries in ascending fid order. */
export class FeatureCounters {
  private readonly byFid = new Map<string, { kind: FeatureKind; counter: ValueCounter }>();

  counter(fid: string, kind: FeatureKind): ValueCounter {
    let entry = this.byFid.get(fid);
    if (!entry) this.byFid.set(fid, (entry = { kind, counter: new ValueCounter() }));
    return entry.counter;
  }

  summaries(): Map<string, FeatureSummary> {
    const fids = [...this.byFid.keys()].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
    return new Map(fids.map((fid) => {
      const { kind, counter } = this.byFid.get(fid)!;
      return [fid, counter.summarize(kind)];
    }));
  }
}
