// The head every encoder's states go through (SPEC §5): LN → FiLM by action → L2-normalise, at
// every position; padding rows are zeroed. FiLM conditions on actions, a side feature: ids-only
// SASRec (the anchor) has LN → L2 only.
import * as tf from '@tensorflow/tfjs';
import { type ModelConfig, usesSideFeatures } from './config.ts';
import type { SequenceBatch } from './inputs.ts';
import type { ModelWeights } from './model-weights.ts';
import { initLayerNorm, l2Normalize, layerNorm } from './layers.ts';
import { film, initFilm } from './film.ts';
import { REAL_TOKENS, tokenMask } from './tokens.ts';

export function initHead(w: ModelWeights, c: ModelConfig): void {
  initLayerNorm(w, 'ln_out', c.hiddenUnits);
  if (usesSideFeatures(c)) initFilm(w, 'film', c.numActions, c.hiddenUnits);
}

/** Encoder output x [B, N, D] → unit-length states [B, N, D], zero vectors on padding. */
export function applyHead(w: ModelWeights, c: ModelConfig, x: tf.Tensor, b: SequenceBatch): tf.Tensor {
  const ln = layerNorm(w, 'ln_out', x); // [B, N, D]
  const h = usesSideFeatures(c) ? film(w, 'film', ln, tf.tensor2d(b.filmAction, [b.batchSize, b.seqLen], 'int32')) : ln;
  // Padding rows are zeroed: their (near-zero) states would give LN and L2 huge gradients.
  return tf.mul(l2Normalize(h), tokenMask(b, REAL_TOKENS)); // [B, N, D]
}
