// Rotary position embedding (RoFormer), rotate-half form, on the first `r` dims of each head's Q/K:
// (x1, x2) ↦ (x1·cos θ − x2·sin θ, x2·cos θ + x1·sin θ), θ = pos · theta^(−2i/r), i < r/2.
// QᵢᵀKⱼ then depends on i − j only, which keeps the model invariant to extra left padding.
import * as tf from '@tensorflow/tfjs';

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

/** x [B, H, N, d] → x with its first r dims rotated by position (r even, 0 < r ≤ d). */
export function applyRope(x: tf.Tensor, r: number, theta: number): tf.Tensor {
  const [B, H, N, d] = x.shape as [number, number, number, number];
  const half = r / 2;
  const { cos, sin } = ropeTables(N, r, theta);
  const c = tf.tensor2d(cos, [N, half]); // broadcasts over [B, H, N, r/2]
  const s = tf.tensor2d(sin, [N, half]);
  const x1 = tf.slice(x, [0, 0, 0, 0], [B, H, N, half]);
  const x2 = tf.slice(x, [0, 0, 0, half], [B, H, N, half]);
  const rotated = [tf.sub(tf.mul(x1, c), tf.mul(x2, s)), tf.add(tf.mul(x2, c), tf.mul(x1, s))];
  if (r === d) return tf.concat(rotated, -1); // [B, H, N, d]
  const rest = tf.slice(x, [0, 0, 0, r], [B, H, N, d - r]);
  return tf.concat([...rotated, rest], -1); // [B, H, N, d]
}
