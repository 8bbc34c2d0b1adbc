// PinRec-style FiLM by action type: the sequence state is modulated by the action it is
// conditioned on, h ← h ⊙ (1 + r_scale·γ[a]) + b_scale·β[a]. γ and β start at zero, so the
// model starts unmodulated; r_scale and b_scale are learned scalars starting at 1.
import * as tf from '@tensorflow/tfjs';
import { type ModelParams, filled } from './init.ts';
import { embed } from './layers.ts';

export function initFilm(p: ModelParams, name: string, numActions: number, d: number): void {
  p.add(`${name}.gamma`, 'film', [numActions, d], filled(numActions * d, 0));
  p.add(`${name}.beta`, 'film', [numActions, d], filled(numActions * d, 0));
  p.add(`${name}.r_scale`, 'film', [1], filled(1, 1));
  p.add(`${name}.b_scale`, 'film', [1], filled(1, 1));
}

/** h [B, N, D], action [B, N] int32 → [B, N, D] */
export function film(p: ModelParams, name: string, h: tf.Tensor, action: tf.Tensor): tf.Tensor {
  const gamma = embed(p, `${name}.gamma`, action); // [B, N, D]
  const beta = embed(p, `${name}.beta`, action); // [B, N, D]
  const scale = tf.add(1, tf.mul(p.get(`${name}.r_scale`), gamma));
  return tf.add(tf.mul(h, scale), tf.mul(p.get(`${name}.b_scale`), beta));
}
