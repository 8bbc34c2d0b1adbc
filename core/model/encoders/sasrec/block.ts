// One SASRec block (Kang & McAuley 2018, "Self-Attentive Sequential Recommendation"), in the
// arrangement of facebookresearch/generative-recommenders' SASRec (its _run_one_layer):
//   q̂ = LN_attn(x)                                   the query side is pre-normalised …
//   A = MHA(q̂, x, x) = concat_h(softmax(Q_h K_hᵀ/√d + M) V_h)·W_o,  Q = q̂W_q, K = xW_k, V = xW_v
//       M: 0 where key j ≤ i and j is a real token, −1e9 elsewhere (causal + padding)
//       dropout on the softmax weights (torch's MultiheadAttention dropout)
//   h = LN_ffn(q̂ + A)                                … and the residual is taken from q̂ (both
//                                                       references do): pre-LN on the attention input
//   x ← h + Dropout(Dropout(ReLU(h·W₁ + b₁))·W₂ + b₂)  point-wise FFN with its residual
//   x ← x ⊙ valid                                    padding rows stay 0
// d = D/H per head. ReLU as the paper (the reference also offers GELU). LayerNorms are the project's
// (learned γ = 1, β = 0 at init, as Kang's `normalize`; eps 1e-5); the reference's have no γ/β, eps 1e-8.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../../random/rng.ts';
import type { SasrecModelConfig } from '../../config.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { type ForwardContext, dropout, initLayerNorm, initLinear, layerNorm, linear } from '../../layers.ts';
import { relu } from '../../../ops/activations.ts';
import { batchMatMul, batchMatMulBT } from '../../../ops/fast-ops.ts';
import { mergeHeads, splitHeads } from '../../heads.ts';

/** Additive attention mask value: exp(−1e9 − max) is exactly 0 in float32, and a fully masked (padding) row stays finite. */
export const MASKED = -1e9;

/** Xavier-normal std of a [dIn, dOut] weight, as the reference initialises every SASRec matrix. */
const xavier = (dIn: number, dOut: number): number => Math.sqrt(2 / (dIn + dOut));

export function initSasrecBlock(w: ModelWeights, c: SasrecModelConfig, name: string, rng: Rng): void {
  const D = c.hiddenUnits;
  initLayerNorm(w, `${name}.ln_attn`, D);
  initLinear(w, `${name}.q`, D, D, rng, true, xavier(D, D));
  initLinear(w, `${name}.kv`, D, 2 * D, rng, true, xavier(D, D));
  initLinear(w, `${name}.out`, D, D, rng, true, xavier(D, D));
  initLayerNorm(w, `${name}.ln_ffn`, D);
  initLinear(w, `${name}.ffn1`, D, D, rng, true, xavier(D, D));
  initLinear(w, `${name}.ffn2`, D, D, rng, true, xavier(D, D));
}

/** Causal softmax multi-head attention: query input q̂, key/value input x, both [B, N, D] → [B, N, D]. */
function selfAttention(w: ModelWeights, c: SasrecModelConfig, name: string, qIn: tf.Tensor, x: tf.Tensor, maskBias: tf.Tensor, ctx: ForwardContext): tf.Tensor {
  const [B, N, D] = x.shape as [number, number, number];
  const H = c.numHeads;
  const d = D / H;
  const q = splitHeads(linear(w, `${name}.q`, qIn), B, N, H, d); // [B·H, N, d]
  const [kRaw, vRaw] = tf.split(linear(w, `${name}.kv`, x), 2, -1) as [tf.Tensor, tf.Tensor]; // [B, N, D] each
  const k = splitHeads(kRaw, B, N, H, d); // [B·H, N, d]
  const v = splitHeads(vRaw, B, N, H, d); // [B·H, N, d]
  const scores = tf.add(tf.mul(tf.reshape(batchMatMulBT(q, k), [B, H, N, N]), 1 / Math.sqrt(d)), maskBias); // [B, H, N, N]
  const weights = dropout(ctx, tf.softmax(scores)); // [B, H, N, N], each row sums to 1 over visible keys
  const o = mergeHeads(batchMatMul(tf.reshape(weights, [B * H, N, N]), v), B, N, H, d); // [B, N, D]
  return linear(w, `${name}.out`, o); // [B, N, D]
}

/**
 * x [B, N, D] → [B, N, D]. `maskBias` [B, 1, N, N]: 0 where key j is visible to query i, MASKED
 * elsewhere; `valid` [B, N, 1]: 1 on real tokens.
 */
export function sasrecBlock(w: ModelWeights, c: SasrecModelConfig, name: string, x: tf.Tensor, maskBias: tf.Tensor, valid: tf.Tensor, ctx: ForwardContext): tf.Tensor {
  const qIn = layerNorm(w, `${name}.ln_attn`, x); // [B, N, D] q̂
  const h = layerNorm(w, `${name}.ln_ffn`, tf.add(qIn, selfAttention(w, c, name, qIn, x, maskBias, ctx))); // [B, N, D]
  const ffn = dropout(ctx, linear(w, `${name}.ffn2`, dropout(ctx, relu(linear(w, `${name}.ffn1`, h))))); // [B, N, D]
  return tf.mul(tf.add(h, ffn), valid); // [B, N, D]
}
