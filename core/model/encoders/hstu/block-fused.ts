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
import { type AttentionMask, RAB, attentionWeights } from './block.ts';
import { splitHeads } from '../../heads.ts';
import { type BiasIndices, relativeBias } from './relative-bias.ts';

/** What the backward pass computes for the block's weights. */
interface WeightGradients {
  ln1: { dGamma: tf.Tensor; dBeta: tf.Tensor };
  dW1: tf.Tensor;
  dB1: tf.Tensor;
  ln2: { dGamma: tf.Tensor; dBeta: tf.Tensor };
  dWo: tf.Tensor;
  dBo: tf.Tensor;
}

/** Every weight the fused op differentiates, by its name inside the block, and where its gradient comes from. */
const GRADIENT_OF = {
  'ln_in.g': (g: WeightGradients) => g.ln1.dGamma,
  'ln_in.b': (g: WeightGradients) => g.ln1.dBeta,
  'uvqk.w': (g: WeightGradients) => g.dW1,
  'uvqk.b': (g: WeightGradients) => g.dB1,
  'ln_attn.g': (g: WeightGradients) => g.ln2.dGamma,
  'ln_attn.b': (g: WeightGradients) => g.ln2.dBeta,
  'out.w': (g: WeightGradients) => g.dWo,
  'out.b': (g: WeightGradients) => g.dBo,
};
type FusedWeight = keyof typeof GRADIENT_OF;

/**
 * The op's weight inputs: the variables initHstuBlock created under `name` — found in the weights, not
 * listed here — but the relative bias's (tfjs differentiates its gathers), named inside the block,
 * sorted. A variable init creates that the op has no gradient for, or one it reads that init no longer
 * creates, fails here naming it.
 */
function fusedWeightNames(w: ModelWeights, name: string): FusedWeight[] {
  const prefix = `${name}.`;
  const names = w.names().filter((n) => n.startsWith(prefix) && !n.startsWith(`${prefix}${RAB}.`)).map((n) => n.slice(prefix.length));
  const unknown = names.find((n) => !(n in GRADIENT_OF));
  if (unknown !== undefined) throw new Error(`hstuBlockFused: no hand-written gradient for ${prefix}${unknown}, which initHstuBlock creates`);
  const missing = Object.keys(GRADIENT_OF).find((n) => !names.includes(n));
  if (missing !== undefined) throw new Error(`hstuBlockFused: ${prefix}${missing} does not exist (initHstuBlock does not create it)`);
  return names as FusedWeight[];
}

/** Saves `tensors` (undefined ones skipped) for the backward pass; returns how to read them back by name. */
function saveByName<T extends Record<string, tf.Tensor | undefined>>(save: tf.GradSaveFunc, tensors: T): (saved: tf.Tensor[]) => T {
  const names = Object.keys(tensors).filter((n) => tensors[n] !== undefined);
  save(names.map((n) => tensors[n]!));
  return (saved) => Object.fromEntries(names.map((n, i) => [n, saved[i]])) as T;
}

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
  const weightNames = fusedWeightNames(w, name);

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xIn, rab, ...weightInputs] = args.slice(0, -1) as tf.Tensor[];
    const byName = new Map(weightNames.map((n, i) => [n, weightInputs[i]!]));
    const v = (n: FusedWeight): tf.Tensor => byName.get(n)!; // fusedWeightNames checked every one exists
    const [g1, b1, w1, bias1, g2, b2, wo] = [v('ln_in.g'), v('ln_in.b'), v('uvqk.w'), v('uvqk.b'), v('ln_attn.g'), v('ln_attn.b'), v('out.w')];
    const x2 = tf.reshape(xIn!, [R, D]);
    const ln1 = layerNormForward(x2, g1, b1); // [R, D]
    const h = tf.add(matMulT(ln1.y, w1), bias1); // [R, F]
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
    const ln2 = layerNormForward(o, g2, b2);
    const gated = tf.mul(ln2.y, u); // [R, H·dv]
    const out = tf.add(matMulT(gated, wo), v('out.b')); // [R, D]
    const value = tf.reshape(tf.add(x2, mO === null ? out : tf.mul(out, mO)), [B, N, D]);
    // The constants (attention weights, row scale, dropout masks) are saved too, so an enclosing tidy keeps them for the backward pass.
    const restore = saveByName(save, {
      xhat1: ln1.xhat, rstd1: ln1.rstd, xn1: ln1.y, h, sH, a, u, vh, qr, kr, z, sZ, yZ, attn, xhat2: ln2.xhat, rstd2: ln2.rstd, xn2: ln2.y, gated,
      weights, rowScale, mU: mU ?? undefined, mV: mV ?? undefined, mO: mO ?? undefined,
    });
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const t = restore(saved);
        const dy2 = tf.reshape(dy, [R, D]);
        const dOut = t.mO === undefined ? dy2 : tf.mul(dy2, t.mO);
        const dWo = matMulT(t.gated, dOut, true, false);
        const dBo = tf.sum(dOut, 0);
        const dGated = matMulT(dOut, wo, false, true); // [R, H·dv]
        const ln2Grad = layerNormBackward(tf.mul(dGated, t.u), t.xhat2, t.rstd2, g2);
        let du = tf.mul(dGated, t.xn2);
        // o = unheads(AV ⊙ s): back through the scale, then AV = A·V.
        const dAv = tf.reshape(tf.mul(tf.reshape(heads(ln2Grad.dx, dv), [B, H, N, dv]), t.rowScale), [B * H, N, dv]);
        const dAttn = tf.reshape(matMulT(dAv, t.vh, false, true), [B, H, N, N]);
        let dv_ = unheads(matMulT(t.attn, dAv, true, false), dv); // [R, H·dv]
        const dz = tf.mul(tf.mul(dAttn, t.weights), siluSlope(t.sZ, t.yZ, t.z)); // [B, H, N, N]
        const dRab = rab!.shape[0] === 1 ? tf.sum(dz, [0, 1], true) : tf.sum(dz, 1, true);
        const dS = tf.reshape(dz, [B * H, N, N]);
        const dq = unheads(rotate(matMulT(dS, t.kr), 'backward'), dqk);
        const dk = unheads(rotate(matMulT(dS, t.qr, true, false), 'backward'), dqk);
        if (t.mU !== undefined) du = tf.mul(du, t.mU);
        if (t.mV !== undefined) dv_ = tf.mul(dv_, t.mV);
        const dh = tf.mul(tf.concat([du, dv_, dq, dk], 1), siluSlope(t.sH, t.a, t.h)); // [R, F]
        const dW1 = matMulT(t.xn1, dh, true, false);
        const dB1 = tf.sum(dh, 0);
        const ln1Grad = layerNormBackward(matMulT(dh, w1, false, true), t.xhat1, t.rstd1, g1);
        const dx = tf.reshape(tf.add(dy2, ln1Grad.dx), [B, N, D]);
        const grads: WeightGradients = { ln1: ln1Grad, dW1, dB1, ln2: ln2Grad, dWo, dBo };
        return [dx, dRab, ...weightNames.map((n) => GRADIENT_OF[n](grads))];
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor;

  const rab = relativeBias(w, `${name}.${RAB}`, bias); // [B|1, 1, N, N], differentiated by tfjs (gathers)
  return op(x, rab, ...weightNames.map((n) => w.get(`${name}.${n}`)));
}
