// PinRec-style FiLM by action type: the sequence state is modulated by the action it is
// conditioned on, h ← h ⊙ (1 + r_scale·γ[a]) + b_scale·β[a]. γ and β start at zero, so the
// model starts unmodulated; r_scale and b_scale are learned scalars starting at 1.
import * as tf from '@tensorflow/tfjs';
import type { ModelWeights } from './model-weights.ts';
import { filled } from './init.ts';
import { gatherRows } from '../ops/fast-ops.ts';

export function initFilm(w: ModelWeights, name: string, numActions: number, d: number): void {
  w.add(`${name}.gamma`, 'film', [numActions, d], filled(numActions * d, 0));
  w.add(`${name}.beta`, 'film', [numActions, d], filled(numActions * d, 0));
  w.add(`${name}.r_scale`, 'film', [1], filled(1, 1));
  w.add(`${name}.b_scale`, 'film', [1], filled(1, 1));
}

/**
 * h [B, N, D], action [B, N] int32 → [B, N, D]. The per-action scale 1 + r·γ and shift b·β are
 * formed on the [A, D] tables and then gathered, so the full-size work is two gathers, a multiply
 * and an add (and their gradients), not the scalar products on every row.
 */
export function film(w: ModelWeights, name: string, h: tf.Tensor, action: tf.Tensor): tf.Tensor {
  const scales = tf.add(1, tf.mul(w.get(`${name}.r_scale`), w.get(`${name}.gamma`))); // [A, D]
  const shifts = tf.mul(w.get(`${name}.b_scale`), w.get(`${name}.beta`)); // [A, D]
  return tf.add(tf.mul(h, gatherRows(scales, action)), gatherRows(shifts, action));
}
