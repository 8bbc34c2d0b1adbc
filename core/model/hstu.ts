// The HSTU recommender (SPEC §5): tokens → HSTU blocks → query; targets → item embeddings.
//   tokens:  [pad…, user, item₁ … itemₙ]; user token from the user tower, item tokens from the
//            history tower (features, time, action)
//   blocks:  num_blocks × HSTU block (hstu-block.ts), causal with relative position/time bias
//   query:   LN → FiLM by action → L2-normalise, at every position (training) or the last one
//   items:   target tower (features + dynamic features) → L2-normalise
// Pure functions of (params, batch, options); no data or file access here.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.ts';
import type { ModelConfig } from './config.ts';
import { validateModelConfig } from './config.ts';
import type { SequenceBatch, TargetItems } from './batch.ts';
import { TOKEN_ITEM, TOKEN_PAD, TOKEN_USER, TOKEN_USER_DEFAULT } from './batch.ts';
import { ModelParams } from './init.ts';
import { type ForwardContext, dropout, initLayerNorm, l2Normalize, layerNorm, makeForwardContext } from './layers.ts';
import { encodeBranch, initBranch, initFeatureTables } from './towers.ts';
import { historyRows, targetRows, userRows } from './branch-rows.ts';
import { type AttentionMask, initHstuBlock } from './hstu-block.ts';
import { hstuBlockFused } from './hstu-block-fused.ts';
import { keepMaskIsNative } from './keep-mask.ts';
import { type BiasIndices, positionBiasIndices, timeBiasIndices } from './relative-bias.ts';
import { film, initFilm } from './film.ts';
import { gatherRows } from './fast-ops.ts';

/** Creates every variable of the model from `seed` (same seed → same weights on any backend). */
export function initHstu(config: ModelConfig, seed: number): ModelParams {
  const c = validateModelConfig(config);
  const p = new ModelParams();
  const rng = new Rng(seed, 0x4d4f44); // 'MOD' stream: model init never shares draws with data RNGs
  initFeatureTables(p, c, rng);
  initBranch(p, c, 'user', rng);
  initBranch(p, c, 'history', rng);
  initBranch(p, c, 'target', rng);
  for (let k = 0; k < c.numBlocks; k++) initHstuBlock(p, c, `blocks.${k}`, rng);
  initLayerNorm(p, 'ln_out', c.hiddenUnits);
  initFilm(p, 'film', c.numActions, c.hiddenUnits);
  return p;
}

export interface ForwardOptions {
  training: boolean; // dropout on
  seed?: number; // dropout seed for this call (e.g. from the step counter); same seed → same masks
  itemEmb?: tf.Tensor; // [B·N, E] the item table's rows at b.itemIdx, when the caller looked them up
}

/**
 * Which keys each query sees — key j ≤ i, both real tokens — as 0/1 [B, N, N], and the 1/n each
 * query's attention is divided by [B, N] (0 on padding rows).
 */
export function attentionMask(c: ModelConfig, b: SequenceBatch): { visible: Float32Array; rowScale: Float32Array } {
  const N = b.seqLen;
  const visible = new Float32Array(b.batchSize * N * N);
  const rowScale = new Float32Array(b.batchSize * N);
  for (let s = 0; s < b.batchSize; s++) {
    for (let i = 0; i < N; i++) {
      if (b.tokenType[s * N + i] === TOKEN_PAD) continue;
      const row = (s * N + i) * N;
      let seen = 0;
      for (let j = 0; j <= i; j++) {
        if (b.tokenType[s * N + j] !== TOKEN_PAD) {
          visible[row + j] = 1;
          seen++;
        }
      }
      // 'padded' divides by the configured padded length (not the batch's N) so extra left padding
      // changes nothing; 'real' by the keys this query sees (the total length would leak the future).
      rowScale[s * N + i] = 1 / (c.attnNorm === 'padded' ? c.maxlen + 1 : seen);
    }
  }
  return { visible, rowScale };
}

/** 1 where the token is of one of `types`, else 0: [B, N, 1]. */
function tokenMask(b: SequenceBatch, types: number[]): tf.Tensor {
  const m = new Float32Array(b.tokenType.length);
  for (let i = 0; i < m.length; i++) m[i] = types.includes(b.tokenType[i]!) ? 1 : 0;
  return tf.tensor3d(m, [b.batchSize, b.seqLen, 1]);
}

/** Token embeddings: user tower on the user token, history tower on item tokens, 0 on padding. [B, N, D] */
function embedTokens(p: ModelParams, c: ModelConfig, b: SequenceBatch, itemEmb?: tf.Tensor): tf.Tensor {
  const [B, N, D] = [b.batchSize, b.seqLen, c.hiddenUnits];
  const items = tf.reshape(encodeBranch(p, c, 'history', historyRows(c, b), itemEmb), [B, N, D]); // [B, N, D]
  const user = tf.reshape(encodeBranch(p, c, 'user', userRows(c, b)), [B, 1, D]); // [B, 1, D]
  return tf.add(tf.mul(items, tokenMask(b, [TOKEN_ITEM])), tf.mul(user, tokenMask(b, [TOKEN_USER, TOKEN_USER_DEFAULT])));
}

/**
 * Sequence states at every position, L2-normalised: [B, N, D]. State t summarises tokens ≤ t and
 * is the query for the item at t + 1. Padding positions are zero vectors.
 */
export function encodeSequences(p: ModelParams, c: ModelConfig, b: SequenceBatch, opts: ForwardOptions): tf.Tensor {
  return tf.tidy(() => {
    const ctx: ForwardContext = makeForwardContext(opts.training, c.dropoutRate, opts.seed ?? 0);
    const [B, N] = [b.batchSize, b.seqLen];
    const bias: BiasIndices = {
      pos: tf.tensor2d(positionBiasIndices(N), [N, N], 'int32'),
      time: c.loadTimeIntervals ? tf.tensor3d(timeBiasIndices(b.timestamp, B, N, c.timeBuckets), [B, N, N], 'int32') : null,
    };
    const m = attentionMask(c, b);
    const visibleTensor = tf.tensor4d(m.visible, [B, 1, N, N]);
    const mask: AttentionMask = { visible: m.visible, visibleTensor, rowScale: tf.tensor4d(m.rowScale, [B, 1, N, 1]) };
    if (opts.training && c.dropoutRate > 0 && keepMaskIsNative()) mask.keepVisible = tf.mul(visibleTensor, 1 - c.dropoutRate);
    let x = dropout(ctx, embedTokens(p, c, b, opts.itemEmb)); // [B, N, D]
    for (let k = 0; k < c.numBlocks; k++) x = hstuBlockFused(p, c, `blocks.${k}`, x, mask, bias, ctx);
    const h = film(p, 'film', layerNorm(p, 'ln_out', x), tf.tensor2d(b.filmAction, [B, N], 'int32')); // [B, N, D]
    // Padding rows are zeroed: their (near-zero) states would give LN and L2 huge gradients.
    return tf.mul(l2Normalize(h), tokenMask(b, [TOKEN_ITEM, TOKEN_USER, TOKEN_USER_DEFAULT])); // [B, N, D]
  });
}

/** The query of each sequence: its state at the last position. states [B, N, D] → [B, D] */
export function lastPosition(states: tf.Tensor): tf.Tensor {
  const [B, N, D] = states.shape as [number, number, number];
  return tf.reshape(tf.slice(states, [0, N - 1, 0], [B, 1, D]), [B, D]);
}

/** Item embeddings from the target tower, L2-normalised: [M, D]. Deterministic (no dropout). */
export function encodeTargets(p: ModelParams, c: ModelConfig, t: TargetItems, itemEmb?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => l2Normalize(encodeBranch(p, c, 'target', targetRows(c, t), itemEmb)));
}

/**
 * Training's forward pass: encodeSequences and encodeTargets with ONE lookup of the item table for
 * both branches, split afterwards — so its gradient is one segment sum into the table (and one
 * concat of the two parts), not two dense [items, E] gradients and their sum.
 */
export function encodeSequencesAndTargets(p: ModelParams, c: ModelConfig, b: SequenceBatch, t: TargetItems, opts: ForwardOptions): { states: tf.Tensor; items: tf.Tensor } {
  const ids = new Int32Array(b.itemIdx.length + t.itemIdx.length);
  ids.set(b.itemIdx);
  ids.set(t.itemIdx, b.itemIdx.length);
  const both = gatherRows(p.get('emb.item'), tf.tensor1d(ids, 'int32')); // [B·N + M, E]
  const [history, targets] = tf.split(both, [b.itemIdx.length, t.itemIdx.length], 0);
  return { states: encodeSequences(p, c, b, { ...opts, itemEmb: history }), items: encodeTargets(p, c, t, targets) };
}
