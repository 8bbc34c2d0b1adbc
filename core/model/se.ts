// Squeeze-and-Excitation over feature fields: each field's embedding is squeezed to its mean, a
// two-layer bottleneck scores the fields, and each field is rescaled by its sigmoid weight, so the
// model learns which features matter (per row) before the DNN mixes them.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random/rng.ts';
import type { ModelWeights } from './model-weights.ts';
import { initLinear, linear } from './layers.ts';
import { relu } from '../ops/activations.ts';
import { meanLastAxis } from '../ops/fast-ops.ts';

export function seHidden(numFields: number): number {
  return Math.max(2, Math.ceil(numFields / 4));
}

export function initSqueezeExcite(w: ModelWeights, name: string, numFields: number, rng: Rng): void {
  const h = seHidden(numFields);
  initLinear(w, `${name}.fc1`, numFields, h, rng);
  initLinear(w, `${name}.fc2`, h, numFields, rng);
}

/** fields [R, F, E] → the same fields, each scaled by its learned weight in (0, 1). */
export function squeezeExcite(w: ModelWeights, name: string, fields: tf.Tensor): tf.Tensor {
  const z = meanLastAxis(fields); // [R, F]  squeeze
  const s = relu(linear(w, `${name}.fc1`, z)); // [R, h]
  const scale = tf.sigmoid(linear(w, `${name}.fc2`, s)); // [R, F]  excitation
  return tf.mul(fields, tf.expandDims(scale, -1)); // [R, F, E]
}
