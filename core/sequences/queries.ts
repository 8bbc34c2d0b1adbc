// User queries: each cut's sequence through the model, the state at the last position
// (L2-normalised, FiLM-conditioned on a click), copied to the host as [B, D] for exact ranking.
// One function for validation (train picks best/ by it) and test (evaluate reports it), so both rank alike.
import * as tf from '@tensorflow/tfjs';
import { type SequenceModel, lastPosition } from '../model/sequence-model.ts';
import { buildCutBatch } from './cut-batch.ts';
import type { Cuts } from './cut.ts';
import type { ItemStore } from './item-store.ts';
import type { UserShard } from './user-shards.ts';
import { clampColdIds } from './item-embeddings.ts';

/** Queries of all `cuts` (one batch): [B, D], plus each cut's target item. */
export function encodeQueries(model: SequenceModel, cuts: Cuts, shard: UserShard, store: ItemStore): { queries: Float32Array; targetItem: Int32Array } {
  const c = model.config;
  const cb = buildCutBatch(cuts, shard, store, c.maxlen, 'infer');
  // Cold history items (rows past the vocabulary, competition inputs only) keep their features, id 0.
  clampColdIds(cb.batch.itemIdx, c.itemVocab);
  const q = tf.tidy(() => lastPosition(model.encodeSequences(cb.batch, { training: false }))); // [B, D]
  const queries = q.dataSync() as Float32Array;
  q.dispose();
  return { queries, targetItem: cb.targetItem };
}
