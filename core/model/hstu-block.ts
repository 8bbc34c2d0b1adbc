// One HSTU block (Zhai et al. 2024, "Actions Speak Louder than Words"), SPEC §5:
//   x̂ = LN(x)
//   U, V, Q, K = split(SiLU(x̂·W_uvqk))          U,V: H·dv   Q,K: H·dqk
//   U, V ← Dropout(U), Dropout(V)                (training only, as the seed)
//   Q, K ← RoPE on the first r dims of each head
//   A = Dropout(SiLU(QKᵀ + rab_pos + rab_time) · mask / n)   (pointwise, not softmax)
//   O = LN(A·V) ⊙ U
//   x ← x + Dropout(O·W_o)
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.ts';
import { type ModelConfig, ropeDim } from './config.ts';
import type { ModelParams } from './init.ts';
import { type ForwardContext, dropout, initLayerNorm, initLinear, layerNorm, linear, nextDropoutSeed, silu, siluSlope } from './layers.ts';
import { keepMask, keepMaskIsNative, keepStream } from './keep-mask.ts';
import { batchMatMul, batchMatMulBT } from './fast-ops.ts';
import { applyRope } from './rope.ts';
import { type BiasIndices, initRelativeBias, relativeBias } from './relative-bias.ts';

export function initHstuBlock(p: ModelParams, c: ModelConfig, name: string, rng: Rng): void {
  const D = c.hiddenUnits;
  const H = c.numHeads;
  initLayerNorm(p, `${name}.ln_in`, D);
  initLinear(p, `${name}.uvqk`, D, 2 * H * c.linearDim + 2 * H * c.attentionDim, rng);
  initRelativeBias(p, `${name}.rab`, c.maxlen + 1, c.timeBuckets, c.loadTimeIntervals, rng);
  initLayerNorm(p, `${name}.ln_attn`, H * c.linearDim);
  initLinear(p, `${name}.out`, H * c.linearDim, D, rng);
}

/** [B, N, H·d] → [B·H, N, d] */
function splitHeads(x: tf.Tensor, B: number, N: number, H: number, d: number): tf.Tensor {
  return tf.reshape(tf.transpose(tf.reshape(x, [B, N, H, d]), [0, 2, 1, 3]), [B * H, N, d]);
}

/** The attention's mask/n [B, 1, N, N]: as numbers (dropout masks are built in JS) and as a tensor. */
export interface AttentionScale {
  values: Float32Array; // [B, 1, N, N]
  tensor: tf.Tensor; // the same values, [B, 1, N, N]
}

/**
 * mask/n times a fresh inverted-dropout mask per head in training → [B, H, N, N]; mask/n alone
 * ([B, 1, N, N]) otherwise. Same distribution as dropout(SiLU(·)·mask/n) with one multiply instead
 * of two. In JS (wasm, cpu) no random numbers are drawn where mask/n is 0 (future keys, padding).
 */
function attentionWeights(ctx: ForwardContext, scale: AttentionScale, H: number): tf.Tensor {
  if (!ctx.training || ctx.dropoutRate === 0) return scale.tensor;
  const [B, , N] = scale.tensor.shape as [number, number, number, number];
  const seed = nextDropoutSeed(ctx);
  const inv = 1 / (1 - ctx.dropoutRate);
  // Native: the mask comes from TF's RNG and multiplies mask/n·1/(1 − rate) broadcast over heads.
  if (keepMaskIsNative()) return tf.mul(keepMask([B, H, N, N], seed, ctx.dropoutRate), tf.mul(scale.tensor, inv));
  const keep = keepStream(seed, ctx.dropoutRate);
  const NN = N * N;
  const out = new Float32Array(B * H * NN);
  for (let b = 0; b < B; b++) {
    const src = scale.values.subarray(b * NN, (b + 1) * NN);
    for (let h = 0; h < H; h++) {
      const dst = (b * H + h) * NN;
      for (let k = 0; k < NN; k++) {
        const v = src[k]!;
        if (v !== 0 && keep()) out[dst + k] = v * inv;
      }
    }
  }
  return tf.tensor4d(out, [B, H, N, N]);
}

/**
 * SiLU(scores + rab) ⊙ weights as one differentiable op: scores [B, H, N, N], rab [B|1, 1, N, N],
 * weights [B, 1|H, N, N] constant (mask/n, dropout folded in). The gradient reuses σ, SiLU and
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
 * x [B, N, D] → [B, N, D]. `attnScale` [B, 1, N, N] holds mask/n (0 where a key is in the future or
 * padding); `bias` the precomputed relative-bias indices.
 */
export function hstuBlock(
  p: ModelParams, c: ModelConfig, name: string, x: tf.Tensor, attnScale: AttentionScale, bias: BiasIndices, ctx: ForwardContext,
): tf.Tensor {
  const [B, N] = x.shape as [number, number, number];
  const H = c.numHeads;
  const dv = c.linearDim;
  const dqk = c.attentionDim;
  const xn = layerNorm(p, `${name}.ln_in`, x); // [B, N, D]
  const uvqk = silu(linear(p, `${name}.uvqk`, xn)); // [B, N, 2·H·dv + 2·H·dqk]
  const [uRaw, vRaw, q, k] = tf.split(uvqk, [H * dv, H * dv, H * dqk, H * dqk], -1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
  const u = dropout(ctx, uRaw); // [B, N, H·dv] the seed drops U/V outputs too
  const v = dropout(ctx, vRaw); // [B, N, H·dv]
  let qh = splitHeads(q, B, N, H, dqk); // [B·H, N, dqk]
  let kh = splitHeads(k, B, N, H, dqk); // [B·H, N, dqk]
  if (c.useRope) {
    const r = ropeDim(c);
    qh = tf.reshape(applyRope(tf.reshape(qh, [B, H, N, dqk]), r, c.ropeTheta), [B * H, N, dqk]);
    kh = tf.reshape(applyRope(tf.reshape(kh, [B, H, N, dqk]), r, c.ropeTheta), [B * H, N, dqk]);
  }
  const scores = tf.reshape(batchMatMulBT(qh, kh), [B, H, N, N]); // [B, H, N, N]
  const rab = relativeBias(p, `${name}.rab`, bias); // [B|1, 1, N, N]
  const attn = attentionActivation(scores, rab, attentionWeights(ctx, attnScale, H)); // [B, H, N, N], dropout included
  const av = batchMatMul(tf.reshape(attn, [B * H, N, N]), splitHeads(v, B, N, H, dv)); // [B·H, N, dv]
  const o = tf.reshape(tf.transpose(tf.reshape(av, [B, H, N, dv]), [0, 2, 1, 3]), [B, N, H * dv]); // [B, N, H·dv]
  const gated = tf.mul(layerNorm(p, `${name}.ln_attn`, o), u); // [B, N, H·dv]
  return tf.add(x, dropout(ctx, linear(p, `${name}.out`, gated))); // [B, N, D]
}
