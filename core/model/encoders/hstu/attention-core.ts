// The attention section of the fused HSTU block (block-fused.ts), between the projections and the output norm:
//   q, k ← RoPE(heads(q)), RoPE(heads(k))
//   z = q·kᵀ + rab                      A = SiLU(z) ⊙ W        (W: visible keys, attention dropout)
//   o = unheads((A·heads(v)) ⊙ s)       s = 1/n (·1/(1 − rate))
// with its backward pass, in two interchangeable implementations:
// - tfjsCore: the arithmetic above as tfjs ops on [B, H, N, N] tensors (every backend);
// - nativeCore: the fused kernel of native/attention.cc, which never builds the [B, H, N, N] tensors, takes q, k,
//   v in the projections' token-major layout (no head transposes) and applies RoPE and the relative bias itself
//   (~60 engine calls a block fewer). Used on the native TensorFlow backend when the kernel is built;
//   test/core/model/encoders/hstu/attention-native.test.ts checks it against autodiff of block.ts.
// Attention dropout draws its seed at the same point in both; tfjsCore's mask comes from keep-mask.ts, nativeCore's
// from the kernel's hash of the seed (or from the JS stream when ctx.masks.jsMasks asks for the same masks everywhere).
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { type HstuModelConfig, ropeDim } from '../../config.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { type ForwardContext, nextDropoutSeed } from '../../layers.ts';
import { siluSlope } from '../../../ops/activations.ts';
import { matMulT } from '../../../ops/fast-ops.ts';
import { attentionKeepArray } from '../../../ops/keep-mask.ts';
import { nativeBackend } from '../../../ops/native.ts';
import { splitHeads } from '../../heads.ts';
import { ropeFunctions, ropeTables } from './rope.ts';
import { type AttentionMask, RAB, attentionWeights } from './block.ts';
import { type BiasIndices, relativeBias } from './relative-bias.ts';
import { type AttentionKernel, attentionKernel } from './native/attention.ts';

/** One block's attention: o [R, H·dv] from q, k [R, H·dqk] and v [R, H·dv], and the gradients back. */
export interface AttentionCore {
  /** Differentiable inputs besides q, k, v: rab (tfjsCore) or the bias tables w_pos(, w_time) (nativeCore). */
  inputs: tf.Tensor[];
  /** `inputs` are the op's own copies of the tensors above; `saved` goes through the op's save function. */
  forward(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, inputs: tf.Tensor[]): { o: tf.Tensor; saved: tf.Tensor[] };
  /** dO [R, H·dv] → gradients of q, k, v (their shapes) and of each input. */
  backward(dO: tf.Tensor, saved: tf.Tensor[]): { dq: tf.Tensor; dk: tf.Tensor; dv: tf.Tensor; dInputs: tf.Tensor[] };
}

/** What both implementations need: the block, its shapes, the mask and bias indices, the forward context. */
export interface CoreSetting {
  w: ModelWeights;
  c: HstuModelConfig;
  name: string; // the block's variable prefix
  B: number;
  N: number;
  mask: AttentionMask;
  bias: BiasIndices;
  ctx: ForwardContext;
}

/** The native kernel on the native TensorFlow backend when it is built, else tfjs ops. Draws the attention dropout seed. */
export function attentionCore(s: CoreSetting): AttentionCore {
  const kernel = nativeBackend() !== null ? attentionKernel() : null;
  return kernel !== null ? nativeCore(kernel, s) : tfjsCore(s);
}

/** The attention as tfjs ops: the reference arithmetic (block.ts) with its backward written out. */
export function tfjsCore({ w, c, name, B, N, mask, bias, ctx }: CoreSetting): AttentionCore {
  const [H, dv, dqk] = [c.numHeads, c.encoder.linearDim, c.encoder.attentionDim];
  const R = B * N;
  const { weights, scale } = attentionWeights(ctx, mask, H);
  const rowScale = scale === 1 ? mask.rowScale : tf.mul(mask.rowScale, scale); // [B, 1, N, 1]
  const rope = c.encoder.useRope ? ropeFunctions(N, dqk, ropeDim(c.encoder), c.encoder.ropeTheta) : null;
  const heads = (t: tf.Tensor, d: number) => splitHeads(t, B, N, H, d); // [R, H·d] → [B·H, N, d]
  /** [B·H, N, d] → [R, H·d] */
  const unheads = (t: tf.Tensor, d: number) => tf.reshape(tf.transpose(tf.reshape(t, [B, H, N, d]), [0, 2, 1, 3]), [R, H * d]);
  const rotate = (t: tf.Tensor, f: 'forward' | 'backward') => (rope === null ? t : tf.reshape(rope[f](tf.reshape(t, [B, H, N, dqk])), [B * H, N, dqk]));
  const rab = relativeBias(w, `${name}.${RAB}`, bias); // [B|1, 1, N, N], differentiated by tfjs (gathers)
  return {
    inputs: [rab],
    forward(q, k, v, [rabIn]) {
      const vh = heads(v, dv); // [B·H, N, dv]
      const qr = rotate(heads(q, dqk), 'forward'); // [B·H, N, dqk]
      const kr = rotate(heads(k, dqk), 'forward');
      const z = tf.add(tf.reshape(matMulT(qr, kr, false, true), [B, H, N, N]), rabIn!); // [B, H, N, N]
      const sZ = tf.sigmoid(z);
      const yZ = tf.mul(z, sZ);
      const attn = tf.reshape(tf.mul(yZ, weights), [B * H, N, N]);
      const o = unheads(tf.reshape(tf.mul(tf.reshape(matMulT(attn, vh), [B, H, N, dv]), rowScale), [B * H, N, dv]), dv); // [R, H·dv]
      // The constants (attention weights, row scale) are saved too, so an enclosing tidy keeps them for the backward pass.
      return { o, saved: [vh, qr, kr, z, sZ, yZ, attn, weights, rowScale] };
    },
    backward(dO, [vh, qr, kr, z, sZ, yZ, attn, sw, rs]) {
      // o = unheads(AV ⊙ s): back through the scale, then AV = A·V.
      const dAv = tf.reshape(tf.mul(tf.reshape(heads(dO, dv), [B, H, N, dv]), rs!), [B * H, N, dv]);
      const dAttn = tf.reshape(matMulT(dAv, vh!, false, true), [B, H, N, N]);
      const dv_ = unheads(matMulT(attn!, dAv, true, false), dv); // [R, H·dv]
      const dz = tf.mul(tf.mul(dAttn, sw!), siluSlope(sZ!, yZ!, z!)); // [B, H, N, N]
      const dRab = rab.shape[0] === 1 ? tf.sum(dz, [0, 1], true) : tf.sum(dz, 1, true);
      const dS = tf.reshape(dz, [B * H, N, N]);
      const dq = unheads(rotate(matMulT(dS, kr!), 'backward'), dqk);
      const dk = unheads(rotate(matMulT(dS, qr!, true, false), 'backward'), dqk);
      return { dq, dk, dv: dv_, dInputs: [dRab] };
    },
  };
}

const EMPTY_F32 = new Float32Array(0);
const EMPTY_I32 = new Int32Array(0);

/** The attention by the fused kernel: its inputs and results cross as typed arrays (one copy each way). */
export function nativeCore(kernel: AttentionKernel, { w, c, name, B, N, mask, bias, ctx }: CoreSetting): AttentionCore {
  const [H, dv, dqk] = [c.numHeads, c.encoder.linearDim, c.encoder.attentionDim];
  const R = B * N;
  const drop = ctx.training && ctx.dropoutRate > 0;
  const seed = drop ? nextDropoutSeed(ctx) : 0; // the attention's draw, where attentionWeights draws it
  const rate = drop ? ctx.dropoutRate : 0;
  const keep = drop && ctx.masks?.jsMasks ? attentionKeepArray(mask.visible, B, H, N, seed, rate) : EMPTY_F32;
  const scale = Math.fround(drop ? 1 / (1 - rate) : 1);
  const rowScale = drop ? mask.rowScaleArray.map((x) => Math.fround(x * scale)) : mask.rowScaleArray;
  const half = c.encoder.useRope ? ropeDim(c.encoder) / 2 : 0;
  const tables = half > 0 ? ropeTables(N, 2 * half, c.encoder.ropeTheta) : { cos: EMPTY_F32, sin: EMPTY_F32 };
  const dims = Int32Array.from([B, H, N, dqk, dv, half]);
  const timeIdx = bias.timeIdx ?? EMPTY_I32;
  const biasTables = [w.get(`${name}.${RAB}.pos`), ...(bias.timeIdx !== null ? [w.get(`${name}.${RAB}.time`)] : [])];
  const threads = availableParallelism();
  let operands: Parameters<AttentionKernel['attentionForward']> | null = null; // the forward's, reused by the backward
  return {
    inputs: biasTables,
    forward(q, k, v, [wPos, wTime]) {
      const f32 = (t: tf.Tensor) => t.dataSync() as Float32Array;
      operands = [
        f32(q), f32(k), f32(v), dims, mask.visible, rowScale, keep, f32(wPos!), wTime === undefined ? EMPTY_F32 : f32(wTime),
        timeIdx, tables.cos, tables.sin, seed, rate, threads,
      ];
      return { o: tf.tensor2d(kernel.attentionForward(...operands), [R, H * dv]), saved: [] };
    },
    backward(dO) {
      if (operands === null) throw new Error('nativeCore: backward before forward');
      const g = kernel.attentionBackward(...operands, dO.dataSync() as Float32Array);
      const dInputs = [tf.tensor2d(g.dwPos, [g.dwPos.length, 1])];
      if (bias.timeIdx !== null) dInputs.push(tf.tensor2d(g.dwTime, [g.dwTime.length, 1]));
      return { dq: tf.tensor2d(g.dq, [R, H * dqk]), dk: tf.tensor2d(g.dk, [R, H * dqk]), dv: tf.tensor2d(g.dv, [R, H * dv]), dInputs };
    },
  };
}
