// Where each user's sequence is cut, for every split (SPEC §4 leave-last-out; §6 positives):
//   train  history = the Role.train events but the last; positives = the next item at every position
//          (the user token's positive is the first kept history item, the last history item's is the
//          last training event). Never touches the validation or test target.
//   valid  history = the Role.train events; target = the Role.valid event.
//   test   history = every event before the Role.test event (train, valid, between); target = it.
// Only the last `maxlen` history events become tokens; the whole history stays available for
// "exclude history" in ranking. A cut is a set of event ranges into one UserShard, no copies.
import { Role } from '../artifacts.ts';
import type { UserShard } from './user-shards.ts';

export type Split = 'train' | 'valid' | 'test';

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

/** One cut per user of the shard that has one for `split`, in shard row order. */
export function cutSequences(split: Split, shard: UserShard, maxlen: number): Cuts {
  const U = shard.users;
  const userRow = new Int32Array(U);
  const historyStart = new Int32Array(U);
  const windowStart = new Int32Array(U);
  const historyEnd = new Int32Array(U);
  const target = new Int32Array(U);
  let c = 0;
  for (let r = 0; r < U; r++) {
    const start = shard.eventStart[r]!;
    const end = shard.eventEnd[r]!;
    let t: number;
    switch (split) {
      case 'train': {
        // Role.train events form a prefix of the user's events (roles follow the sequence order).
        let trainEnd = start;
        while (trainEnd < end && shard.role[trainEnd] === Role.train) trainEnd++;
        t = trainEnd - 1;
        if (t < start || !hasKnownItem(shard.item, Math.max(start, t - maxlen), t + 1)) continue;
        break;
      }
      case 'valid':
        t = findRole(shard.role, start, end, Role.valid);
        break;
      case 'test':
        t = findRole(shard.role, start, end, Role.test);
        break;
      default: {
        const never: never = split;
        throw new Error(`unknown split ${String(never)}`);
      }
    }
    if (t < 0 || (split !== 'train' && shard.item[t] === 0)) continue;
    userRow[c] = r;
    historyStart[c] = start;
    historyEnd[c] = t;
    windowStart[c] = Math.max(start, t - maxlen);
    target[c] = t;
    c++;
  }
  return {
    split,
    count: c,
    userRow: userRow.slice(0, c),
    historyStart: historyStart.slice(0, c),
    windowStart: windowStart.slice(0, c),
    historyEnd: historyEnd.slice(0, c),
    target: target.slice(0, c),
    skipped: U - c,
  };
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
