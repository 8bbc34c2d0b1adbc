// One HSTU block (Zhai et al. 2024, "Actions Speak Louder than Words"), SPEC §5:
//   x̂ = LN(x)
//   U, V, Q, K = split(SiLU(x̂·W_uvqk))          U,V: H·dv   Q,K: H·dqk
//   U, V ← Dropout(U), Dropout(V)                (training only, as the seed)
//   Q, K ← RoPE on the first r dims of each head
//   A = Dropout(SiLU(QKᵀ + rab_pos + rab_time) · mask / n)   (pointwise, not softmax;
//       computed as (Dropout(SiLU(·)·mask)·V)/n: the 1/n scales the smaller output)
//   O = LN(A·V) ⊙ U
//   x ← x + Dropout(O·W_o)
// hstuBlock below is the block under tfjs autodiff: the readable reference. The model runs
// hstuBlockFused (block-fused.ts), the same arithmetic with its backward written out, which
// a test checks against autodiff of this one.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../../random/rng.ts';
import { type HstuModelConfig, ropeDim } from '../../config.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { type ForwardContext, dropout, initLayerNorm, initLinear, layerNorm, linear, nextDropoutSeed } from '../../layers.ts';
import { silu, siluSlope } from '../../../ops/activations.ts';
import { attentionKeepMask } from '../../../ops/keep-mask.ts';
import { batchMatMul, batchMatMulBT } from '../../../ops/fast-ops.ts';
import { splitHeads } from '../../heads.ts';
import { applyRope } from './rope.ts';
import { type BiasIndices, initRelativeBias, relativeBias } from './relative-bias.ts';

/** The block's relative attention bias, `<block>.rab.*`. */
export const RAB = 'rab';

export function initHstuBlock(w: ModelWeights, c: HstuModelConfig, name: string, rng: Rng): void {
  const D = c.hiddenUnits;
  const H = c.numHeads;
  const h = c.encoder;
  initLayerNorm(w, `${name}.ln_in`, D);
  initLinear(w, `${name}.uvqk`, D, 2 * H * h.linearDim + 2 * H * h.attentionDim, rng);
  initRelativeBias(w, `${name}.${RAB}`, c.maxlen + 1, h.timeBuckets, c.loadTimeIntervals, rng);
  initLayerNorm(w, `${name}.ln_attn`, H * h.linearDim);
  initLinear(w, `${name}.out`, H * h.linearDim, D, rng);
}

/**
 * Which keys each query sees and how its attention is scaled: SiLU(QKᵀ + rab)·visible / n, with
 * the 1/n (and dropout's 1/(1 − rate)) applied to the [B, N, H·dv] output rather than to the
 * [B, H, N, N] weights — the same numbers, one [B, H, N, N] kernel less per block.
 */
export interface AttentionMask {
  visible: Float32Array; // [B, N, N] 1 where key j is visible to query i (j ≤ i, both real tokens), else 0
  rowScaleArray: Float32Array; // [B, N] 1/n per query (0 on padding rows)
  visibleTensor: tf.Tensor; // [B, 1, N, N]
  rowScale: tf.Tensor; // [B, 1, N, 1]
  keepVisible?: tf.Tensor; // (1 − rate)·visible [B, 1, N, N] for native dropout, shared by the blocks
}

/**
 * The {0, 1} attention weights [B, H|1, N, N] (visible keys, each kept with probability 1 − rate in
 * training, a fresh mask per head) and the factor the output is scaled by besides 1/n (1/(1 − rate)
 * in training). In JS (wasm, cpu) no random numbers are drawn where a key is not visible.
 */
export function attentionWeights(ctx: ForwardContext, mask: AttentionMask, H: number): { weights: tf.Tensor; scale: number } {
  if (!ctx.training || ctx.dropoutRate === 0) return { weights: mask.visibleTensor, scale: 1 };
  const weights = attentionKeepMask(mask.visible, mask.visibleTensor, {
    heads: H, seed: nextDropoutSeed(ctx), rate: ctx.dropoutRate, keepProbs: mask.keepVisible, ...ctx.masks,
  });
  return { weights, scale: 1 / (1 - ctx.dropoutRate) };
}

/**
 * SiLU(scores + rab) ⊙ weights as one differentiable op: scores [B, H, N, N], rab [B|1, 1, N, N],
 * weights [B, 1|H, N, N] constant (visible keys, dropout folded in). The gradient reuses σ, SiLU and
 * the pre-activation saved in the forward pass — four or five [B, H, N, N] kernels (siluSlope)
 * where autodiff runs eight plus casts.
 */
export function attentionActivation(scores: tf.Tensor, rab: tf.Tensor, weights: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [sc, rb, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const z = tf.add(sc, rb);
    const s = tf.sigmoid(z);
    const y = tf.mul(z, s);
    save([s, y, weights, z]); // weights is a constant: saved so an enclosing tidy keeps it for the backward pass
    return {
      value: tf.mul(y, weights), // [B, H, N, N]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ss, sy, sw, sz] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const dz = tf.mul(tf.mul(dy, sw), siluSlope(ss, sy, sz)); // [B, H, N, N]
        const dRab = rb.shape[0] === 1 ? tf.sum(dz, [0, 1], true) : tf.sum(dz, 1, true); // rab's shape
        return [dz, dRab];
      },
    };
  }) as (scores: tf.Tensor, rab: tf.Tensor) => tf.Tensor;
  return op(scores, rab);
}

/**
 * x [B, N, D] → [B, N, D]. `mask` says which keys each query sees (not future keys, not padding)
 * and its 1/n; `bias` the precomputed relative-bias indices.
 */
export function hstuBlock(
  w: ModelWeights, c: HstuModelConfig, name: string, x: tf.Tensor, mask: AttentionMask, bias: BiasIndices, ctx: ForwardContext,
): tf.Tensor {
  const [B, N] = x.shape as [number, number, number];
  const H = c.numHeads;
  const { linearDim: dv, attentionDim: dqk } = c.encoder;
  const xn = layerNorm(w, `${name}.ln_in`, x); // [B, N, D]
  const uvqk = silu(linear(w, `${name}.uvqk`, xn)); // [B, N, 2·H·dv + 2·H·dqk]
  const [uRaw, vRaw, q, k] = tf.split(uvqk, [H * dv, H * dv, H * dqk, H * dqk], -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const u = dropout(ctx, uRaw); // [B, N, H·dv] the seed drops U/V outputs too
  const v = dropout(ctx, vRaw); // [B, N, H·dv]
  let qh = splitHeads(q, B, N, H, dqk); // [B·H, N, dqk]
  let kh = splitHeads(k, B, N, H, dqk); // [B·H, N, dqk]
  if (c.encoder.useRope) {
    const r = ropeDim(c.encoder);
    qh = tf.reshape(applyRope(tf.reshape(qh, [B, H, N, dqk]), r, c.encoder.ropeTheta), [B * H, N, dqk]);
    kh = tf.reshape(applyRope(tf.reshape(kh, [B, H, N, dqk]), r, c.encoder.ropeTheta), [B * H, N, dqk]);
  }
  const scores = tf.reshape(batchMatMulBT(qh, kh), [B, H, N, N]); // [B, H, N, N]
  const rab = relativeBias(w, `${name}.${RAB}`, bias); // [B|1, 1, N, N]
  const { weights, scale } = attentionWeights(ctx, mask, H);
  const attn = attentionActivation(scores, rab, weights); // [B, H, N, N], dropout included
  const av = batchMatMul(tf.reshape(attn, [B * H, N, N]), splitHeads(v, B, N, H, dv)); // [B·H, N, dv]
  const scaled = tf.mul(tf.reshape(av, [B, H, N, dv]), scale === 1 ? mask.rowScale : tf.mul(mask.rowScale, scale)); // ·1/n (·1/(1 − rate))
  const o = tf.reshape(tf.transpose(scaled, [0, 2, 1, 3]), [B, N, H * dv]); // [B, N, H·dv]
  const gated = tf.mul(layerNorm(w, `${name}.ln_attn`, o), u); // [B, N, H·dv]
  return tf.add(x, dropout(ctx, linear(w, `${name}.out`, gated))); // [B, N, D]
}
