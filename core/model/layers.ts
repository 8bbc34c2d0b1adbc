// Small building blocks over named variables: Linear, LayerNorm, Embedding, seeded Dropout (SiLU and
// ReLU, whose gradients have native kernels, live in core/ops/activations.ts).
// Each has an init* that creates its variables and a function that applies them.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random/rng.ts';
import type { ModelWeights } from './model-weights.ts';
import { INIT_STD, filled, truncatedNormal } from './init.ts';
import { gatherRows, matMul2d, reshapeTo } from '../ops/fast-ops.ts';
import { type KeepMaskOptions, dropoutMultipliers } from '../ops/keep-mask.ts';

/** What a caller asks of one forward pass. */
export interface ForwardOptions {
  training: boolean; // dropout on
  seed?: number; // dropout seed for this call (e.g. from the step counter); same seed → same masks
  jsMasks?: boolean; // dropout masks from the JS stream on every backend (core/ops/keep-mask.ts): backend parity tests
}

/** Per-forward state: training flag and the dropout seed stream (reproducible for a given seed). */
export interface ForwardContext {
  training: boolean;
  dropoutRate: number;
  seed: number; // base seed of this forward call, e.g. derived from the step counter
  calls: number; // dropout calls so far in this forward; each gets its own seed
  masks: KeepMaskOptions; // where dropout masks are drawn
}

export function makeForwardContext(dropoutRate: number, opts: ForwardOptions): ForwardContext {
  return { training: opts.training, dropoutRate, seed: opts.seed ?? 0, calls: 0, masks: { jsMasks: opts.jsMasks ?? false } };
}

export function initLinear(w: ModelWeights, name: string, dIn: number, dOut: number, rng: Rng, bias = true, std = INIT_STD): void {
  w.add(`${name}.w`, 'weight', [dIn, dOut], truncatedNormal(rng, dIn * dOut, std));
  if (bias) w.add(`${name}.b`, 'bias', [dOut], filled(dOut, 0));
}

/** x [..., dIn] · W [dIn, dOut] (+ b) → [..., dOut], as one 2-D product. */
export function linear(w: ModelWeights, name: string, x: tf.Tensor): tf.Tensor {
  const weight = w.get(`${name}.w`);
  const dIn = weight.shape[0]!;
  const dOut = weight.shape[1]!;
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = matMul2d(reshapeTo(x, [-1, dIn]), weight); // [R, dOut]
  const b = w.vars.get(`${name}.b`);
  if (b !== undefined) y = tf.add(y, b);
  return reshapeTo(y, [...lead, dOut]);
}

export function initLayerNorm(w: ModelWeights, name: string, d: number): void {
  w.add(`${name}.g`, 'norm', [d], filled(d, 1));
  w.add(`${name}.b`, 'norm', [d], filled(d, 0));
}

export const LN_EPS = 1e-5;

/** LayerNorm over the last axis. */
export function layerNorm(w: ModelWeights, name: string, x: tf.Tensor): tf.Tensor {
  return layerNormOp(x, w.get(`${name}.g`), w.get(`${name}.b`));
}

/** LayerNorm's forward pass over the last axis: the output and what its gradient needs. */
export function layerNormForward(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): { y: tf.Tensor; xhat: tf.Tensor; rstd: tf.Tensor } {
  // Not tf.moments: it casts x three times and subtracts the mean twice (once inside, once here).
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), LN_EPS)); // [..., 1]
  const xhat = tf.mul(centered, rstd);
  return { y: tf.add(tf.mul(xhat, gamma), beta), xhat, rstd };
}

/**
 * LayerNorm's closed-form gradient: with ĝ = dy·γ, dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ,
 * dγ = Σ dy·x̂, dβ = Σ dy (sums over the leading axes).
 */
export function layerNormBackward(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, gamma: tf.Tensor): { dx: tf.Tensor; dGamma: tf.Tensor; dBeta: tf.Tensor } {
  const d = gamma.shape[0]!;
  const g = tf.mul(dy, gamma); // ĝ
  const centered = tf.sub(g, tf.mean(g, -1, true));
  const dx = tf.mul(tf.sub(centered, tf.mul(xhat, tf.mean(tf.mul(g, xhat), -1, true))), rstd);
  return { dx, dGamma: tf.sum(reshapeTo(tf.mul(dy, xhat), [-1, d]), 0), dBeta: tf.sum(reshapeTo(dy, [-1, d]), 0) };
}

/**
 * LayerNorm of x [..., D] with γ, β [D], and its closed-form gradient (layerNormBackward): about
 * 12 kernels for the backward pass where autodiff of moments/rsqrt runs ~25.
 */
export const layerNormOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, gamma, beta, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const { y, xhat, rstd } = layerNormForward(x, gamma, beta);
  save([xhat, rstd, gamma]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sxhat, srstd, sgamma] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const { dx, dGamma, dBeta } = layerNormBackward(dy, sxhat, srstd, sgamma);
      return [dx, dGamma, dBeta];
    },
  };
}) as (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => tf.Tensor;

export function initEmbedding(w: ModelWeights, name: string, vocab: number, dim: number, rng: Rng, kind: 'embedding' | 'itemEmbedding' = 'embedding'): void {
  w.add(name, kind, [vocab, dim], truncatedNormal(rng, vocab * dim));
  w.lookupTables.add(name);
}

/**
 * Rows of the table `name` at int32 `indices` [...S] → [...S, E]: the one door to a lookup table, so that
 * row-sparse training (w.rowSource) can serve the rows and keep their gradient as rows.
 */
export function embed(w: ModelWeights, name: string, indices: tf.Tensor): tf.Tensor {
  if (w.rowSource?.has(name)) return w.rowSource.rows(name, indices);
  return gatherRows(w.get(name), indices);
}

/** The seed of the context's next dropout call (each call gets its own stream). */
export function nextDropoutSeed(ctx: ForwardContext): number {
  return (Math.imul(ctx.seed >>> 0, 0x9e3779b1) ^ Math.imul(++ctx.calls, 0x85ebca6b)) >>> 0;
}

/** Inverted dropout with a seed derived from the context, so a training step is reproducible. */
export function dropout(ctx: ForwardContext, x: tf.Tensor): tf.Tensor {
  if (!ctx.training || ctx.dropoutRate === 0) return x;
  return tf.mul(x, dropoutMultipliers(x.shape, nextDropoutSeed(ctx), ctx.dropoutRate, ctx.masks));
}

/** Below this squared norm a row is scaled by 1/√L2_FLOOR instead (all-zero rows stay finite). */
const L2_FLOOR = 1e-12;

/**
 * x / ‖x‖ over the last axis: y = x·r, r = 1/√max(Σx², ε). Closed-form gradient
 * dx = r·(dy − y·Σ(dy·y)) (dx = r·dy where the floor holds): no ones tensor built in JS for the
 * sum's gradient, ~half the kernels of autodiff.
 */
export const l2Normalize = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const s = tf.sum(tf.square(x), -1, true); // [..., 1]
  const r = tf.rsqrt(tf.maximum(s, L2_FLOOR));
  const y = tf.mul(x, r);
  save([y, r, s]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sy, sr, ss] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
      const along = tf.mul(tf.sum(tf.mul(dy, sy), -1, true), tf.cast(tf.greaterEqual(ss, L2_FLOOR), 'float32')); // [..., 1]
      return tf.mul(tf.sub(dy, tf.mul(sy, along)), sr);
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;
