// Multi-head reshapes shared by the attention of every encoder.
import * as tf from '@tensorflow/tfjs';

/** [B, N, H·d] (or [B·N, H·d]) → [B·H, N, d] */
export function splitHeads(x: tf.Tensor, B: number, N: number, H: number, d: number): tf.Tensor {
  return tf.reshape(tf.transpose(tf.reshape(x, [B, N, H, d]), [0, 2, 1, 3]), [B * H, N, d]);
}

/** [B·H, N, d] → [B, N, H·d] */
export function mergeHeads(x: tf.Tensor, B: number, N: number, H: number, d: number): tf.Tensor {
  return tf.reshape(tf.transpose(tf.reshape(x, [B, H, N, d]), [0, 2, 1, 3]), [B, N, H * d]);
}
