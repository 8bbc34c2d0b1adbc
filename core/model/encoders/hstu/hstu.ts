// The HSTU encoder (Zhai et al. 2024; SPEC §5): token embeddings → Dropout → num_blocks × HSTU block
// (block.ts, run as block-fused.ts), causal, with relative position/time bias. Towers and the head
// (LN → FiLM → L2) are shared with every encoder (sequence-model.ts).
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../../random/rng.ts';
import type { HstuModelConfig } from '../../config.ts';
import type { SequenceBatch } from '../../inputs.ts';
import { TOKEN_PAD } from '../../inputs.ts';
import type { ModelWeights } from '../../model-weights.ts';
import { type ForwardContext, dropout } from '../../layers.ts';
import { sharedKeepProbabilities } from '../../../ops/keep-mask.ts';
import { type AttentionMask, initHstuBlock } from './block.ts';
import { hstuBlockFused } from './block-fused.ts';
import { type BiasIndices, positionBiasIndices, timeBiasIndices } from './relative-bias.ts';

/** The blocks' variables, 'blocks.<k>.*'. */
export function initHstu(w: ModelWeights, c: HstuModelConfig, rng: Rng): void {
  for (let k = 0; k < c.numBlocks; k++) initHstuBlock(w, c, `blocks.${k}`, rng);
}

/**
 * Which keys each query sees — key j ≤ i, both real tokens — as 0/1 [B, N, N], and the 1/n each
 * query's attention is divided by [B, N] (0 on padding rows).
 */
export function attentionMask(c: HstuModelConfig, b: SequenceBatch): { visible: Float32Array; rowScale: Float32Array } {
  const N = b.seqLen;
  const visible = new Float32Array(b.batchSize * N * N);
  const rowScale = new Float32Array(b.batchSize * N);
  for (let s = 0; s < b.batchSize; s++) {
    for (let i = 0; i < N; i++) {
      if (b.tokenType[s * N + i] === TOKEN_PAD) continue;
      const row = (s * N + i) * N;
      let seen = 0;
      for (let j = 0; j <= i; j++) {
        if (b.tokenType[s * N + j] !== TOKEN_PAD) {
          visible[row + j] = 1;
          seen++;
        }
      }
      // 'padded' divides by the configured padded length (not the batch's N) so extra left padding
      // changes nothing; 'real' by the keys this query sees (the total length would leak the future).
      rowScale[s * N + i] = 1 / (c.encoder.attnNorm === 'padded' ? c.maxlen + 1 : seen);
    }
  }
  return { visible, rowScale };
}

/** `t` unless it is missing or was disposed (an enclosing tidy ended), else a new one from `make`. */
function live(t: tf.Tensor | undefined, make: () => tf.Tensor): tf.Tensor {
  return t !== undefined && !t.isDisposed ? t : make();
}

/**
 * The mask and bias indices every block of one forward shares. Their tensors are made on first use, in the
 * caller's tidy (again if that tidy has since disposed them): the native attention kernel reads the arrays only.
 */
export function attentionInputs(c: HstuModelConfig, b: SequenceBatch, ctx: ForwardContext): { mask: AttentionMask; bias: BiasIndices } {
  const [B, N] = [b.batchSize, b.seqLen];
  const m = attentionMask(c, b);
  const timeIdx = c.loadTimeIntervals ? timeBiasIndices(b.timestamp, B, N, c.encoder.timeBuckets) : null;
  const made: { visible?: tf.Tensor; rowScale?: tf.Tensor; keep?: tf.Tensor; pos?: tf.Tensor; time?: tf.Tensor } = {};
  const mask: AttentionMask = {
    visible: m.visible,
    rowScaleArray: m.rowScale,
    get visibleTensor() { return (made.visible = live(made.visible, () => tf.tensor4d(m.visible, [B, 1, N, N]))); },
    get rowScale() { return (made.rowScale = live(made.rowScale, () => tf.tensor4d(m.rowScale, [B, 1, N, 1]))); },
    get keepVisible() {
      if (!ctx.training) return undefined;
      const keep = made.keep !== undefined && !made.keep.isDisposed ? made.keep : sharedKeepProbabilities(this.visibleTensor, c.dropoutRate, ctx.masks);
      return (made.keep = keep);
    },
  };
  const bias: BiasIndices = {
    timeIdx,
    get pos() { return (made.pos = live(made.pos, () => tf.tensor2d(positionBiasIndices(N), [N, N], 'int32'))); },
    get time() { return timeIdx === null ? null : (made.time = live(made.time, () => tf.tensor3d(timeIdx, [B, N, N], 'int32'))); },
  };
  return { mask, bias };
}

/** tokens [B, N, D] → states [B, N, D] (before the head). Call inside tf.tidy. */
export function encodeHstu(w: ModelWeights, c: HstuModelConfig, tokens: tf.Tensor, b: SequenceBatch, ctx: ForwardContext): tf.Tensor {
  const { mask, bias } = attentionInputs(c, b, ctx);
  let x = dropout(ctx, tokens); // [B, N, D]
  for (let k = 0; k < c.numBlocks; k++) x = hstuBlockFused(w, c, `blocks.${k}`, x, mask, bias, ctx);
  return x;
}
