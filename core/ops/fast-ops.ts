// Fast paths for the wasm and native backends (SPEC §9), each with a stock-tfjs reference that the
// tests compare against:
// - gatherRows: tf.gather's kernels read indices back into JS and range-check each one, and its
//   gradient needs UnsortedSegmentSum (absent on wasm). gatherND avoids the read-back; the gradient
//   is sumRowsInto (UnsortedSegmentSum, or scatterND where the backend lacks it).
// - matMul2d: wasm's fast matmul is 2-D without transpose flags; batched or transposed products run
//   ~10× slower, so the gradient transposes explicitly there. Native TensorFlow reads the flags for
//   free (a [256,100,16]·[256,16,100] product: 2.0 ms with the flag, 3.2 ms with a Transpose first).
// - logSumExp: the stock gradient goes through ops wasm runs slowly; exp(x − lse) is one fused path.
import * as tf from '@tensorflow/tfjs';
import { matMul2dRaw, nativeBackend } from './native.ts';

/**
 * Rows of `table` [V, E] at `indices` (int32, any shape S) → [...S, E]. Gradient: dense [V, E]
 * via scatterND, which sums duplicate indices.
 */
export function gatherRows(table: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const shape = indices.shape;
  const V = table.shape[0]!;
  const E = table.shape[1]!;
  const flat = reshapeTo(indices, [-1, 1]); // [R, 1]
  const gather = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([flat]); // kept for the backward pass: an enclosing tf.tidy would otherwise dispose it
    const value = tf.gatherND(t, flat); // [R, E]
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => sumRowsInto(reshapeTo(dy, [-1, E]), saved[0]!, V),
    };
  });
  return reshapeTo(gather(table), [...shape, E]);
}

/**
 * out[s] = Σ rows[r] over the r with segments[r] = s: rows [R, E], segments int32 [R, 1], → [S, E]. UnsortedSegmentSum
 * where the backend has it (native: 2.3 ms for a 640k-index time-bias gradient vs 11.6 ms for ScatterNd
 * [measured]), scatterND elsewhere (wasm); both sum duplicates.
 */
export function sumRowsInto(rows: tf.Tensor, segments: tf.Tensor, S: number): tf.Tensor {
  if (tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined) return tf.unsortedSegmentSum(rows, reshapeTo(segments, [-1]) as tf.Tensor1D, S);
  return tf.scatterND(reshapeTo(segments, [-1, 1]), rows, [S, rows.shape[1]!]);
}

/** True where matMul's transpose flags are as fast as a plain product (native TensorFlow). */
function transposeFlagsFast(): boolean {
  return tf.getBackend() === 'tensorflow';
}

/**
 * a × b with optional transposes (2-D or batched): on native TensorFlow 2-D products run as TF's
 * MatMul (raw, so inside custom-gradient code only) and batched ones with the transpose flags;
 * elsewhere explicit transposes of the last two axes (wasm's fast path takes no flags).
 */
export function matMulT(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  const be = nativeBackend();
  if (be !== null && a.rank === 2 && b.rank === 2) return matMul2dRaw(be, a, b, transposeA, transposeB); // not taped: custom-gradient code only
  if (transposeFlagsFast()) return tf.matMul(a, b, transposeA, transposeB);
  const swap = (x: tf.Tensor): tf.Tensor => tf.transpose(x, x.rank === 2 ? [1, 0] : [0, 2, 1]);
  return tf.matMul(transposeA ? swap(a) : a, transposeB ? swap(b) : b);
}

/** a [m, k] × b [k, n] → [m, n], with gradients as untransposed 2-D products on wasm. */
export const matMul2d = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: matMulT(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const da = matMulT(dy, sb, false, true); // [m, n] × [n, k]
      const db = matMulT(sa, dy, true, false); // [k, m] × [m, n]
      return [da, db];
    },
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/**
 * log Σ exp(x) over the last axis → shape without it. Gradient: dy · exp(x − lse). Inputs must be
 * finite: mask with a large negative number, not -Infinity (a fully masked row would give NaN).
 */
export const logSumExp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const m = tf.max(x, -1, true); // [..., 1]
  const lse = tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(x, m)), -1, true))); // [..., 1]
  save([x, lse]);
  return {
    value: tf.squeeze(lse, [-1]),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, slse] = saved as [tf.Tensor, tf.Tensor];
      return tf.mul(tf.expandDims(dy, -1), tf.exp(tf.sub(sx, slse)));
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Batched a [G, m, k] × b [G, k, n] → [G, m, n], with gradients as batched products through matMulT
 * (explicitly transposed operands on wasm, where the transpose flags are the slow path).
 */
export const batchMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      const da = matMulT(dy, sb, false, true); // [G, m, n] × [G, n, k]
      const db = matMulT(sa, dy, true, false); // [G, k, m] × [G, m, n]
      return [da, db];
    },
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor3D;

/**
 * Batched a [G, m, k] × bᵀ, b [G, n, k] → [G, m, n] (attention scores QKᵀ), with the transposes
 * inside matMulT: flags on native, explicit on wasm.
 */
export const batchMatMulBT = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: matMulT(a, b, false, true),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      const da = tf.matMul(dy, sb); // [G, m, n] × [G, n, k]
      const db = matMulT(dy, sa, true, false); // [G, n, m] × [G, m, k]
      return [da, db];
    },
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor3D;

/**
 * Mean over the last axis (keepDims false) with gradient broadcastTo(dy/E): tfjs's stock Mean
 * gradient builds a ones tensor of x's shape in JS and uploads it every backward pass.
 */
export const meanLastAxis = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x] = args as [tf.Tensor];
  const shape = x.shape;
  const E = shape[shape.length - 1]!;
  return {
    value: tf.mean(x, -1),
    gradFunc: (dy: tf.Tensor) => tf.broadcastTo(tf.expandDims(tf.mul(dy, 1 / E), -1), shape),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * tf.reshape that skips the kernel when `x` already has the shape (one −1 allowed): tfjs-node
 * runs every reshape as a TF op, ~400 a step here, many of them no-ops.
 */
export function reshapeTo(x: tf.Tensor, shape: number[]): tf.Tensor {
  const free = shape.indexOf(-1);
  const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
  const target = free < 0 ? shape : shape.map((d) => (d === -1 ? x.size / known : d));
  return tf.util.arraysEqual(x.shape, target) ? x : tf.reshape(x, target);
}

