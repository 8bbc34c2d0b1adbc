// Test-target evaluation (SPEC §7): per user, the query after the whole test history (every event before
// the Role.test event), ranked exactly against every item; with exclude_history the user's history items
// are never ranked, except the target itself. The popularity baseline ranks the same targets with the
// same exclusions, so the two sets of numbers are comparable target for target.
import type { SequenceModel } from '../../core/model/sequence-model.ts';
import { popularityOrder, popularityRanks } from '../../core/ranking/popularity.ts';
import { cutSequences, historyItems, selectCuts } from '../../core/sequences/cut.ts';
import type { Manifests } from '../../core/sequences/feature-schema.ts';
import type { ItemStore } from '../../core/sequences/item-store.ts';
import { readUserShard, shardNames } from '../../core/sequences/user-shards.ts';
import { gemmItems, rankOfGemm } from '../../core/ranking/rank-gemm.ts';
import { allRows, embedItems } from '../../core/sequences/item-embeddings.ts';
import { encodeQueries } from '../../core/sequences/queries.ts';

export interface RankTestOptions {
  excludeHistory: boolean;
  itemChunk: number; // items per target-tower call and per ranking block (eval_item_chunk)
  queryBatch: number; // sequences per model call
}

export interface TestData {
  ingestDir: string;
  featuresDir: string;
  manifests: Manifests;
  store: ItemStore; // built with the model's feature schema
}

export interface TestRanks {
  /** [T] 1-based rank of each test target, in shard order then user order */
  model: Int32Array;
  popularity: Int32Array;
  /** [T] per target, in the same order: its item, the item records before it (the whole history), its action */
  targetItem: Int32Array;
  historyLength: Int32Array;
  targetAction: Int8Array;
  /** users with no test cut (no test target, or an unknown target item) */
  skippedUsers: number;
}

/** Exact ranks of every test target under the model and under popularity (`counts` [items + 1]). */
export function rankTestTargets(model: SequenceModel, data: TestData, counts: Int32Array, o: RankTestOptions, onProgress: (done: number) => void = () => {}): TestRanks {
  const c = model.config;
  const D = c.hiddenUnits;
  const items = embedItems(model, (rows) => data.store.targetItems(rows), allRows(data.store.rows), o.itemChunk); // [I, D]
  const prepared = gemmItems(items, D); // normed once for every batch (and uploaded once if the device counts)
  const byCount = popularityOrder(counts); // sorted once for every batch (4.8M items: seconds)
  const modelRanks: Int32Array[] = [];
  const popularity: Int32Array[] = [];
  const targetItems: Int32Array[] = [];
  const historyLength: Int32Array[] = [];
  const targetAction: Int8Array[] = [];
  let skippedUsers = 0;
  let done = 0;
  for (const name of shardNames(data.manifests)) {
    const shard = readUserShard(data.ingestDir, data.featuresDir, name, data.manifests, data.store.schema);
    const test = cutSequences('test', shard, c.maxlen);
    skippedUsers += test.skipped;
    for (let start = 0; start < test.count; start += o.queryBatch) {
      const cuts = selectCuts(test, Int32Array.from({ length: Math.min(o.queryBatch, test.count - start) }, (_, i) => start + i));
      const { queries, targetItem } = encodeQueries(model, cuts, shard, data.store);
      const exclude = o.excludeHistory ? (k: number): Int32Array => historyItems(cuts, shard, k) : undefined;
      modelRanks.push(rankOfGemm(queries, items, D, targetItem, { exclude, chunkItems: o.itemChunk }, prepared));
      popularity.push(popularityRanks(byCount, targetItem, { exclude }));
      targetItems.push(Int32Array.from(targetItem));
      historyLength.push(Int32Array.from({ length: cuts.count }, (_, k) => cuts.historyEnd[k]! - cuts.historyStart[k]!));
      targetAction.push(Int8Array.from({ length: cuts.count }, (_, k) => shard.action[cuts.target[k]!]!));
      done += cuts.count;
      onProgress(done);
    }
  }
  prepared.dispose();
  return {
    model: concat(modelRanks, Int32Array), popularity: concat(popularity, Int32Array),
    targetItem: concat(targetItems, Int32Array), historyLength: concat(historyLength, Int32Array), targetAction: concat(targetAction, Int8Array),
    skippedUsers,
  };
}

function concat<T extends Int32Array | Int8Array>(parts: T[], Type: new (n: number) => T): T {
  const out = new Type(parts.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of parts) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}
