// The HSTU block of block.ts as ONE differentiable op with its backward pass written out.
// Same arithmetic, same dropout masks (same seeds, same order: U, V, attention, output); what
// changes is the bookkeeping: tfjs autodiff of the block records ~300 engine calls per block
// (kernels, the Identity clones of every saved tensor, reshapes and casts in stock gradients); this
// runs ~130 (bench/train-step.ts). test/core/model/encoders/hstu/block-fused.test.ts checks values and
// every gradient against autodiff of hstuBlock.
//
// Forward, with R = B·N rows (names as in the backward below):
//   x̂₁ = LN(x)                          h = x̂₁·W_uvqk + b      a = SiLU(h)
//   u, v, q, k = split(a)               u ← u⊙m_U, v ← v⊙m_V   (dropout, training only)
//   q, k ← RoPE(heads(q)), RoPE(heads(k))
//   z = q·kᵀ + rab                      A = SiLU(z) ⊙ W        (W: visible keys, attention dropout)
//   o = unheads((A·heads(v)) ⊙ s)       s = 1/n (·1/(1 − rate))
//   g = LN(o) ⊙ u                       y = x + (g·W_o + b_o) ⊙ m_O
import * as tf from '@tensorflow/tfjs';
import { type HstuModelConfig, ropeDim } from '../../config.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { type ForwardContext, layerNormBackward, layerNormForward, nextDropoutSeed } from '../../layers.ts';
import { siluSlope } from '../../../ops/activations.ts';
import { matMulT } from '../../../ops/fast-ops.ts';
import { dropoutMultipliers } from '../../../ops/keep-mask.ts';
import { ropeFunctions } from './rope.ts';
import { type AttentionMask, attentionWeights } from './block.ts';
import { splitHeads } from '../../heads.ts';
import { type BiasIndices, relativeBias } from './relative-bias.ts';

const PARAMS = ['ln_in.g', 'ln_in.b', 'uvqk.w', 'uvqk.b', 'ln_attn.g', 'ln_attn.b', 'out.w', 'out.b'] as const;

/** x [B, N, D] → [B, N, D]: hstuBlock's result, with a hand-written gradient for x, rab and the block's weights. */
export function hstuBlockFused(
  w: ModelWeights, c: HstuModelConfig, name: string, x: tf.Tensor, mask: AttentionMask, bias: BiasIndices, ctx: ForwardContext,
): tf.Tensor {
  const [B, N, D] = x.shape as [number, number, number];
  const [H, dv, dqk] = [c.numHeads, c.encoder.linearDim, c.encoder.attentionDim];
  const R = B * N;
  const drop = ctx.training && ctx.dropoutRate > 0;
  // Dropout draws in hstuBlock's order: U, V, then the attention (inside attentionWeights), then the output.
  const mU = drop ? dropoutMultipliers([R, H * dv], nextDropoutSeed(ctx), ctx.dropoutRate, ctx.masks) : null;
  const mV = drop ? dropoutMultipliers([R, H * dv], nextDropoutSeed(ctx), ctx.dropoutRate, ctx.masks) : null;
  const { weights, scale } = attentionWeights(ctx, mask, H);
  const mO = drop ? dropoutMultipliers([R, D], nextDropoutSeed(ctx), ctx.dropoutRate, ctx.masks) : null;
  const rowScale = scale === 1 ? mask.rowScale : tf.mul(mask.rowScale, scale); // [B, 1, N, 1]
  const rope = c.encoder.useRope ? ropeFunctions(N, dqk, ropeDim(c.encoder), c.encoder.ropeTheta) : null;
  const heads = (t: tf.Tensor, d: number) => splitHeads(t, B, N, H, d); // [R, H·d] → [B·H, N, d]
  /** [B·H, N, d] → [R, H·d] */
  const unheads = (t: tf.Tensor, d: number) => tf.reshape(tf.transpose(tf.reshape(t, [B, H, N, d]), [0, 2, 1, 3]), [R, H * d]);
  const rotate = (t: tf.Tensor, f: 'forward' | 'backward') => (rope === null ? t : tf.reshape(rope[f](tf.reshape(t, [B, H, N, dqk])), [B * H, N, dqk]));
  const constants = [weights, rowScale, ...(mU === null ? [] : [mU, mV!, mO!])];

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xIn, rab, g1, b1, w1, bias1, g2, b2, wo, bo] = args as tf.Tensor[];
    const x2 = tf.reshape(xIn!, [R, D]);
    const ln1 = layerNormForward(x2, g1!, b1!); // [R, D]
    const h = tf.add(matMulT(ln1.y, w1!), bias1!); // [R, F]
    const sH = tf.sigmoid(h);
    const a = tf.mul(h, sH); // SiLU
    const [uRaw, vRaw, q, k] = tf.split(a, [H * dv, H * dv, H * dqk, H * dqk], 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const u = mU === null ? uRaw : tf.mul(uRaw, mU); // [R, H·dv]
    const vh = heads(mV === null ? vRaw : tf.mul(vRaw, mV), dv); // [B·H, N, dv]
    const qr = rotate(heads(q, dqk), 'forward'); // [B·H, N, dqk]
    const kr = rotate(heads(k, dqk), 'forward');
    const z = tf.add(tf.reshape(matMulT(qr, kr, false, true), [B, H, N, N]), rab!); // [B, H, N, N]
    const sZ = tf.sigmoid(z);
    const yZ = tf.mul(z, sZ);
    const attn = tf.reshape(tf.mul(yZ, weights), [B * H, N, N]);
    const o = unheads(tf.reshape(tf.mul(tf.reshape(matMulT(attn, vh), [B, H, N, dv]), rowScale), [B * H, N, dv]), dv); // [R, H·dv]
    const ln2 = layerNormForward(o, g2!, b2!);
    const gated = tf.mul(ln2.y, u); // [R, H·dv]
    const out = tf.add(matMulT(gated, wo!), bo!); // [R, D]
    const value = tf.reshape(tf.add(x2, mO === null ? out : tf.mul(out, mO)), [B, N, D]);
    save([ln1.xhat, ln1.rstd, ln1.y, h, sH, a, u, vh, qr, kr, z, sZ, yZ, attn, ln2.xhat, ln2.rstd, ln2.y, gated, ...constants]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, s: tf.Tensor[]) => {
        const [xhat1, rstd1, xn1, sh, sSh, sa, su, svh, sqr, skr, sz, ssZ, syZ, sattn, xhat2, rstd2, xn2, sgated] = s;
        const [sw, srow, smU, smV, smO] = s.slice(18);
        const dy2 = tf.reshape(dy, [R, D]);
        const dOut = smO === undefined ? dy2 : tf.mul(dy2, smO);
        const dWo = matMulT(sgated!, dOut, true, false);
        const dBo = tf.sum(dOut, 0);
        const dGated = matMulT(dOut, wo!, false, true); // [R, H·dv]
        const ln2Grad = layerNormBackward(tf.mul(dGated, su!), xhat2!, rstd2!, g2!);
        let du = tf.mul(dGated, xn2!);
        // o = unheads(AV ⊙ s): back through the scale, then AV = A·V.
        const dAv = tf.reshape(tf.mul(tf.reshape(heads(ln2Grad.dx, dv), [B, H, N, dv]), srow!), [B * H, N, dv]);
        const dAttn = tf.reshape(matMulT(dAv, svh!, false, true), [B, H, N, N]);
        let dv_ = unheads(matMulT(sattn!, dAv, true, false), dv); // [R, H·dv]
        const dz = tf.mul(tf.mul(dAttn, sw!), siluSlope(ssZ!, syZ!, sz!)); // [B, H, N, N]
        const dRab = rab!.shape[0] === 1 ? tf.sum(dz, [0, 1], true) : tf.sum(dz, 1, true);
        const dS = tf.reshape(dz, [B * H, N, N]);
        const dq = unheads(rotate(matMulT(dS, skr!), 'backward'), dqk);
        const dk = unheads(rotate(matMulT(dS, sqr!, true, false), 'backward'), dqk);
        if (smU !== undefined) du = tf.mul(du, smU);
        if (smV !== undefined) dv_ = tf.mul(dv_, smV);
        const dh = tf.mul(tf.concat([du, dv_, dq, dk], 1), siluSlope(sSh!, sa!, sh!)); // [R, F]
        const dW1 = matMulT(xn1!, dh, true, false);
        const dB1 = tf.sum(dh, 0);
        const ln1Grad = layerNormBackward(matMulT(dh, w1!, false, true), xhat1!, rstd1!, g1!);
        const dx = tf.reshape(tf.add(dy2, ln1Grad.dx), [B, N, D]);
        return [dx, dRab, ln1Grad.dGamma, ln1Grad.dBeta, dW1, dB1, ln2Grad.dGamma, ln2Grad.dBeta, dWo, dBo];
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor;

  const rab = relativeBias(w, `${name}.rab`, bias); // [B|1, 1, N, N], differentiated by tfjs (gathers)
  return op(x, rab, ...PARAMS.map((n) => w.get(`${name}.${n}`)));
}
