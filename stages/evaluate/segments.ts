// Segment metrics: HR@10, NDCG@10 and the target count of the model and of the popularity baseline over
// subsets of the test targets, so a model is judged by where it wins:
//   target_popularity  the target item's training interactions (the popularity baseline's counts: Role.train
//                      events, any action): cold = 0, then ranges up to each neg_bucket_bounds value, then above
//   history_length     item records before the target (the whole history, not just the last maxlen)
//   target_action      the target's action (click, conversion; exposure only when some target is one)
// An empty segment has count 0 and null metrics (a rate over no targets is undefined, not 0).
import { type RankMetrics, RankMetricsAccumulator } from '../../core/ranking/metrics.ts';

/** Segments of a non-negative integer: segment s holds the values in (upper[s − 1], upper[s]]. */
export interface Segmentation {
  readonly names: readonly string[];
  readonly upper: readonly number[]; // ascending; the last is Infinity
}

export type HeadlineRates = Pick<RankMetrics, 'hr@10' | 'ndcg@10'>;

export interface SegmentMetrics {
  count: number;
  model: HeadlineRates | null;
  popularity: HeadlineRates | null;
}

export type SegmentTable = Record<string, SegmentMetrics>;

export interface Segments {
  target_popularity: SegmentTable;
  history_length: SegmentTable;
  target_action: SegmentTable;
}

/** Per test target, in rank order: what the segments are cut by. */
export interface TargetFacts {
  itemInteractions: ArrayLike<number>; // training interactions of the target's item
  historyLength: ArrayLike<number>; // item records before the target
  action: ArrayLike<number>; // 0 exposure, 1 click, 2 conversion
}

export const HISTORY_BOUNDS = [10, 20, 50] as const;
export const ACTION_NAMES = ['exposure', 'click', 'conversion'] as const;

function rangeName(lo: number, hi: number): string {
  if (hi === Infinity) return `>${lo - 1}`;
  if (lo === 0) return `<=${hi}`;
  return lo === hi ? `${lo}` : `${lo}-${hi}`;
}

/** Consecutive ranges from `from`: [from, b0], [b0 + 1, b1], …, [b_last + 1, ∞); a range that would be empty
 *  (a bound below its start) is left out. Bounds must be ascending integers. */
export function ranges(bounds: readonly number[], from: number): Segmentation {
  const names: string[] = [];
  const upper: number[] = [];
  let lo = from;
  for (const [i, b] of bounds.entries()) {
    if (!Number.isSafeInteger(b) || (i > 0 && b <= bounds[i - 1]!)) throw new Error(`segment bounds must be ascending integers, got [${bounds.join(', ')}]`);
    if (b < lo) continue;
    names.push(rangeName(lo, b));
    upper.push(b);
    lo = b + 1;
  }
  names.push(rangeName(lo, Infinity));
  upper.push(Infinity);
  return { names, upper };
}

/** cold (0 training interactions), then the ranges up to each of `bounds` (neg_bucket_bounds), then above. */
export function popularitySegmentation(bounds: readonly number[]): Segmentation {
  const r = ranges(bounds, 1);
  return { names: ['cold', ...r.names], upper: [0, ...r.upper] };
}

export const HISTORY_SEGMENTATION: Segmentation = ranges(HISTORY_BOUNDS, 0);

/** The segment of `value` (a non-negative integer). */
export function segmentOf(s: Segmentation, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`cannot segment ${value}: want an integer >= 0`);
  let k = 0;
  while (value > s.upper[k]!) k++;
  return k;
}

function rates(acc: RankMetricsAccumulator): HeadlineRates | null {
  if (acc.count === 0) return null;
  const r = acc.result();
  return { 'hr@10': r['hr@10'], 'ndcg@10': r['ndcg@10'] };
}

/** One row per segment name (in `names` order) from each target's segment index and both methods' ranks. */
export function segmentTable(names: readonly string[], segment: ArrayLike<number>, model: Int32Array, popularity: Int32Array): SegmentTable {
  if (segment.length !== model.length || model.length !== popularity.length) {
    throw new Error(`${segment.length} segment indices, ${model.length} model ranks and ${popularity.length} popularity ranks`);
  }
  const acc = names.map(() => ({ model: new RankMetricsAccumulator(), popularity: new RankMetricsAccumulator() }));
  for (let t = 0; t < segment.length; t++) {
    const a = acc[segment[t]!];
    if (!a) throw new Error(`target ${t}: segment ${segment[t]} is not one of 0..${names.length - 1}`);
    a.model.add([model[t]!]);
    a.popularity.add([popularity[t]!]);
  }
  const table: SegmentTable = {};
  names.forEach((name, s) => {
    const a = acc[s]!;
    table[name] = { count: a.model.count, model: rates(a.model), popularity: rates(a.popularity) };
  });
  return table;
}

function bySegmentation(s: Segmentation, values: ArrayLike<number>, model: Int32Array, popularity: Int32Array): SegmentTable {
  return segmentTable(s.names, Int32Array.from({ length: values.length }, (_, t) => segmentOf(s, values[t]!)), model, popularity);
}

function byAction(actions: ArrayLike<number>, model: Int32Array, popularity: Int32Array): SegmentTable {
  const segment = Int32Array.from({ length: actions.length }, (_, t) => {
    const a = actions[t]!;
    if (!Number.isInteger(a) || a < 0 || a >= ACTION_NAMES.length) throw new Error(`target ${t}: action ${a} is not one of 0..${ACTION_NAMES.length - 1}`);
    return a;
  });
  const table = segmentTable(ACTION_NAMES, segment, model, popularity);
  if (table.exposure!.count === 0) delete table.exposure;
  return table;
}

/** Every segment table of the test targets (facts and ranks in the same order). */
export function evaluateSegments(facts: TargetFacts, model: Int32Array, popularity: Int32Array, popularityBounds: readonly number[]): Segments {
  return {
    target_popularity: bySegmentation(popularitySegmentation(popularityBounds), facts.itemInteractions, model, popularity),
    history_length: bySegmentation(HISTORY_SEGMENTATION, facts.historyLength, model, popularity),
    target_action: byAction(facts.action, model, popularity),
  };
}

/** The bar plot's data: HR@10 of both methods per popularity segment with targets (TSV with a header). */
export function popularityHitRateTsv(table: SegmentTable): string {
  const lines = ['target_popularity\ttargets\tmodel\tpopularity'];
  for (const [name, s] of Object.entries(table)) {
    if (s.count === 0) continue;
    lines.push(`${name}\t${s.count}\t${s.model!['hr@10']}\t${s.popularity!['hr@10']}`);
  }
  return lines.join('\n') + '\n';
}
