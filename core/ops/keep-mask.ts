// Dropout keep masks (SPEC §5/§6: dropout on embeddings, U/V outputs and attention), drawn where
// they are cheapest:
// - native TensorFlow: TF's counter-based StatelessRandomUniform (Philox, both cores), then
//   floor(u + keep) — four kernels, no JS loop and no upload. ~30 ms of a 210 ms race step was the
//   JS loop and its 10 MB uploads [measured, bench/train-step.ts]. HSTU's attention dropout is drawn inside its
//   fused kernel (core/ops/native/hash.h) when that kernel runs. (Multipliers from that hash for these masks too
//   saved ~3% of a race step but trained worse on average on MovieLens-100k: best validation Score 0.1633 ±
//   0.0045, test 0.1421 ± 0.0025 over 3 seeds, against 0.1733 ± 0.0058 and 0.1470 ± 0.0017 with these — not
//   conclusive at 3 seeds (README, "Choices"), but not adopted.)
// - wasm / cpu: a seeded xorshift32 stream in JS (tf.randomUniform draws in JS too, ~3× slower).
// Each is deterministic for a given seed; they differ from each other, so a seed reproduces a run
// on the same backend and build (SPEC §6), not across them.
import * as tf from '@tensorflow/tfjs';
import { type NativeBackend, nativeBackend, typeAttr } from './native.ts';

/** Where masks are drawn: natively when the native backend is active, unless `jsMasks` asks for the JS stream. */
export interface KeepMaskOptions {
  /** JS masks on every backend: the same masks everywhere (the backend parity tests) */
  jsMasks?: boolean;
}

/** The native backend unless JS masks are asked for. */
function maskBackend(opts: KeepMaskOptions): NativeBackend | null {
  return opts.jsMasks ? null : nativeBackend();
}

/**
 * A seeded xorshift32 stream of keep decisions: each call keeps with probability 1 − rate. Built in
 * JS because tf.randomUniform draws its numbers in JS too, through seedrandom's alea (~3× slower
 * per element [measured]), and a mask built here needs no compare/cast kernels afterwards.
 */
export function keepStream(seed: number, rate: number): () => boolean {
  let s = (seed ^ 0x6d2b79f5) >>> 0 || 0x9e3779b9; // xorshift needs a non-zero state
  const threshold = Math.min(rate * 4294967296, 4294967295);
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0 >= threshold;
  };
}

/** Inverted-dropout multipliers for `size` elements in JS: 0 with probability `rate`, else 1/(1 − rate). */
export function dropoutMask(seed: number, size: number, rate: number): Float32Array {
  const keep = keepStream(seed, rate);
  const scale = 1 / (1 - rate);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) if (keep()) out[i] = scale;
  return out;
}

/** Uniform [0, 1) float32 of `shape` from TF's StatelessRandomUniform (Philox keyed by `seed`). */
function statelessUniform(be: NativeBackend, shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => be.executeSingleOutput('StatelessRandomUniform',
    [typeAttr(be, 'dtype'), typeAttr(be, 'T', 'int32'), typeAttr(be, 'Tseed', 'int32')],
    [tf.tensor1d(shape, 'int32'), tf.tensor1d([seed | 0, 0x2545f491], 'int32')]));
}

/**
 * Native only: 1 with probability keepProbs (a number, or a tensor broadcast to `shape`, e.g.
 * (1 − rate)·visible so masked cells are never kept), else 0 — floor(u + p) for u uniform in [0, 1).
 */
export function nativeKeepWhere(shape: number[], seed: number, keepProbs: tf.Tensor | number): tf.Tensor {
  const native = nativeBackend();
  if (native === null) throw new Error('nativeKeepWhere: the native backend is not active');
  return tf.tidy(() => tf.floor(tf.add(statelessUniform(native, shape, seed), keepProbs)));
}

/** Inverted-dropout multipliers as a tensor: 0 with probability `rate`, else 1/(1 − rate). */
export function dropoutMultipliers(shape: number[], seed: number, rate: number, opts: KeepMaskOptions = {}): tf.Tensor {
  if (keepMaskIsNative(opts)) return tf.tidy(() => tf.mul(nativeKeepWhere(shape, seed, 1 - rate), 1 / (1 - rate)));
  return tf.tensor(dropoutMask(seed, shape.reduce((a, b) => a * b, 1), rate), shape, 'float32');
}

/** True when masks are drawn in C++ (native TensorFlow, JS masks not asked for). */
export function keepMaskIsNative(opts: KeepMaskOptions = {}): boolean {
  return maskBackend(opts) !== null;
}

/**
 * The keep probabilities (1 − rate)·visible [B, 1, N, N] that native attention dropout draws from,
 * built once per forward and shared by every block; undefined where masks are drawn in JS.
 */
export function sharedKeepProbabilities(visible: tf.Tensor, rate: number, opts: KeepMaskOptions = {}): tf.Tensor | undefined {
  return keepMaskIsNative(opts) && rate > 0 ? tf.mul(visible, 1 - rate) : undefined;
}

/** One attention keep-mask draw: H heads, its seed and rate, and where masks are drawn. */
export interface AttentionDraw extends KeepMaskOptions {
  heads: number; // H
  seed: number;
  rate: number;
  /** (1 − rate)·visible [B, 1, N, N] shared by the blocks (sharedKeepProbabilities), native only */
  keepProbs?: tf.Tensor;
}

/**
 * A {0, 1} attention keep mask [B, H, N, N]: visible cells (visible [B, N, N] in JS, visibleTensor
 * [B, 1, N, N]) each kept with probability 1 − rate, a fresh draw per head. Natively one draw from
 * keepProbs (sharedKeepProbabilities) or (1 − rate)·visibleTensor; in JS (wasm, cpu) no random
 * number is drawn where a cell is not visible.
 */
export function attentionKeepMask(visible: Float32Array, visibleTensor: tf.Tensor, draw: AttentionDraw): tf.Tensor {
  const { heads: H, seed, rate } = draw;
  const [B, , N] = visibleTensor.shape as [number, number, number, number];
  if (keepMaskIsNative(draw)) return nativeKeepWhere([B, H, N, N], seed, draw.keepProbs ?? tf.mul(visibleTensor, 1 - rate));
  return tf.tensor4d(attentionKeepArray(visible, B, H, N, seed, rate), [B, H, N, N]);
}

/** The JS stream's attention keep mask {0, 1} [B, H, N, N] for visible [B, N, N]: no draw where a cell is not visible. */
export function attentionKeepArray(visible: Float32Array, B: number, H: number, N: number, seed: number, rate: number): Float32Array {
  const keep = keepStream(seed, rate);
  const NN = N * N;
  const out = new Float32Array(B * H * NN);
  for (let b = 0; b < B; b++) {
    const src = visible.subarray(b * NN, (b + 1) * NN);
    for (let h = 0; h < H; h++) {
      const dst = (b * H + h) * NN;
      for (let k = 0; k < NN; k++) if (src[k] !== 0 && keep()) out[dst + k] = 1;
    }
  }
  return out;
}
