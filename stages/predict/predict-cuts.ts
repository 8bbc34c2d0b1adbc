// Where competition inference cuts a predict user's sequence: nowhere — every item record is history
// (the last `maxlen` become tokens, all of them count for exclude_history), and the query is the state
// after the last one. One cut per user of the shard, in shard row order.
import type { Cuts } from '../../core/sequences/cut.ts';
import type { UserShard } from '../../core/sequences/user-shards.ts';

/** The whole-history cuts of `shard`. There is no target; `target` points at the last record only because Cuts needs an event there. */
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
