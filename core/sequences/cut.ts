// Where each user's sequence is cut, for every split (SPEC §4 leave-last-out; §6 positives):
//   train  history = the Role.train events but the last; positives = the next item at every position
//          (the user token's positive is the first kept history item, the last history item's is the
//          last training event). Never touches the validation or test target.
//   valid  history = the Role.train events; target = the Role.valid event.
//   test   history = every event before the Role.test event (train, valid, between); target = it.
// Only the last `maxlen` history events become tokens; the whole history stays available for
// "exclude history" in ranking. A cut is a set of event ranges into one UserShard, no copies.
// Training windows (`train_windows`): `last` = one cut per user, its last `maxlen` training events (the
// seed's); `all` = the user's training events tiled from the end into consecutive windows of `maxlen`, one
// cut each, so every training event is a positive exactly once an epoch however long the user's history.
import { Role } from '../artifacts/artifacts.ts';
import type { UserShard } from './user-shards.ts';

export type Split = 'train' | 'valid' | 'test';
export type TrainWindows = 'last' | 'all';

/** C cuts of one shard, as parallel arrays of event indices into that shard. */
export interface Cuts {
  split: Split;
  count: number; // C
  userRow: Int32Array; // [C] row of the user in the shard
  historyStart: Int32Array; // [C] first event of the whole history
  windowStart: Int32Array; // [C] first history event kept as a token (historyEnd − windowStart ≤ maxlen)
  historyEnd: Int32Array; // [C] one past the last history event
  target: Int32Array; // [C] the target event (train: the last training event, the last position's positive)
  /** users of the shard with no cut for this split (no such target, an unknown target item, or no training events) */
  skipped: number;
}

/** First event of `role` in [from, to), or -1. */
function findRole(role: Int8Array, from: number, to: number, want: Role): number {
  for (let e = from; e < to; e++) if (role[e] === want) return e;
  return -1;
}

/** One cut per user of the shard that has one for `split` (train with `windows: all`: one per window), in
 *  shard row order (a user's windows oldest first). */
export function cutSequences(split: Split, shard: UserShard, maxlen: number, windows: TrainWindows = 'last'): Cuts {
  const U = shard.users;
  const out = new CutList();
  let users = 0;
  for (let r = 0; r < U; r++) {
    const start = shard.eventStart[r]!;
    const end = shard.eventEnd[r]!;
    const before = out.count;
    switch (split) {
      case 'train': {
        // Role.train events form a prefix of the user's events (roles follow the sequence order).
        let trainEnd = start;
        while (trainEnd < end && shard.role[trainEnd] === Role.train) trainEnd++;
        // Window ends (the last position's positive), newest first: the last training event, then every
        // maxlen + 1 events back (a window's maxlen + 1 positives: the user token's, then each history token's).
        const ends: number[] = [];
        for (let t = trainEnd - 1; t >= start; t -= maxlen + 1) {
          ends.push(t);
          if (windows === 'last') break;
        }
        for (let k = ends.length - 1; k >= 0; k--) {
          const t = ends[k]!;
          if (hasKnownItem(shard.item, Math.max(start, t - maxlen), t + 1)) out.push(r, start, Math.max(start, t - maxlen), t);
        }
        break;
      }
      case 'valid':
      case 'test': {
        const t = findRole(shard.role, start, end, split === 'valid' ? Role.valid : Role.test);
        if (t >= 0 && shard.item[t] !== 0) out.push(r, start, Math.max(start, t - maxlen), t);
        break;
      }
      default: {
        const never: never = split;
        throw new Error(`unknown split ${String(never)}`);
      }
    }
    if (out.count > before) users++;
  }
  return out.toCuts(split, U - users);
}

/** Growable parallel arrays of cuts. */
class CutList {
  count = 0;
  private cols = { userRow: new Int32Array(16), historyStart: new Int32Array(16), windowStart: new Int32Array(16), historyEnd: new Int32Array(16) };

  /** A cut whose target is event t: history [historyStart, t), tokens [windowStart, t). */
  push(row: number, historyStart: number, windowStart: number, t: number): void {
    if (this.count === this.cols.userRow.length) {
      for (const k of Object.keys(this.cols) as (keyof CutList['cols'])[]) {
        const grown = new Int32Array(this.count * 2);
        grown.set(this.cols[k]);
        this.cols[k] = grown;
      }
    }
    const c = this.count++;
    this.cols.userRow[c] = row;
    this.cols.historyStart[c] = historyStart;
    this.cols.windowStart[c] = windowStart;
    this.cols.historyEnd[c] = t;
  }

  toCuts(split: Split, skipped: number): Cuts {
    const n = this.count;
    const historyEnd = this.cols.historyEnd.slice(0, n);
    return {
      split,
      count: n,
      userRow: this.cols.userRow.slice(0, n),
      historyStart: this.cols.historyStart.slice(0, n),
      windowStart: this.cols.windowStart.slice(0, n),
      historyEnd,
      target: historyEnd.slice(),
      skipped,
    };
  }
}

/** A training cut needs at least one positive with a known item. */
function hasKnownItem(item: Int32Array, from: number, to: number): boolean {
  for (let e = from; e < to; e++) if (item[e]! > 0) return true;
  return false;
}

/** The distinct known items of cut k's whole history (for exclude_history), ascending. */
export function historyItems(cuts: Cuts, shard: UserShard, k: number): Int32Array {
  const set = new Set<number>();
  for (let e = cuts.historyStart[k]!; e < cuts.historyEnd[k]!; e++) if (shard.item[e]! > 0) set.add(shard.item[e]!);
  return Int32Array.from(set).sort();
}

/** Cuts `order` of `cuts` (a batch, or a shuffled order), as a new Cuts. */
export function selectCuts(cuts: Cuts, order: ArrayLike<number>): Cuts {
  const pick = (a: Int32Array): Int32Array => Int32Array.from({ length: order.length }, (_, i) => a[order[i]!]!);
  return {
    split: cuts.split,
    count: order.length,
    userRow: pick(cuts.userRow),
    historyStart: pick(cuts.historyStart),
    windowStart: pick(cuts.windowStart),
    historyEnd: pick(cuts.historyEnd),
    target: pick(cuts.target),
    skipped: cuts.skipped,
  };
}

/** Adds each training cut's positives (items of events windowStart..target, known items only) to `counts[item]`. */
export function countPositives(cuts: Cuts, shard: UserShard, counts: Float64Array): void {
  for (let k = 0; k < cuts.count; k++) {
    for (let e = cuts.windowStart[k]!; e <= cuts.target[k]!; e++) {
      const item = shard.item[e]!;
      if (item > 0) counts[item]! += 1;
    }
  }
}
