// The model seam (SPEC §5): one interface that training, validation, evaluation and item embedding
// use, whatever encoder `model_type` chose. Every model is
//   tokens:  embedTokens (tokens.ts)                          [B, N, D]
//   encoder: HSTU or SASRec blocks (encoders/)                [B, N, D], causal: state t sees tokens ≤ t
//   head:    LN → FiLM → L2 (head.ts)                         [B, N, D], the query for the item at t + 1
//   items:   embedTargets → L2                                [M, D]
// Pure functions of (params, batch, options) behind it; no data or file access except save.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.ts';
import { type ModelConfig, validateModelConfig } from './config.ts';
import type { SequenceBatch, TargetItems } from './inputs.ts';
import { ModelParams } from './init.ts';
import { l2Normalize, makeForwardContext } from './layers.ts';
import { gatherRows } from '../ops/fast-ops.ts';
import { ITEM_TABLE, embedTargets, embedTokens, initEmbeddings } from './tokens.ts';
import { applyHead, initHead } from './head.ts';
import { encodeWith, initEncoder } from './encoders/encoder.ts';
import { readModelDir, writeModelDir } from './weights-io.ts';

export interface ForwardOptions {
  training: boolean; // dropout on
  seed?: number; // dropout seed for this call (e.g. from the step counter); same seed → same masks
}

export interface SequenceModel {
  readonly config: ModelConfig;
  readonly params: ModelParams;
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

function states(p: ModelParams, c: ModelConfig, b: SequenceBatch, opts: ForwardOptions, itemEmb?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const ctx = makeForwardContext(opts.training, c.dropoutRate, opts.seed ?? 0);
    const x = encodeWith(p, c, embedTokens(p, c, b, itemEmb), b, ctx); // [B, N, D]
    return applyHead(p, c, x, b);
  });
}

function targets(p: ModelParams, c: ModelConfig, t: TargetItems, itemEmb?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => l2Normalize(embedTargets(p, c, t, itemEmb)));
}

/** The model over existing variables (fresh from initModel, or read by loadModel). */
export function modelOf(config: ModelConfig, params: ModelParams): SequenceModel {
  const c = validateModelConfig(config);
  const p = params;
  return {
    config: c,
    params: p,
    encodeSequences: (b, opts) => states(p, c, b, opts),
    encodeTargets: (t) => targets(p, c, t),
    encodeSequencesAndTargets: (b, t, opts) => {
      const ids = new Int32Array(b.itemIdx.length + t.itemIdx.length);
      ids.set(b.itemIdx);
      ids.set(t.itemIdx, b.itemIdx.length);
      const both = gatherRows(p.get(ITEM_TABLE), tf.tensor1d(ids, 'int32')); // [B·N + M, E]
      const [history, items] = tf.split(both, [b.itemIdx.length, t.itemIdx.length], 0);
      return { states: states(p, c, b, opts, history), items: targets(p, c, t, items) };
    },
    save: (dir) => writeModelDir(dir, p, c),
    dispose: () => p.dispose(),
  };
}

/** Creates every variable of the model from `seed` (same seed → same weights on any backend). */
export function initModel(config: ModelConfig, seed: number): SequenceModel {
  const c = validateModelConfig(config);
  const p = new ModelParams();
  const rng = new Rng(seed, 0x4d4f44); // 'MOD' stream: model init never shares draws with data RNGs
  initEmbeddings(p, c, rng);
  initEncoder(p, c, rng);
  initHead(p, c);
  return modelOf(c, p);
}

/** Reads a model directory written by save (or an older HSTU one, upgraded: weights-io.ts). */
export function loadModel(dir: string): SequenceModel {
  const { config, params } = readModelDir(dir);
  return modelOf(config, params);
}

/** The query of each sequence: its state at the last position. states [B, N, D] → [B, D] */
export function lastPosition(states: tf.Tensor): tf.Tensor {
  const [B, N, D] = states.shape as [number, number, number];
  return tf.reshape(tf.slice(states, [0, N - 1, 0], [B, 1, D]), [B, D]);
}
