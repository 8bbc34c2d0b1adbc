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

/**
 * Sequences per model call when encoding queries (validation, evaluate, predict): bounds the [B, H, N, N] attention
 * tensors; ranks do not depend on it. 256 rather than the training batch: validating the default data took 3.3 s
 * at 64 and 2.5 s at 256 per validation (most of it the forward pass; fewer, larger kernel calls).
 */
export const QUERY_BATCH = 256;

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
