// What each training positive's user had already seen (train_exclude_history, SPEC §6): ranking with
// exclude_history never recommends an item of the user's history, so the loss need not teach the model to
// push those items down either. For every positive of a training batch — in the flattened [B, N] order of
// its positions, as the loss takes them — the distinct known items of the user's whole history before it
// (the events before the window too, not only the window's tokens: the set evaluate masks for a target
// at that point). The positive's own item is left out: it stays the target, as a ranked target does.
import type { CutBatch } from './cut-batch.ts';
import type { Cuts } from './cut.ts';
import type { UserShard } from './user-shards.ts';

/** CSR rows, one per positive: the items of positive i are items[ptr[i] .. ptr[i + 1]). */
export interface SeenItems {
  ptr: Int32Array; // [M + 1]
  items: Int32Array; // [ptr[M]]
}

/** The seen items of every positive of `cb`, the batch buildCutBatch made of `cuts` in 'train' mode. */
export function seenBeforePositives(cuts: Cuts, shard: UserShard, cb: CutBatch): SeenItems {
  const N = cb.batch.seqLen;
  if (cb.batch.batchSize !== cuts.count) throw new Error(`seen items: batch of ${cb.batch.batchSize} rows for ${cuts.count} cuts`);
  const ptr: number[] = [0];
  const items: number[] = [];
  for (let b = 0; b < cuts.count; b++) {
    const from = cuts.windowStart[b]!;
    const h = cuts.historyEnd[b]! - from;
    const userPos = b * N + (N - 1 - h); // the user token, as buildCutBatch lays the row out
    const seen = new Set<number>();
    for (let e = cuts.historyStart[b]!; e < from; e++) if (shard.item[e]! > 0) seen.add(shard.item[e]!);
    for (let j = 0; j <= h; j++) {
      const t = userPos + j; // position j predicts event from + j
      if (cb.positives.isPositive[t] === 1) {
        const positive = cb.positives.item[t]!;
        for (const item of seen) if (item !== positive) items.push(item);
        ptr.push(items.length);
      }
      if (j < h && shard.item[from + j]! > 0) seen.add(shard.item[from + j]!);
    }
  }
  return { ptr: Int32Array.from(ptr), items: Int32Array.from(items) };
}
