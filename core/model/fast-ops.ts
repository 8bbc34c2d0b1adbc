// Fast paths for the wasm and native backends (SPEC §9), each with a stock-tfjs reference that the
// tests compare against:
// - gatherRows: tf.gather's kernels read indices back into JS and range-check each one, and its
//   gradient needs UnsortedSegmentSum (absent on wasm). gatherND + a scatterND gradient avoids both.
// - matMul2d: wasm's fast matmul is 2-D without transpose flags; batched or transposed products run
//   ~10× slower, so the gradient transposes explicitly too.
// - logSumExp: the stock gradient goes through ops wasm runs slowly; exp(x − lse) is one fused path.
import * as tf from '@tensorflow/tfjs';

/**
 * Rows of `table` [V, E] at `indices` (int32, any shape S) → [...S, E]. Gradient: dense [V, E]
 * via scatterND, which sums duplicate indices.
 */
export function gatherRows(table: tf.Tensor, indices: tf.Tensor): tf.Tensor {
  const shape = indices.shape;
  const V = table.shape[0]!;
  const E = table.shape[1]!;
  const flat = tf.reshape(indices, [-1, 1]); // [R, 1]
  const gather = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([flat]); // kept for the backward pass: an enclosing tf.tidy would otherwise dispose it
    const value = tf.gatherND(t, flat); // [R, E]
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.scatterND(saved[0]!, tf.reshape(dy, [-1, E]), [V, E]),
    };
  });
  return tf.reshape(gather(table), [...shape, E]);
}

/** a [m, k] × b [k, n] → [m, n], with gradients as untransposed 2-D products. */
export const matMul2d = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const da = tf.matMul(dy as tf.Tensor2D, tf.transpose(sb)); // [m, n] × [n, k]
      const db = tf.matMul(tf.transpose(sa), dy as tf.Tensor2D); // [k, m] × [m, n]
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
 * Batched a [G, m, k] × b [G, k, n] → [G, m, n], with gradients written as untransposed batched
 * products over explicitly transposed operands (the transpose flags are the slow path on wasm).
 */
export const batchMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor3D, tf.Tensor3D];
      const da = tf.matMul(dy as tf.Tensor3D, tf.transpose(sb, [0, 2, 1])); // [G, m, n] × [G, n, k]
      const db = tf.matMul(tf.transpose(sa, [0, 2, 1]), dy as tf.Tensor3D); // [G, k, m] × [G, m, n]
      return [da, db];
    },
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor3D;
