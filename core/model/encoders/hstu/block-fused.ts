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
//   o = attention(q, k, v)              RoPE, QKᵀ + rab, SiLU, dropout, ·V, 1/n: attention-core.ts (tfjs ops,
//                                       or the fused native kernel)
//   g = LN(o) ⊙ u                       y = x + (g·W_o + b_o) ⊙ m_O
import * as tf from '@tensorflow/tfjs';
import type { HstuModelConfig } from '../../config.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { type ForwardContext, layerNormBackward, layerNormForward, nextDropoutSeed } from '../../layers.ts';
import { siluSlope } from '../../../ops/activations.ts';
import { matMulT } from '../../../ops/fast-ops.ts';
import { dropoutMultipliers } from '../../../ops/keep-mask.ts';
import { type AttentionMask, RAB } from './block.ts';
import type { BiasIndices } from './relative-bias.ts';
import { attentionCore } from './attention-core.ts';

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

/**
 * Saves `tensors` (undefined ones skipped) and then `more` for the backward pass; returns how to read them back:
 * the first by name, the rest as a list.
 */
function saveByName<T extends Record<string, tf.Tensor | undefined>>(save: tf.GradSaveFunc, tensors: T, more: tf.Tensor[]): (saved: tf.Tensor[]) => [T, tf.Tensor[]] {
  const names = Object.keys(tensors).filter((n) => tensors[n] !== undefined);
  save([...names.map((n) => tensors[n]!), ...more]);
  return (saved) => [Object.fromEntries(names.map((n, i) => [n, saved[i]])) as T, saved.slice(names.length)];
}

/** x [B, N, D] → [B, N, D]: hstuBlock's result, with a hand-written gradient for x, the attention's bias and the block's weights. */
export function hstuBlockFused(
  w: ModelWeights, c: HstuModelConfig, name: string, x: tf.Tensor, mask: AttentionMask, bias: BiasIndices, ctx: ForwardContext,
): tf.Tensor {
  const [B, N, D] = x.shape as [number, number, number];
  const [H, dv] = [c.numHeads, c.encoder.linearDim];
  const R = B * N;
  const drop = ctx.training && ctx.dropoutRate > 0;
  // Dropout draws in hstuBlock's order: U, V, then the attention (when the core is made), then the output.
  const mU = drop ? dropoutMultipliers([R, H * dv], nextDropoutSeed(ctx), ctx.dropoutRate, ctx.masks) : null;
  const mV = drop ? dropoutMultipliers([R, H * dv], nextDropoutSeed(ctx), ctx.dropoutRate, ctx.masks) : null;
  const core = attentionCore({ w, c, name, B, N, mask, bias, ctx });
  const mO = drop ? dropoutMultipliers([R, D], nextDropoutSeed(ctx), ctx.dropoutRate, ctx.masks) : null;
  const weightNames = fusedWeightNames(w, name);
  const nCore = core.inputs.length;

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xIn, ...rest] = args.slice(0, -1) as tf.Tensor[];
    const coreInputs = rest.slice(0, nCore);
    const byName = new Map(weightNames.map((n, i) => [n, rest[nCore + i]!]));
    const v = (n: FusedWeight): tf.Tensor => byName.get(n)!; // fusedWeightNames checked every one exists
    const [g1, b1, w1, bias1, g2, b2, wo] = [v('ln_in.g'), v('ln_in.b'), v('uvqk.w'), v('uvqk.b'), v('ln_attn.g'), v('ln_attn.b'), v('out.w')];
    const dqk = c.encoder.attentionDim;
    const x2 = tf.reshape(xIn!, [R, D]);
    const ln1 = layerNormForward(x2, g1, b1); // [R, D]
    const h = tf.add(matMulT(ln1.y, w1), bias1); // [R, F]
    const sH = tf.sigmoid(h);
    const a = tf.mul(h, sH); // SiLU
    const [uRaw, vRaw, q, k] = tf.split(a, [H * dv, H * dv, H * dqk, H * dqk], 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const u = mU === null ? uRaw : tf.mul(uRaw, mU); // [R, H·dv]
    const attention = core.forward(q, k, mV === null ? vRaw : tf.mul(vRaw, mV), coreInputs); // o: [R, H·dv]
    const ln2 = layerNormForward(attention.o, g2, b2);
    const gated = tf.mul(ln2.y, u); // [R, H·dv]
    const out = tf.add(matMulT(gated, wo), v('out.b')); // [R, D]
    const value = tf.reshape(tf.add(x2, mO === null ? out : tf.mul(out, mO)), [B, N, D]);
    // The dropout masks are saved too, so an enclosing tidy keeps them for the backward pass.
    const restore = saveByName(save, {
      xhat1: ln1.xhat, rstd1: ln1.rstd, xn1: ln1.y, h, sH, a, u, xhat2: ln2.xhat, rstd2: ln2.rstd, xn2: ln2.y, gated,
      mU: mU ?? undefined, mV: mV ?? undefined, mO: mO ?? undefined,
    }, attention.saved);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [t, coreSaved] = restore(saved);
        const dy2 = tf.reshape(dy, [R, D]);
        const dOut = t.mO === undefined ? dy2 : tf.mul(dy2, t.mO);
        const dWo = matMulT(t.gated, dOut, true, false);
        const dBo = tf.sum(dOut, 0);
        const dGated = matMulT(dOut, wo, false, true); // [R, H·dv]
        const ln2Grad = layerNormBackward(tf.mul(dGated, t.u), t.xhat2, t.rstd2, g2);
        let du = tf.mul(dGated, t.xn2);
        const back = core.backward(ln2Grad.dx, coreSaved);
        let dv_ = back.dv;
        if (t.mU !== undefined) du = tf.mul(du, t.mU);
        if (t.mV !== undefined) dv_ = tf.mul(dv_, t.mV);
        const dh = tf.mul(tf.concat([du, dv_, back.dq, back.dk], 1), siluSlope(t.sH, t.a, t.h)); // [R, F]
        const dW1 = matMulT(t.xn1, dh, true, false);
        const dB1 = tf.sum(dh, 0);
        const ln1Grad = layerNormBackward(matMulT(dh, w1, false, true), t.xhat1, t.rstd1, g1);
        const dx = tf.reshape(tf.add(dy2, ln1Grad.dx), [B, N, D]);
        const grads: WeightGradients = { ln1: ln1Grad, dW1, dB1, ln2: ln2Grad, dWo, dBo };
        return [dx, ...back.dInputs, ...weightNames.map((n) => GRADIENT_OF[n](grads))];
      },
    };
  }) as (...inputs: tf.Tensor[]) => tf.Tensor;

  return op(x, ...core.inputs, ...weightNames.map((n) => w.get(`${name}.${n}`)));
}
