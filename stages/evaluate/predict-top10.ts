// Competition inference (SPEC §3, §4 evaluate): each predict user's query against the candidate set
// (predict_set.jsonl), the 10 best distinct candidate creatives — none the user already has in the
// history when exclude_history — written as result.json {"top10s": [[creative_id ×10] …], "user": [raw
// user id …]}, one row per predict_seq line in file order.
import type { FeatureSchema } from '../../core/model/config.ts';
import type { SequenceModel } from '../../core/model/sequence-model.ts';
import { selectCuts } from '../../core/sequences/cut.ts';
import type { ItemStore } from '../../core/sequences/item-store.ts';
import { topK } from '../../core/ranking/topk.ts';
import type { Calendar } from '../../core/time/calendar.ts';
import { embedItems } from '../../core/sequences/item-embeddings.ts';
import type { CandidateSet } from './candidate-set.ts';
import { readPredictUserBatches } from './predict-files.ts';
import { type CatalogueRows, buildPredictShard, extendItemStore, predictCuts } from './predict-shard.ts';
import { encodeQueries } from '../../core/sequences/queries.ts';

export const TOP_N = 10;

export interface PredictOptions {
  excludeHistory: boolean;
  itemChunk: number;
  queryBatch: number;
}

/** What predict needs of the indexer (core/taac/indexer.ts IndexerInfo). */
export interface CreativeIndex {
  itemCount: number;
  userRawIds: string[]; // by user re-id
  itemIdxByCid: ReadonlyMap<unknown, number>;
}

/** What predictTop10 ranks with and over. */
export interface PredictInputs {
  model: SequenceModel;
  store: ItemStore; // the catalogue built with the model's schema
  defaults: Record<string, number | number[]>; // the features manifest's per-feature defaults
  calendar: Calendar;
  index: CreativeIndex;
  rows: CatalogueRows; // already holds every cold creative (readCandidateSet, then scanPredictUsers)
  set: CandidateSet;
  seqFile: string; // predict_seq.jsonl
}

export interface PredictResult {
  top10s: number[][];
  user: string[];
  /** repeated creative ids in predict_set.jsonl (the first occurrence is kept) */
  duplicateCandidates: number;
  /** candidates and predict-file creatives the indexer does not know */
  coldCreatives: number;
}

/** The raw user id of a predict_seq user cell: a re-id through the indexer's 'u' map, or the string itself. */
export function rawUserId(cell: number | string, userRawIds: string[]): string {
  if (typeof cell === 'string') return cell;
  return userRawIds[cell] || String(cell);
}

/**
 * First pass over predict_seq.jsonl, before any ranking: checks every line (a bad one stops with file:line)
 * and registers the history creatives the indexer does not know, in file order, so cold rows (and the
 * features each takes from its first record) are fixed before the item store is extended. Returns the user count.
 */
export async function scanPredictUsers(seqFile: string, rows: CatalogueRows, batchSize: number): Promise<number> {
  let users = 0;
  for await (const batch of readPredictUserBatches(seqFile, batchSize)) {
    for (const u of batch) u.itemCells.forEach((cell, k) => rows.ofCell(cell, u.itemFeatures[k]!));
    users += batch.length;
  }
  return users;
}

/**
 * Top-10 candidate creative ids per predict user. Users are streamed from `seqFile` `o.userBatch` at a
 * time; only the candidate embeddings [M, D] and the result stay resident.
 */
export async function predictTop10(inputs: PredictInputs, o: PredictOptions & { userBatch: number }): Promise<PredictResult> {
  const { model, store, defaults, calendar, index, rows, set, seqFile } = inputs;
  const schema: FeatureSchema = store.schema;
  const extended = extendItemStore(store, rows.cold, defaults);
  const c = model.config;
  const D = c.hiddenUnits;
  const candidates = embedItems(model, (r) => extended.targetItems(r), set.rows, o.itemChunk); // [M, D]
  const candidateOfRow = new Int32Array(extended.rows).fill(-1);
  set.rows.forEach((row, j) => (candidateOfRow[row] = j));
  const top10s: number[][] = [];
  const user: string[] = [];
  for await (const users of readPredictUserBatches(seqFile, o.userBatch)) {
    const shard = buildPredictShard(users, rows, schema, defaults, calendar, (cell) => rawUserId(cell, index.userRawIds));
    const cuts = predictCuts(shard, c.maxlen);
    for (let start = 0; start < cuts.count; start += o.queryBatch) {
      const batch = selectCuts(cuts, Int32Array.from({ length: Math.min(o.queryBatch, cuts.count - start) }, (_, i) => start + i));
      const { queries } = encodeQueries(model, batch, shard, extended);
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
      const top = topK(queries, candidates, D, TOP_N, { exclude, skipRow0: false, chunkItems: o.itemChunk });
      for (let q = 0; q < batch.count; q++) {
        const list: number[] = [];
        for (let j = 0; j < TOP_N; j++) {
          const cand = top.indices[q * TOP_N + j]!;
          if (cand >= 0) list.push(set.creativeIds[cand]!);
        }
        top10s.push(list);
      }
    }
    for (const id of shard.userId) user.push(id);
  }
  return { top10s, user, duplicateCandidates: set.duplicates, coldCreatives: rows.cold.length };
}

/** result.json's bytes: compact (one line), keys in the competition's order. */
export function formatResult(r: PredictResult): string {
  return JSON.stringify({ top10s: r.top10s, user: r.user }) + '\n';
}
