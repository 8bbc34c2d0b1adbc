// Rotary position embedding (RoFormer), rotate-half form, on the first `r` dims of each head's Q/K:
// (x1, x2) ↦ (x1·cos θ − x2·sin θ, x2·cos θ + x1·sin θ), θ = pos · theta^(−2i/r), i < r/2.
// QᵢᵀKⱼ then depends on i − j only, which keeps the model invariant to extra left padding.
import * as tf from '@tensorflow/tfjs';
import { matMulT } from '../../../ops/fast-ops.ts';

/** cos/sin tables for positions 0..N−1: each [N, r/2]. Plain numbers, built in JS. */
export function ropeTables(seqLen: number, r: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const half = r / 2;
  const cos = new Float32Array(seqLen * half);
  const sin = new Float32Array(seqLen * half);
  for (let pos = 0; pos < seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      const angle = pos * Math.pow(theta, (-2 * i) / r);
      cos[pos * half + i] = Math.cos(angle);
      sin[pos * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/**
 * The rotation as x ⊙ C + (x·P) ⊙ S: C [N, d] holds cos on the first r dims and 1 elsewhere, S
 * [N, d] sin and 0, and P [d, d] maps (x1, x2, rest) to (−x2, x1, 0). Four kernels and a tiny
 * product instead of slices and a concat, whose gradients are pads (PadV2 was ~20 ms of tf.profile
 * kernel time per native bench step [measured]).
 */
export function ropeOperands(seqLen: number, d: number, r: number, theta: number): { c: Float32Array; s: Float32Array; p: Float32Array } {
  const half = r / 2;
  const { cos, sin } = ropeTables(seqLen, r, theta);
  const c = new Float32Array(seqLen * d).fill(1);
  const s = new Float32Array(seqLen * d);
  for (let pos = 0; pos < seqLen; pos++) {
    for (let j = 0; j < r; j++) {
      c[pos * d + j] = cos[pos * half + (j % half)]!;
      s[pos * d + j] = sin[pos * half + (j % half)]!;
    }
  }
  const p = new Float32Array(d * d); // [d_in, d_out]
  for (let j = 0; j < half; j++) {
    p[(j + half) * d + j] = -1; // out_j = −x2_j
    p[j * d + j + half] = 1; // out_{half+j} = x1_j
  }
  return { c, s, p };
}

/**
 * The rotation of x [B, H, N, d] (first r dims of each head, by position) and its gradient, as
 * plain ops: x ↦ x⊙C + (x·P)⊙S is linear, so its gradient is dy⊙C + ((dy⊙S)·Pᵀ), all 2-D products.
 */
export function ropeFunctions(seqLen: number, d: number, r: number, theta: number): { forward: (x: tf.Tensor) => tf.Tensor; backward: (dy: tf.Tensor) => tf.Tensor } {
  const N = seqLen;
  const { c, s, p } = ropeOperands(N, d, r, theta);
  const pT = new Float32Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) pT[j * d + i] = p[i * d + j]!;
  return {
    forward: (t) => tf.add(tf.mul(t, tf.tensor2d(c, [N, d])), tf.mul(tf.reshape(matMulT(tf.reshape(t, [-1, d]), tf.tensor2d(p, [d, d])), t.shape), tf.tensor2d(s, [N, d]))), // [B, H, N, d]
    backward: (dy) => tf.add(tf.mul(dy, tf.tensor2d(c, [N, d])), tf.reshape(matMulT(tf.reshape(tf.mul(dy, tf.tensor2d(s, [N, d])), [-1, d]), tf.tensor2d(pT, [d, d])), dy.shape)),
  };
}

/** x [B, H, N, d] → x with its first r dims rotated by position (r even, 0 < r ≤ d). */
export function applyRope(x: tf.Tensor, r: number, theta: number): tf.Tensor {
  const [, , N, d] = x.shape as [number, number, number, number];
  const f = ropeFunctions(N, d, r, theta);
  const rope = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({ value: f.forward(args[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => f.backward(dy) })) as (t: tf.Tensor) => tf.Tensor;
  return rope(x);
}
