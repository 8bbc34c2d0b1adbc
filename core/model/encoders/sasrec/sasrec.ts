// The SASRec encoder (Kang & McAuley 2018; the reference baseline of SPEC §5), as
// facebookresearch/generative-recommenders' SASRec with learnable positional embeddings:
//   x = tokens·√D + P[pos]         learned absolute positions, pos = index from the sequence's
//                                  first real token (0 = oldest), so left padding changes nothing
//   x = Dropout(x) ⊙ valid
//   num_blocks × SASRec block (block.ts): causal softmax attention + point-wise FFN
// Tokens come from the shared embeddings (ids only, or the feature towers with sasrec_features);
// the shared head (LN → L2, FiLM with side features) follows.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../../random/rng.ts';
import type { SasrecModelConfig } from '../../config.ts';
import type { SequenceBatch } from '../../inputs.ts';
import { TOKEN_PAD } from '../../inputs.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { truncatedNormal } from '../../init.ts';
import { type ForwardContext, dropout } from '../../layers.ts';
import { gatherRows } from '../../../ops/fast-ops.ts';
import { REAL_TOKENS, tokenMask } from '../../tokens.ts';
import { MASKED, initSasrecBlock, sasrecBlock } from './block.ts';

const POSITIONS = 'sasrec.pos';

export function initSasrec(w: ModelWeights, c: SasrecModelConfig, rng: Rng): void {
  const [T, D] = [c.maxlen + 1, c.hiddenUnits];
  w.add(POSITIONS, 'embedding', [T, D], truncatedNormal(rng, T * D, Math.sqrt(1 / D))); // the reference's std √(1/D)
  for (let k = 0; k < c.numBlocks; k++) initSasrecBlock(w, c, `sasrec.blocks.${k}`, rng);
}

/** Position of each token counted from its sequence's first real token (0 on padding): [B, N]. */
export function positionIndices(b: SequenceBatch): Int32Array {
  const N = b.seqLen;
  const out = new Int32Array(b.batchSize * N);
  for (let s = 0; s < b.batchSize; s++) {
    let first = -1;
    for (let i = 0; i < N; i++) {
      if (first < 0 && b.tokenType[s * N + i] !== TOKEN_PAD) first = i;
      if (first >= 0) out[s * N + i] = i - first;
    }
  }
  return out;
}

/** 0 where key j is visible to query i (j ≤ i, both real tokens), MASKED elsewhere: [B, 1, N, N]. */
export function attentionMaskBias(b: SequenceBatch): Float32Array {
  const N = b.seqLen;
  const out = new Float32Array(b.batchSize * N * N).fill(MASKED);
  for (let s = 0; s < b.batchSize; s++) {
    for (let i = 0; i < N; i++) {
      if (b.tokenType[s * N + i] === TOKEN_PAD) continue;
      for (let j = 0; j <= i; j++) if (b.tokenType[s * N + j] !== TOKEN_PAD) out[(s * N + i) * N + j] = 0;
    }
  }
  return out;
}

/** tokens [B, N, D] → states [B, N, D] (before the head). Call inside tf.tidy. */
export function encodeSasrec(w: ModelWeights, c: SasrecModelConfig, tokens: tf.Tensor, b: SequenceBatch, ctx: ForwardContext): tf.Tensor {
  const [B, N, D] = [b.batchSize, b.seqLen, c.hiddenUnits];
  const valid = tokenMask(b, REAL_TOKENS); // [B, N, 1]
  const positions = gatherRows(w.get(POSITIONS), tf.tensor2d(positionIndices(b), [B, N], 'int32')); // [B, N, D]
  let x = tf.mul(dropout(ctx, tf.add(tf.mul(tokens, Math.sqrt(D)), positions)), valid); // [B, N, D]
  const maskBias = tf.tensor4d(attentionMaskBias(b), [B, 1, N, N]);
  for (let k = 0; k < c.numBlocks; k++) x = sasrecBlock(w, c, `sasrec.blocks.${k}`, x, maskBias, valid, ctx);
  return x;
}
