// PinRec-style FiLM by action type: the sequence state is modulated by the action it is
// conditioned on, h ← h ⊙ (1 + r_scale·γ[a]) + b_scale·β[a]. γ and β start at zero, so the
// model starts unmodulated; r_scale and b_scale are learned scalars starting at 1.
import * as tf from '@tensorflow/tfjs';
import { type ModelParams, filled } from './init.ts';
import { gatherRows } from '../ops/fast-ops.ts';

export function initFilm(p: ModelParams, name: string, numActions: number, d: number): void {
  p.add(`${name}.gamma`, 'film', [numActions, d], filled(numActions * d, 0));
  p.add(`${name}.beta`, 'film', [numActions, d], filled(numActions * d, 0));
  p.add(`${name}.r_scale`, 'film', [1], filled(1, 1));
  p.add(`${name}.b_scale`, 'film', [1], filled(1, 1));
}

/**
 * h [B, N, D], action [B, N] int32 → [B, N, D]. The per-action scale 1 + r·γ and shift b·β are
 * formed on the [A, D] tables and then gathered, so the full-size work is two gathers, a multiply
 * and an add (and their gradients), not the scalar products on every row.
 */
export function film(p: ModelParams, name: string, h: tf.Tensor, action: tf.Tensor): tf.Tensor {
  const scales = tf.add(1, tf.mul(p.get(`${name}.r_scale`), p.get(`${name}.gamma`))); // [A, D]
  const shifts = tf.mul(p.get(`${name}.b_scale`), p.get(`${name}.beta`)); // [A, D]
  return tf.add(tf.mul(h, gatherRows(scales, action)), gatherRows(shifts, action));
}
