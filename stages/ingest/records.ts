// Validation of one line of seq.jsonl or predict_seq.jsonl (one user): a JSON array of records
// [user_id, item_id, user_feature, item_feature, action_type, timestamp] (SPEC §3), turned into
// typed arrays. Item records carry item_id/item_feature/action; the user-profile record carries
// only user_feature and may sit anywhere in the line — its timestamp is never an event time (in the
// real data it lies after the last item and would leak the target's time).
// The record structure is checked the same way for both files; how the cells that may differ are read
// (the user id, the item id, feature values) is the caller's CellRules: seqRules here, strict, and
// predict-rules.ts for what SPEC §3 allows in predict_seq.jsonl.
// Errors are thrown as LineError(what) naming the record and field; the caller adds file:line.

/** What a line is checked against, all taken from indexer.pkl. */
export interface RecordLimits {
  userCount: number;
  itemCount: number;
  /** vocab size per feature id (max re-id + 1); a feature id not in here is unknown */
  vocab: ReadonlyMap<string, number>;
}

/** What parsing learns about the feature layout (feature kinds are data, not hard-coded lists). */
export interface FidsSeen {
  /** fids used in item records' item_feature */
  item: Set<string>;
}

/** A user-profile feature value: a sparse id, or an array feature's ids. */
export type ProfileValue = number | number[];

/** A feature dict as written in a record (checked value by value by the CellRules). */
export type RawFeatures = Record<string, unknown>;

export interface ParsedLine<U = number> {
  /** the line's user, as the CellRules read it (seq.jsonl: the user re-id) */
  user: U;
  /** [N] item idx per item record, in record order */
  items: Int32Array;
  /** [N] action_type */
  actions: Int8Array;
  /** [N] Unix seconds, non-decreasing */
  ts: Uint32Array;
  /** the profile record's features, or null when the line has none (absent, null or {}) */
  profile: Map<string, ProfileValue> | null;
}

/** How the cells that differ between seq.jsonl and predict_seq.jsonl are read; each throws LineError. */
export interface CellRules<U> {
  /** a record's user_id cell → the user (every record of a line must give the same) */
  user(cell: unknown, where: string): U;
  /** an item record's item_id with its item_feature (an object, or null) → the item idx */
  item(cell: unknown, features: RawFeatures | null, where: string): number;
  /** a user_feature value → what the users table keeps; undefined leaves the feature out */
  profileValue(fid: string, value: unknown, where: string): ProfileValue | undefined;
}

export class LineError extends Error {}

const ARITY = 6;
const MAX_ACTION = 2; // 0 exposure, 1 click, 2 conversion (SPEC §3)
const MAX_TS = 0xffffffff; // stored as uint32

export function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? s.slice(0, 37) + '...' : s;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

export function isDict(v: unknown): v is RawFeatures {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkFeatureValue(where: string, fid: string, v: unknown, limits: RecordLimits): number {
  // JSON.stringify: a feature id is arbitrary JSON text (a newline in it must not split the one-line error)
  const key = JSON.stringify(fid);
  if (!isInt(v) || v < 0) throw new LineError(`${where}[${key}] must be an int >= 0, got ${show(v)}`);
  const size = limits.vocab.get(fid);
  if (size === undefined) throw new LineError(`${where}: feature id ${key} is not in indexer.pkl 'f'`);
  if (v >= size) throw new LineError(`${where}[${key}] = ${v} is past the indexer's vocab (max re-id ${size - 1})`);
  return v;
}

/** seq.jsonl's rules: ids the indexer re-indexed, every feature value an id within its vocab. */
export function seqRules(limits: RecordLimits, seen: FidsSeen): CellRules<number> {
  return {
    user(u, where) {
      if (!isInt(u) || u < 1 || u > limits.userCount) throw new LineError(`${where}: user_id must be an int in 1..${limits.userCount}, got ${show(u)}`);
      return u;
    },
    item(item, features, where) {
      if (!isInt(item) || item < 1 || item > limits.itemCount) throw new LineError(`${where}: item_id must be an int in 1..${limits.itemCount}, got ${show(item)}`);
      for (const fid in features) {
        checkFeatureValue(`${where}.item_feature`, fid, features[fid], limits);
        seen.item.add(fid);
      }
      return item;
    },
    profileValue(fid, v, where) {
      return Array.isArray(v) ? v.map((x) => checkFeatureValue(where, fid, x, limits)) : checkFeatureValue(where, fid, v, limits);
    },
  };
}

/** The profile's features as the rules keep them; null when the record has none (a dict without keys). */
function parseProfile<U>(where: string, dict: RawFeatures, rules: CellRules<U>): Map<string, ProfileValue> | null {
  const out = new Map<string, ProfileValue>();
  for (const [fid, v] of Object.entries(dict)) {
    const kept = rules.profileValue(fid, v, where);
    if (kept !== undefined) out.set(fid, kept);
  }
  return Object.keys(dict).length > 0 ? out : null;
}

/** Checks one parsed JSON line and returns its item records as typed arrays. */
export function parseLine<U>(value: unknown, rules: CellRules<U>): ParsedLine<U> {
  if (!Array.isArray(value)) throw new LineError(`expected a JSON array of records, got ${show(value)}`);
  if (value.length === 0) throw new LineError('empty record list (no user id)');
  let n = 0;
  for (const r of value) if (Array.isArray(r) && r[1] !== null) n++;
  const items = new Int32Array(n);
  const actions = new Int8Array(n);
  const ts = new Uint32Array(n);
  let user: U | undefined;
  let profile: Map<string, ProfileValue> | null = null;
  let profileSeen = false;
  let k = 0;
  for (let r = 0; r < value.length; r++) {
    const rec: unknown = value[r];
    const where = `record[${r}]`;
    if (!Array.isArray(rec) || rec.length !== ARITY) {
      throw new LineError(`${where}: expected ${ARITY} fields [user_id, item_id, user_feature, item_feature, action_type, timestamp], got ${show(rec)}`);
    }
    const [cell, item, userFeat, itemFeat, action, t] = rec as unknown[];
    const u = rules.user(cell, where);
    if (user === undefined) user = u;
    else if (u !== user) throw new LineError(`${where}: user_id ${show(cell)} differs from the line's user_id ${show(user)}`);
    if (!isInt(t) || t < 0 || t > MAX_TS) throw new LineError(`${where}: timestamp must be an int in 0..${MAX_TS}, got ${show(t)}`);
    if (item === null) {
      if (itemFeat !== null || action !== null) throw new LineError(`${where}: a user-profile record (item_id null) must have item_feature and action_type null`);
      if (profileSeen) throw new LineError(`${where}: second user-profile record in the line`);
      profileSeen = true;
      if (userFeat === null) continue;
      if (!isDict(userFeat)) throw new LineError(`${where}: user_feature must be an object or null, got ${show(userFeat)}`);
      profile = parseProfile(`${where}.user_feature`, userFeat, rules);
      continue;
    }
    if (userFeat !== null) throw new LineError(`${where}: an item record must have user_feature null, got ${show(userFeat)}`);
    if (itemFeat !== null && !isDict(itemFeat)) throw new LineError(`${where}: item_feature must be an object or null, got ${show(itemFeat)}`);
    items[k] = rules.item(item, itemFeat, where);
    if (!isInt(action) || action < 0 || action > MAX_ACTION) throw new LineError(`${where}: action_type must be 0, 1 or 2, got ${show(action)}`);
    if (k > 0 && t < ts[k - 1]!) throw new LineError(`${where}: timestamp ${t} is before the previous item record's ${ts[k - 1]}`);
    actions[k] = action;
    ts[k] = t;
    k++;
  }
  return { user: user!, items, actions, ts, profile };
}
