// The ten item dynamic features (SPEC §4 features), counted over training-visible events only
// (Role.train): validation/test targets and the events after them never reach these counts, so
// no target leaks into the target branch of the model.
//
// Counting: every record is one impression with its outcome (the real sample logs a clicked item as a
// single action-1 record, with no separate action-0 record), so
//   exposures = training records of the item, clicks = records with action ≥ 1 (a conversion is also
//   a click), conversions = records with action 2.
// Features (float32 continuous, int32 tiers/flags; item 0 = padding row, all zeros):
//   dyn_log_exposures, dyn_log_clicks, dyn_log_conversions, dyn_log_users  log1p(count); users are distinct
//   dyn_ctr            (clicks + α) / (exposures + α + β), Beta prior with mean = global training CTR p and
//                      PRIOR_STRENGTH pseudo-exposures: α = p·m, β = (1 − p)·m; unseen items get p
//   dyn_exposure_tier  decile 1..10 of exposures among items seen in training (0 = unseen): 1 + ⌊10·below/seen⌋,
//                      below = seen items with strictly fewer exposures, so ties share a tier
//   dyn_ctr_tier       the same over dyn_ctr
//   dyn_anomaly        1 when exposures ≥ 20 and the binomial z-score (clicks − n·p)/√(n·p(1−p)) > 3, or
//                      clicks > exposures (cannot happen with the counting above; kept as the spec's
//                      guard for inconsistent counts)
//   dyn_hot            1 when fewer than 1% of seen items have strictly more exposures (top 1%, ties kept)
//   dyn_log_days_since_seen  log1p(days from the item's last training event to the training cut-off =
//                      max ts of all training events); unseen items: log1p(training span in days + 1),
//                      i.e. older than anything seen
import { Role } from '../../core/artifacts/artifacts.ts';
import { UserError } from '../../core/stage/errors.ts';

/** Pseudo-exposures of the Beta prior: an item needs about this many exposures to move far from p. */
export const PRIOR_STRENGTH = 20;
const ANOMALY_MIN_EXPOSURES = 20;
const ANOMALY_Z = 3;
const HOT_FRACTION = 0.01;

export const DYNAMIC_FEATURES = [
  'dyn_log_exposures', 'dyn_log_clicks', 'dyn_log_conversions', 'dyn_ctr', 'dyn_exposure_tier',
  'dyn_ctr_tier', 'dyn_anomaly', 'dyn_log_users', 'dyn_hot', 'dyn_log_days_since_seen',
] as const;
export type DynamicFeature = (typeof DYNAMIC_FEATURES)[number];
type IntDynamic = 'dyn_exposure_tier' | 'dyn_ctr_tier' | 'dyn_anomaly' | 'dyn_hot';

/** One value per item idx 0..itemCount (row 0 = padding). */
export type ItemDynamicColumns = { [F in DynamicFeature]: F extends IntDynamic ? Int32Array : Float32Array };

/** Vocab sizes of the discrete dynamic features, for an embedding lookup. */
export const DYNAMIC_VOCAB = { dyn_exposure_tier: 11, dyn_ctr_tier: 11, dyn_anomaly: 2, dyn_hot: 2 } as const;

export interface ItemDynamic {
  columns: ItemDynamicColumns;
  /** one row: the features of an item without training-visible events (every unseen item has these) */
  unseen: ItemDynamicColumns;
  /** max ts among training events (0 when there are none) */
  trainCutoffTs: number;
  globalCtr: number;
  prior: { alpha: number; beta: number };
  seenItems: number;
  trainEvents: number;
}

/** Per-item counters filled shard by shard; memory is a few int arrays of the item count. */
export class ItemDynamicAccumulator {
  private readonly exposures: Int32Array;
  private readonly clicks: Int32Array;
  private readonly conversions: Int32Array;
  private readonly users: Int32Array;
  private readonly lastUser: Int32Array; // last user counted per item: users are contiguous, so distinct = changes
  private readonly lastSeen: Uint32Array;
  private firstTs = Infinity;
  private cutoffTs = 0;
  private trainEvents = 0;

  constructor(readonly itemCount: number) {
    const n = itemCount + 1;
    this.exposures = new Int32Array(n);
    this.clicks = new Int32Array(n);
    this.conversions = new Int32Array(n);
    this.users = new Int32Array(n);
    this.lastUser = new Int32Array(n).fill(-1);
    this.lastSeen = new Uint32Array(n);
  }

  /** Counts the Role.train events of one shard (columns of equal length, users contiguous). */
  add(user: Int32Array, item: Int32Array, action: Int8Array, ts: Uint32Array, role: Int8Array): void {
    for (let i = 0; i < item.length; i++) {
      if (role[i] !== Role.train) continue;
      const it = item[i]!;
      if (it === 0) continue; // unknown item: nothing to attach the counts to
      if (it < 0 || it > this.itemCount) throw new UserError(`event item idx ${it} outside 1..${this.itemCount}`);
      const a = action[i]!;
      const t = ts[i]!;
      this.exposures[it]++;
      if (a >= 1) this.clicks[it]++;
      if (a === 2) this.conversions[it]++;
      if (this.lastUser[it] !== user[i]) {
        this.lastUser[it] = user[i]!;
        this.users[it]++;
      }
      if (t > this.lastSeen[it]!) this.lastSeen[it] = t;
      if (t > this.cutoffTs) this.cutoffTs = t;
      if (t < this.firstTs) this.firstTs = t;
      this.trainEvents++;
    }
  }

  finish(): ItemDynamic {
    return computeItemDynamic(this.exposures, this.clicks, this.conversions, this.users, this.lastSeen, {
      firstTs: this.trainEvents > 0 ? this.firstTs : 0,
      cutoffTs: this.cutoffTs,
      trainEvents: this.trainEvents,
    });
  }
}

/** For each value of `values[i]` with seen[i]: how many seen values are strictly below / above it. */
function makeRanker(values: ArrayLike<number>, seen: Int32Array): { below(v: number): number; above(v: number): number; count: number } {
  const sorted = new Float64Array(values.length);
  let count = 0;
  for (let i = 1; i < values.length; i++) if (seen[i]! > 0) sorted[count++] = values[i]!;
  const s = sorted.subarray(0, count).sort();
  const lowerBound = (v: number): number => {
    let lo = 0, hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const upperBound = (v: number): number => {
    let lo = 0, hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return { below: lowerBound, above: (v) => count - upperBound(v), count };
}

/** What every item's first-pass features are computed from: the training totals and time window. */
interface DynamicContext {
  p: number; // global training CTR
  alpha: number;
  beta: number;
  unseenDays: number; // dyn_log_days_since_seen of an item without training events
  cutoffTs: number;
}

/** Row `i` of `c`: the features of one item that need no ranking (tiers and hot come after). Returns its unrounded CTR. */
function fillCountFeatures(c: ItemDynamicColumns, i: number, counts: { e: number; k: number; conversions: number; users: number; lastSeen: number }, x: DynamicContext): number {
  const { e, k } = counts;
  const ctr = (k + x.alpha) / (e + x.alpha + x.beta);
  c.dyn_ctr[i] = ctr;
  c.dyn_log_exposures[i] = Math.log1p(e);
  c.dyn_log_clicks[i] = Math.log1p(k);
  c.dyn_log_conversions[i] = Math.log1p(counts.conversions);
  c.dyn_log_users[i] = Math.log1p(counts.users);
  const sd = Math.sqrt(e * x.p * (1 - x.p));
  const z = sd > 0 ? (k - e * x.p) / sd : 0;
  c.dyn_anomaly[i] = (e >= ANOMALY_MIN_EXPOSURES && z > ANOMALY_Z) || k > e ? 1 : 0;
  c.dyn_log_days_since_seen[i] = e > 0 ? Math.log1p((x.cutoffTs - counts.lastSeen) / 86400) : x.unseenDays;
  return ctr;
}

function emptyColumns(n: number): ItemDynamicColumns {
  return {
    dyn_log_exposures: new Float32Array(n), dyn_log_clicks: new Float32Array(n), dyn_log_conversions: new Float32Array(n),
    dyn_ctr: new Float32Array(n), dyn_exposure_tier: new Int32Array(n), dyn_ctr_tier: new Int32Array(n),
    dyn_anomaly: new Int32Array(n), dyn_log_users: new Float32Array(n), dyn_hot: new Int32Array(n),
    dyn_log_days_since_seen: new Float32Array(n),
  } satisfies ItemDynamicColumns;
}

/** The ten features from per-item counts (index = item idx, row 0 = padding). Pure. */
export function computeItemDynamic(
  exposures: Int32Array,
  clicks: Int32Array,
  conversions: Int32Array,
  users: Int32Array,
  lastSeen: Uint32Array,
  window: { firstTs: number; cutoffTs: number; trainEvents: number },
): ItemDynamic {
  const n = exposures.length;
  const c = emptyColumns(n);
  let totalExposures = 0, totalClicks = 0;
  for (let i = 1; i < n; i++) {
    totalExposures += exposures[i]!;
    totalClicks += clicks[i]!;
  }
  const p = totalExposures > 0 ? totalClicks / totalExposures : 0;
  const alpha = p * PRIOR_STRENGTH;
  const beta = (1 - p) * PRIOR_STRENGTH;
  const x: DynamicContext = { p, alpha, beta, unseenDays: Math.log1p((window.cutoffTs - window.firstTs) / 86400 + 1), cutoffTs: window.cutoffTs };

  const ctr = new Float64Array(n); // tiers rank the unrounded values
  for (let i = 1; i < n; i++) {
    ctr[i] = fillCountFeatures(c, i, { e: exposures[i]!, k: clicks[i]!, conversions: conversions[i]!, users: users[i]!, lastSeen: lastSeen[i]! }, x);
  }
  // An item without training events (a cold creative of the predict files) is ranked nowhere: its tiers and hot flag stay 0.
  const unseen = emptyColumns(1);
  fillCountFeatures(unseen, 0, { e: 0, k: 0, conversions: 0, users: 0, lastSeen: 0 }, x);

  const byExposure = makeRanker(exposures, exposures);
  const byCtr = makeRanker(ctr, exposures);
  const seen = byExposure.count;
  for (let i = 1; i < n; i++) {
    const e = exposures[i]!;
    if (e === 0) continue;
    c.dyn_exposure_tier[i] = 1 + Math.floor((10 * byExposure.below(e)) / seen);
    c.dyn_ctr_tier[i] = 1 + Math.floor((10 * byCtr.below(ctr[i]!)) / seen);
    c.dyn_hot[i] = byExposure.above(e) < HOT_FRACTION * seen ? 1 : 0;
  }
  return {
    columns: c,
    unseen,
    trainCutoffTs: window.cutoffTs,
    globalCtr: p,
    prior: { alpha, beta },
    seenItems: seen,
    trainEvents: window.trainEvents,
  };
}
