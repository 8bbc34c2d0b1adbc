// The encoder seam: what `model_type` chooses. An encoder maps token embeddings [B, N, D] to states
// [B, N, D] where state t depends only on tokens ≤ t (causal) and not on padding; it owns its
// variables ('blocks.<k>.*', 'sasrec.*'). Towers, head, loss, negatives and evaluation are shared.
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../random/rng.ts';
import type { ModelConfig } from '../config.ts';
import type { SequenceBatch } from '../inputs.ts';
import type { ModelWeights } from '../model-weights.ts';
import type { ForwardContext } from '../layers.ts';
import { encodeHstu, initHstu } from './hstu/hstu.ts';
import { encodeSasrec, initSasrec } from './sasrec/sasrec.ts';

export function initEncoder(w: ModelWeights, c: ModelConfig, rng: Rng): void {
  const e = c.encoder;
  switch (e.type) {
    case 'hstu':
      return initHstu(w, { ...c, encoder: e }, rng);
    case 'sasrec':
      return initSasrec(w, { ...c, encoder: e }, rng);
    default:
      throw unknownEncoder(e);
  }
}

/** tokens [B, N, D] (0 on padding, before dropout) → states [B, N, D]. Call inside tf.tidy. */
export function encodeWith(w: ModelWeights, c: ModelConfig, tokens: tf.Tensor, b: SequenceBatch, ctx: ForwardContext): tf.Tensor {
  const e = c.encoder;
  switch (e.type) {
    case 'hstu':
      return encodeHstu(w, { ...c, encoder: e }, tokens, b, ctx);
    case 'sasrec':
      return encodeSasrec(w, { ...c, encoder: e }, tokens, b, ctx);
    default:
      throw unknownEncoder(e);
  }
}

function unknownEncoder(never: never): Error {
  return new Error(`unknown encoder ${JSON.stringify(never)}`);
}
