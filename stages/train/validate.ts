// Validation during training (SPEC §7 on the validation targets): each user's query after the
// training history, ranked exactly against every item (history items excluded when
// exclude_history), summarised as HR/NDCG@K, MRR and Score.
import { type RankMetrics, RankMetricsAccumulator } from '../../core/ranking/metrics.ts';
import type { SequenceModel } from '../../core/model/sequence-model.ts';
import { historyItems, selectCuts } from '../../core/sequences/cut.ts';
import { allRows, embedItems } from '../../core/sequences/item-embeddings.ts';
import { QUERY_BATCH, encodeQueries } from '../../core/sequences/queries.ts';
import { gemmItems, rankOfGemm } from '../../core/ranking/rank-gemm.ts';
import type { TrainData } from './train-data.ts';

export interface ValidateOptions {
  excludeHistory: boolean;
  itemChunk: number; // items per target-branch call and per ranking block
}

/**
 * Metrics of the current model on every validation target. `onProgress(done)` is called after each query batch
 * with the targets ranked so far (at TencentGR-1M's size a validation runs for an hour: the stage reports it).
 */
export function validate(model: SequenceModel, data: TrainData, o: ValidateOptions, onProgress: (done: number) => void = () => {}): RankMetrics {
  const c = model.config;
  const D = c.hiddenUnits;
  const items = embedItems(model, (rows) => data.store.targetItems(rows), allRows(data.store.rows), o.itemChunk); // [I, D]
  const prepared = gemmItems(items, D); // normed once for every batch (and uploaded once if the device counts)
  const acc = new RankMetricsAccumulator();
  for (const name of data.shards) {
    const { shard, valid } = data.load(name);
    for (let start = 0; start < valid.count; start += QUERY_BATCH) {
      const cuts = selectCuts(valid, Int32Array.from({ length: Math.min(QUERY_BATCH, valid.count - start) }, (_, i) => start + i));
      const { queries, targetItem } = encodeQueries(model, cuts, shard, data.store); // the same queries evaluate ranks
      const exclude = o.excludeHistory ? (k: number): Int32Array => historyItems(cuts, shard, k) : undefined;
      acc.add(rankOfGemm(queries, items, D, targetItem, { exclude, chunkItems: o.itemChunk }, prepared));
      onProgress(acc.count);
    }
  }
  prepared.dispose();
  return acc.result();
}
