// The adapter from the competition's predict files to the one sequence builder (core/sequences): predict
// users become a UserShard whose cuts keep every item record as history, and creatives the indexer never
// saw become extra item-store rows past the catalogue. Those rows carry the creative's own features (from
// predict_set, or its first predict_seq record) and take id 0 in the model (SPEC §3); values the
// vocabularies do not cover (strings, out-of-range ids) map to 0, then to the feature's default like any
// missing value.
import { Role } from '../../core/artifacts/artifacts.ts';
import type { FeatureSchema } from '../../core/model/config.ts';
import { sparseDefault } from '../../core/sequences/columns.ts';
import type { Cuts } from '../../core/sequences/cut.ts';
import { TIME_NEXT_GAP_FID } from '../../core/sequences/feature-schema.ts';
import { ItemStore } from '../../core/sequences/item-store.ts';
import type { UserShard } from '../../core/sequences/user-shards.ts';
import type { Calendar } from '../../core/time/calendar.ts';
import { computeTimeFeatures } from '../../core/time/time-features.ts';
import type { Candidate, PredictUser, RawFeatures } from './predict-files.ts';

type Defaults = Record<string, number | number[]>;

/** A feature value as the model's code: an int in 1..vocab−1, else 0 (missing: strings, unseen ids). */
export function featureCode(v: unknown, vocab: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v < vocab ? v : 0;
}

/** The first `L` codes of an array feature (a scalar counts as a one-value list), 0-padded into out[at..at+L). */
function fillArrayCodes(v: unknown, vocab: number, L: number, out: Int32Array, at: number): void {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  for (let j = 0; j < Math.min(L, list.length); j++) out[at + j] = featureCode(list[j], vocab);
}

/**
 * Item-store rows of the creatives the predict files name: a re-id (1..items) or a creative the indexer
 * maps is its catalogue row; any other creative gets the next row past the catalogue, once.
 */
export class CatalogueRows {
  private readonly coldRow = new Map<number, number>();
  /** the cold creatives in row order (row = items + 1 + position) */
  readonly cold: Candidate[] = [];

  constructor(private readonly itemCount: number, private readonly idxByCreative: ReadonlyMap<unknown, number>) {}

  /** Row of a creative given by its raw id. */
  ofCreative(creativeId: number, features: RawFeatures | null): number {
    const known = this.idxByCreative.get(creativeId);
    if (known !== undefined) return known;
    let row = this.coldRow.get(creativeId);
    if (row === undefined) {
      row = this.itemCount + 1 + this.cold.length;
      this.coldRow.set(creativeId, row);
      this.cold.push({ creativeId, features: features ?? {} });
    }
    return row;
  }

  /** Row of a predict_seq item cell: a re-id when within the item count, else a raw creative id. */
  ofCell(cell: number, features: RawFeatures | null): number {
    return cell <= this.itemCount ? cell : this.ofCreative(cell, features);
  }
}

/**
 * The dynamic-feature row a cold creative takes: that of a catalogue item with no training events (the
 * features stage gives every such item the same values), or row 0 (zeros) when every item was seen.
 */
export function coldDynamicRow(store: ItemStore): number {
  const j = store.schema.dynamicContinuous.indexOf('dyn_log_exposures');
  const Fdc = store.schema.dynamicContinuous.length;
  if (j < 0) return 0;
  for (let r = 1; r < store.rows; r++) if (store.dynamicContinuous[r * Fdc + j] === 0) return r;
  return 0;
}

function appendRows<T extends Int32Array | Float32Array | Float64Array>(base: T, extra: T): T {
  const out = new (base.constructor as { new (n: number): T })(base.length + extra.length);
  out.set(base);
  out.set(extra, base.length);
  return out;
}

/** `base` plus one row per cold creative (rows items + 1 …), built from the creatives' own features. */
export function extendItemStore(base: ItemStore, cold: Candidate[], defaults: Defaults): ItemStore {
  const s = base.schema;
  const C = cold.length;
  const L = s.arrayLen;
  const [Fs, Fa, Fc, Fdd, Fdc] = [s.itemSparse.length, s.itemArray.length, s.itemContinuous.length, s.dynamicDiscrete.length, s.dynamicContinuous.length];
  const sparse = new Int32Array(C * Fs);
  const array = new Int32Array(C * Fa * L);
  const continuous = new Float32Array(C * Fc);
  const dynamicDiscrete = new Int32Array(C * Fdd);
  const dynamicContinuous = new Float32Array(C * Fdc);
  const template = coldDynamicRow(base);
  cold.forEach(({ features }, k) => {
    s.itemSparse.forEach(({ fid, vocab }, j) => {
      sparse[k * Fs + j] = featureCode(features[fid], vocab) || sparseDefault(defaults, fid);
    });
    s.itemArray.forEach(({ fid, vocab }, j) => fillArrayCodes(features[fid], vocab, L, array, (k * Fa + j) * L));
    s.itemContinuous.forEach((fid, j) => {
      const v = features[fid];
      continuous[k * Fc + j] = typeof v === 'number' && Number.isFinite(v) ? v : 0;
    });
    dynamicDiscrete.set(base.dynamicDiscrete.subarray(template * Fdd, (template + 1) * Fdd), k * Fdd);
    dynamicContinuous.set(base.dynamicContinuous.subarray(template * Fdc, (template + 1) * Fdc), k * Fdc);
  });
  return new ItemStore({
    schema: s,
    rows: base.rows + C,
    itemId: appendRows(base.itemId, Float64Array.from(cold, (c) => c.creativeId)),
    itemSparse: appendRows(base.itemSparse, sparse),
    itemArray: appendRows(base.itemArray, array),
    itemContinuous: appendRows(base.itemContinuous, continuous),
    itemMultimodal: base.itemMultimodal.map((m, k) => appendRows(m, new Float32Array(C * s.itemMultimodal[k]!.dim))), // no embedding: zeros
    dynamicDiscrete: appendRows(base.dynamicDiscrete, dynamicDiscrete),
    dynamicContinuous: appendRows(base.dynamicContinuous, dynamicContinuous),
  });
}

/**
 * Predict users as one UserShard (name 'predict'): events in file order with their catalogue rows, the
 * stored time features computed as the features stage does, user-token features with defaults.
 * `userId(cell)` names each user for result.json.
 */
export function buildPredictShard(users: PredictUser[], rows: CatalogueRows, schema: FeatureSchema, defaults: Defaults, calendar: Calendar, userId: (cell: number | string) => string): UserShard {
  const U = users.length;
  const E = users.reduce((n, u) => n + u.itemCells.length, 0);
  const L = schema.arrayLen;
  const [Us, Ua, Ft] = [schema.userSparse.length, schema.userArray.length, schema.timeDiscrete.length];
  const shard: UserShard = {
    name: 'predict',
    users: U,
    userIdx: Int32Array.from({ length: U }, (_, r) => r),
    userId: users.map((u) => userId(u.userCell)),
    eventStart: new Int32Array(U),
    eventEnd: new Int32Array(U),
    item: new Int32Array(E),
    action: new Int8Array(E),
    ts: new Uint32Array(E),
    role: new Int8Array(E).fill(Role.train), // every record is history: there is no target to hold out
    time: new Int32Array(E * Ft),
    hasProfile: new Uint8Array(U),
    userSparse: new Int32Array(U * Us),
    userArray: new Int32Array(U * Ua * L),
    userContinuous: new Float32Array(U * schema.userContinuous.length),
  };
  const eventUser = new Int32Array(E);
  let e = 0;
  users.forEach((u, r) => {
    shard.eventStart[r] = e;
    u.itemCells.forEach((cell, k) => {
      shard.item[e] = rows.ofCell(cell, u.itemFeatures[k]!);
      shard.action[e] = u.actions[k]!;
      shard.ts[e] = u.ts[k]!;
      eventUser[e] = r;
      e++;
    });
    shard.eventEnd[r] = e;
    const profile = u.profile;
    shard.hasProfile[r] = profile ? 1 : 0;
    schema.userSparse.forEach(({ fid, vocab }, j) => {
      shard.userSparse[r * Us + j] = (profile ? featureCode(profile[fid], vocab) : 0) || sparseDefault(defaults, fid);
    });
    if (profile) schema.userArray.forEach(({ fid, vocab }, j) => fillArrayCodes(profile[fid], vocab, L, shard.userArray, (r * Ua + j) * L));
  });
  const { columns } = computeTimeFeatures(eventUser, shard.ts, calendar);
  const stored = columns as unknown as Record<string, Int8Array | Int16Array>;
  schema.timeDiscrete.forEach(({ fid }, j) => {
    const col = stored[fid];
    if (fid === TIME_NEXT_GAP_FID || col === undefined) return; // 204 comes from the cut
    for (let k = 0; k < E; k++) shard.time[k * Ft + j] = col[k]!;
  });
  return shard;
}

/**
 * One cut per predict user: the whole sequence is history (the last `maxlen` records become tokens).
 * There is no target; `target` points at the last record only because Cuts needs an event there.
 */
export function predictCuts(shard: UserShard, maxlen: number): Cuts {
  const U = shard.users;
  const historyEnd = Int32Array.from(shard.eventEnd);
  return {
    split: 'test',
    count: U,
    userRow: Int32Array.from({ length: U }, (_, r) => r),
    historyStart: Int32Array.from(shard.eventStart),
    windowStart: historyEnd.map((end, r) => Math.max(shard.eventStart[r]!, end - maxlen)),
    historyEnd,
    target: historyEnd.map((end, r) => Math.max(shard.eventStart[r]!, end - 1)),
    skipped: 0,
  };
}
