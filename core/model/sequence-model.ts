// The model seam (SPEC §5): one interface that training, validation, evaluation and item embedding
// use, whatever encoder `model_type` chose. Every model is
//   tokens:  embedTokens (tokens.ts)                          [B, N, D]
//   encoder: HSTU or SASRec blocks (encoders/)                [B, N, D], causal: state t sees tokens ≤ t
//   head:    LN → FiLM → L2 (head.ts)                         [B, N, D], the query for the item at t + 1
//   items:   embedTargets → L2                                [M, D]
// Pure functions of (weights, batch, options) behind it; no data or file access except save.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.ts';
import { type ModelConfig, validateModelConfig } from './config.ts';
import type { SequenceBatch, TargetItems } from './inputs.ts';
import { ModelWeights } from './model-weights.ts';
import { type ForwardOptions, embed, l2Normalize, makeForwardContext } from './layers.ts';
import { ITEM_TABLE, embedTargets, embedTokens, initEmbeddings } from './tokens.ts';
import { applyHead, initHead } from './head.ts';
import { encodeWith, initEncoder } from './encoders/encoder.ts';
import { readModelDir, writeModelDir } from './weights-io.ts';

export interface SequenceModel {
  readonly config: ModelConfig;
  readonly weights: ModelWeights;
  /** Sequence states at every position, L2-normalised, zero on padding: [B, N, D]. */
  encodeSequences(b: SequenceBatch, opts: ForwardOptions): tf.Tensor;
  /** Item embeddings, L2-normalised: [M, D]. Deterministic (no dropout). */
  encodeTargets(t: TargetItems): tf.Tensor;
  /**
   * Training's forward pass: both of the above with ONE lookup of the item table, split afterwards —
   * so its gradient is one segment sum into the table, not two dense [items, E] gradients and their sum.
   */
  encodeSequencesAndTargets(b: SequenceBatch, t: TargetItems, opts: ForwardOptions): { states: tf.Tensor; items: tf.Tensor };
  /** Writes the weights and config as their own directory, atomically (weights-io.ts). */
  save(dir: string): Promise<void>;
  dispose(): void;
}

function states(w: ModelWeights, c: ModelConfig, b: SequenceBatch, opts: ForwardOptions, itemEmb?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const ctx = makeForwardContext(c.dropoutRate, opts);
    const x = encodeWith(w, c, embedTokens(w, c, b, itemEmb), b, ctx); // [B, N, D]
    return applyHead(w, c, x, b);
  });
}

function targets(w: ModelWeights, c: ModelConfig, t: TargetItems, itemEmb?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => l2Normalize(embedTargets(w, c, t, itemEmb)));
}

/** The model over existing variables (fresh from initModel, or read by loadModel). */
export function modelOf(config: ModelConfig, w: ModelWeights): SequenceModel {
  const c = validateModelConfig(config);
  return {
    config: c,
    weights: w,
    encodeSequences: (b, opts) => states(w, c, b, opts),
    encodeTargets: (t) => targets(w, c, t),
    encodeSequencesAndTargets: (b, t, opts) => {
      const ids = new Int32Array(b.itemIdx.length + t.itemIdx.length);
      ids.set(b.itemIdx);
      ids.set(t.itemIdx, b.itemIdx.length);
      const both = embed(w, ITEM_TABLE, tf.tensor1d(ids, 'int32')); // [B·N + M, E]
      const [history, items] = tf.split(both, [b.itemIdx.length, t.itemIdx.length], 0);
      return { states: states(w, c, b, opts, history), items: targets(w, c, t, items) };
    },
    save: (dir) => writeModelDir(dir, w, c),
    dispose: () => w.dispose(),
  };
}

/** Creates every variable of the model from `seed` (same seed → same weights on any backend). */
export function initModel(config: ModelConfig, seed: number): SequenceModel {
  const c = validateModelConfig(config);
  const w = new ModelWeights();
  const rng = new Rng(seed, 0x4d4f44); // 'MOD' stream: model init never shares draws with data RNGs
  initEmbeddings(w, c, rng);
  initEncoder(w, c, rng);
  initHead(w, c);
  return modelOf(c, w);
}

/** Reads a model directory written by save (or an older HSTU one, upgraded: weights-io.ts). */
export function loadModel(dir: string): SequenceModel {
  const { config, weights } = readModelDir(dir);
  return modelOf(config, weights);
}

/** The query of each sequence: its state at the last position. states [B, N, D] → [B, D] */
export function lastPosition(states: tf.Tensor): tf.Tensor {
  const [B, N, D] = states.shape as [number, number, number];
  return tf.reshape(tf.slice(states, [0, N - 1, 0], [B, 1, D]), [B, D]);
}
