// Competition inference (SPEC §3, §4): each predict user's query (the model's state after their whole
// history) against the candidate set, the 10 best distinct candidate creatives — none the user already has
// in the history when exclude_history — in predict_seq.jsonl order, shard by shard.
import type { SequenceModel } from '../../core/model/sequence-model.ts';
import { gemmItems } from '../../core/ranking/rank-gemm.ts';
import { topKGemm } from '../../core/ranking/topk-gemm.ts';
import { selectCuts } from '../../core/sequences/cut.ts';
import { embedItems } from '../../core/sequences/item-embeddings.ts';
import type { ItemStore } from '../../core/sequences/item-store.ts';
import { encodeQueries } from '../../core/sequences/queries.ts';
import type { UserShard } from '../../core/sequences/user-shards.ts';
import type { Candidates } from './candidates.ts';
import { predictCuts } from './predict-cuts.ts';
import type { PredictResult } from './result-file.ts';

export const TOP_N = 10;

export interface PredictOptions {
  excludeHistory: boolean;
  itemChunk: number;
  /** sequences per model call: bounds the [B, H, N, N] attention tensors; results do not depend on it */
  queryBatch: number;
}

/** What predictTop10 ranks with and over. */
export interface PredictInputs {
  model: SequenceModel;
  store: ItemStore; // the catalogue and the cold creatives, built with the model's schema
  candidates: Candidates;
  shardNames: string[]; // the predict users' shards, in order
  readShard: (name: string) => UserShard; // one shard in memory at a time
}

/** Top-10 candidate creative ids per predict user; only the candidate embeddings [M, D], one shard and the result stay resident. */
export function predictTop10(inputs: PredictInputs, o: PredictOptions, onBatch?: (usersDone: number) => void): PredictResult {
  const { model, store, candidates, shardNames, readShard } = inputs;
  const c = model.config;
  const D = c.hiddenUnits;
  const embeddings = embedItems(model, (r) => store.targetItems(r), candidates.rows, o.itemChunk); // [M, D]
  const candidateOfRow = new Int32Array(store.rows).fill(-1);
  candidates.rows.forEach((row, j) => (candidateOfRow[row] = j));
  const top10s: number[][] = [];
  const user: string[] = [];
  const prepared = gemmItems(embeddings, D); // the candidates on the device once, for every query batch
  try {
    for (const name of shardNames) {
      const shard = readShard(name);
      const cuts = predictCuts(shard, c.maxlen);
      for (let start = 0; start < cuts.count; start += o.queryBatch) {
        const batch = selectCuts(cuts, Int32Array.from({ length: Math.min(o.queryBatch, cuts.count - start) }, (_, i) => start + i));
        const { queries } = encodeQueries(model, batch, shard, store);
        // History items that are candidates, as candidate indices (repeats are harmless to topK).
        const exclude = o.excludeHistory
          ? (q: number): number[] => {
              const out: number[] = [];
              for (let e = batch.historyStart[q]!; e < batch.historyEnd[q]!; e++) {
                const j = candidateOfRow[shard.item[e]!]!;
                if (j >= 0) out.push(j);
              }
              return out;
            }
          : undefined;
        // exact (float64 scores, ties to the lower index) at matrix-multiply speed: core/ranking/topk-gemm.ts
        const top = topKGemm(queries, embeddings, D, TOP_N, { exclude, skipRow0: false, chunkItems: o.itemChunk }, prepared);
        for (let q = 0; q < batch.count; q++) {
          const list: number[] = [];
          for (let j = 0; j < TOP_N; j++) {
            const cand = top.indices[q * TOP_N + j]!;
            if (cand >= 0) list.push(candidates.creativeIds[cand]!);
          }
          top10s.push(list);
        }
        onBatch?.(top10s.length);
      }
      for (const id of shard.userId) user.push(id);
    }
  } finally {
    prepared.dispose();
  }
  return { top10s, user };
}
