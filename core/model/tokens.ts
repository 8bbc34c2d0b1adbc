// What the encoders read and what they are scored against (SPEC §5), the same for every encoder:
//   side features (HSTU; SASRec with sasrec_features): user tower on the user token, history tower
//     on item tokens, target tower on target items (towers.ts)
//   ids only (SASRec's anchor): the item-id embedding on item tokens and on targets (shared input
//     and output table, as the SASRec paper), a learned start vector on the user token
// Token embeddings are 0 on padding. `itemEmb` is the item table's rows at the given item indices
// when the caller looked them up itself (one lookup for history and targets).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random/rng.ts';
import { type ModelConfig, usesSideFeatures } from './config.ts';
import type { SequenceBatch, TargetItems } from './inputs.ts';
import { TOKEN_ITEM, TOKEN_USER, TOKEN_USER_DEFAULT } from './inputs.ts';
import type { ModelWeights } from './model-weights.ts';
import { truncatedNormal } from './init.ts';
import { embed, initEmbedding } from './layers.ts';
import { encodeBranch, initBranch, initFeatureTables } from './towers.ts';
import { historyRows, targetRows, userRows } from './branch-rows.ts';

export const ITEM_TABLE = 'emb.item';
const START_TOKEN = 'emb.start';
const USER_TOKENS = [TOKEN_USER, TOKEN_USER_DEFAULT];
/** Every token that is not padding. */
export const REAL_TOKENS = [TOKEN_ITEM, ...USER_TOKENS];

/** The embedding variables: the feature tables and towers, or the id table [V, D] and start vector [1, D]. */
export function initEmbeddings(w: ModelWeights, c: ModelConfig, rng: Rng): void {
  if (usesSideFeatures(c)) {
    initFeatureTables(w, c, rng);
    initBranch(w, c, 'user', rng);
    initBranch(w, c, 'history', rng);
    initBranch(w, c, 'target', rng);
    return;
  }
  initEmbedding(w, ITEM_TABLE, c.itemVocab, c.hiddenUnits, rng, 'itemEmbedding');
  w.add(START_TOKEN, 'embedding', [1, c.hiddenUnits], truncatedNormal(rng, c.hiddenUnits));
}

/** 1 where the token is of one of `types`, else 0: [B, N, 1]. */
export function tokenMask(b: SequenceBatch, types: number[]): tf.Tensor {
  const m = new Float32Array(b.tokenType.length);
  for (let i = 0; i < m.length; i++) m[i] = types.includes(b.tokenType[i]!) ? 1 : 0;
  return tf.tensor3d(m, [b.batchSize, b.seqLen, 1]);
}

/** Token embeddings [B, N, D]: items on item tokens, the user (or start) vector on the user token, 0 on padding. */
export function embedTokens(w: ModelWeights, c: ModelConfig, b: SequenceBatch, itemEmb?: tf.Tensor): tf.Tensor {
  const [B, N, D] = [b.batchSize, b.seqLen, c.hiddenUnits];
  const side = usesSideFeatures(c);
  const itemRows = side ? encodeBranch(w, c, 'history', historyRows(c, b), itemEmb) : (itemEmb ?? embed(w, ITEM_TABLE, tf.tensor1d(b.itemIdx, 'int32')));
  const items = tf.reshape(itemRows, [B, N, D]); // [B, N, D]
  const user = side ? tf.reshape(encodeBranch(w, c, 'user', userRows(c, b)), [B, 1, D]) : tf.reshape(w.get(START_TOKEN), [1, 1, D]); // [B|1, 1, D]
  return tf.add(tf.mul(items, tokenMask(b, [TOKEN_ITEM])), tf.mul(user, tokenMask(b, USER_TOKENS)));
}

/** Target item embeddings [M, D] (before normalisation): the target tower, or the id table's rows. */
export function embedTargets(w: ModelWeights, c: ModelConfig, t: TargetItems, itemEmb?: tf.Tensor): tf.Tensor {
  if (usesSideFeatures(c)) return encodeBranch(w, c, 'target', targetRows(c, t), itemEmb);
  return itemEmb ?? embed(w, ITEM_TABLE, tf.tensor1d(t.itemIdx, 'int32'));
}
