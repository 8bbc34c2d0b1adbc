// TensorFlow raw ops that tfjs has no op for, run through tfjs-node's backend (native only):
// StatelessRandomUniform (dropout masks), SigmoidGrad and ReluGrad (activation gradients), L2Loss and the resource-
// variable ops of the fused AdamW. Only core/ops/ calls these: each op there checks nativeBackend()
// and keeps a plain-tfjs path for wasm and cpu, so model and training code never asks which backend
// runs. Outputs are tfjs tensors tracked by the active scope, but not taped: use them outside
// gradients or inside custom-gradient functions only.
import * as tf from '@tensorflow/tfjs';

export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

/** tfjs-node's raw-op door (not in its typings). */
export interface NativeBackend {
  executeSingleOutput(name: string, attrs: OpAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
  binding: Record<'TF_ATTR_TYPE' | 'TF_ATTR_STRING' | 'TF_ATTR_SHAPE' | 'TF_ATTR_BOOL' | 'TF_FLOAT' | 'TF_INT32', number>;
}

/** The native backend when it is the active one, else null. */
export function nativeBackend(): NativeBackend | null {
  return tf.getBackend() === 'tensorflow' ? (tf.backend() as unknown as NativeBackend) : null;
}

/** An op attribute of the binding's kind `kind` (string, shape, bool or type). */
export function opAttr(be: NativeBackend, name: string, kind: 'TF_ATTR_STRING' | 'TF_ATTR_SHAPE' | 'TF_ATTR_BOOL' | 'TF_ATTR_TYPE', value: unknown): OpAttr {
  return { name, type: be.binding[kind], value };
}

/** A 'type' attribute: float32 or int32. */
export function typeAttr(be: NativeBackend, name: string, dtype: 'float32' | 'int32' = 'float32'): OpAttr {
  return opAttr(be, name, 'TF_ATTR_TYPE', dtype === 'float32' ? be.binding.TF_FLOAT : be.binding.TF_INT32);
}

/** SigmoidGrad(y, dy) = dy·y·(1 − y), one kernel. */
export function sigmoidGrad(be: NativeBackend, y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return be.executeSingleOutput('SigmoidGrad', [typeAttr(be, 'T')], [y, dy]);
}

/** ReluGrad(dy, features) = dy where features > 0, else 0: one kernel. */
export function reluGrad(be: NativeBackend, dy: tf.Tensor, features: tf.Tensor): tf.Tensor {
  return be.executeSingleOutput('ReluGrad', [typeAttr(be, 'T')], [dy, features]);
}

/**
 * a × b for 2-D operands with TF's MatMul op: tfjs-node runs every product as BatchMatMulV2, which
 * oneDNN executes ~40% slower for 2-D shapes such as [6400, 64]·[64, 256] (0.88 vs 0.50 ms [measured]).
 */
export function matMul2dRaw(be: NativeBackend, a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return be.executeSingleOutput('MatMul', [typeAttr(be, 'T'), boolAttr(be, 'transpose_a', transposeA), boolAttr(be, 'transpose_b', transposeB)], [a, b]);
}

export function boolAttr(be: NativeBackend, name: string, value: boolean): OpAttr {
  return opAttr(be, name, 'TF_ATTR_BOOL', value);
}
