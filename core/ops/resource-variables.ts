// TF resource variables and the fused Adam update on them (native TensorFlow only), plus a one-pass
// sum of squares: what core/train/adam-slots.ts's ResourceAdamSlot and the gradient-norm clip run.
// A resource variable is a handle tensor; TF's ops update its buffer in place.
import * as tf from '@tensorflow/tfjs';
import { type NativeBackend, boolAttr, nativeBackend, opAttr, typeAttr } from './native.ts';

/** ResourceHandle::ANONYMOUS_NAME: a variable owned by its handle, freed with it (as TF2's eager variables). */
const ANONYMOUS = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/** True when resource variables exist: the active backend is native TensorFlow. */
export function resourceVariablesAvailable(): boolean {
  return nativeBackend() !== null;
}

function native(): NativeBackend {
  const be = nativeBackend();
  if (be === null) throw new Error('resource variables need the native TensorFlow backend');
  return be;
}

/** A new float32 resource variable of `shape` (uninitialised): its handle, kept by the caller. */
export function newResourceVariable(shape: number[]): tf.Tensor {
  const be = native();
  return tf.keep(be.executeSingleOutput('VarHandleOp', [
    opAttr(be, 'container', 'TF_ATTR_STRING', ''), opAttr(be, 'shared_name', 'TF_ATTR_STRING', ANONYMOUS),
    typeAttr(be, 'dtype'), opAttr(be, 'shape', 'TF_ATTR_SHAPE', shape)], []));
}

export function assignResource(handle: tf.Tensor, value: tf.Tensor): void {
  const be = native();
  be.executeMultipleOutputs('AssignVariableOp', [typeAttr(be, 'dtype')], [handle, value], 0);
}

export function readResource(handle: tf.Tensor): tf.Tensor {
  const be = native();
  return be.executeSingleOutput('ReadVariableOp', [typeAttr(be, 'dtype')], [handle]);
}

/** TF's ResourceApplyAdam on handles p, m, v, in place: one pass over (p, m, v, g). */
export function resourceApplyAdam(
  p: tf.Tensor, m: tf.Tensor, v: tf.Tensor,
  s: { beta1Power: number; beta2Power: number; lr: number; beta1: number; beta2: number; eps: number }, grad: tf.Tensor,
): void {
  const be = native();
  tf.tidy(() => {
    const scalar = (x: number) => tf.scalar(x, 'float32');
    be.executeMultipleOutputs('ResourceApplyAdam',
      [typeAttr(be, 'T'), boolAttr(be, 'use_locking', false), boolAttr(be, 'use_nesterov', false)],
      [p, m, v, scalar(s.beta1Power), scalar(s.beta2Power), scalar(s.lr), scalar(s.beta1), scalar(s.beta2), scalar(s.eps), grad], 0);
  });
}

/** Σg² of one gradient as a scalar tensor: TF's one-pass L2Loss (= Σg²/2) on native, sum(square) elsewhere. */
export function sumOfSquares(g: tf.Tensor): tf.Tensor {
  const be = nativeBackend();
  if (be === null) return tf.sum(tf.square(g));
  return tf.mul(be.executeSingleOutput('L2Loss', [typeAttr(be, 'T')], [g]), 2);
}

/** Rows `ids` [R] (int32) of a [V, E] resource variable → [R, E], read without materialising the table. */
export function resourceGather(handle: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const be = native();
  return be.executeSingleOutput('ResourceGather', [typeAttr(be, 'dtype'), typeAttr(be, 'Tindices', 'int32')], [handle, ids]);
}

/**
 * Overwrites rows `ids` [R] (int32, distinct: TF leaves the winner of a duplicate unspecified) of a [V, E]
 * resource variable with `rows` [R, E], in place. After a ResourceGather the variable is in TF's copy-on-read
 * mode: scatters never copy the table, a full ReadVariableOp does (once per read).
 */
export function resourceScatterUpdate(handle: tf.Tensor, ids: tf.Tensor, rows: tf.Tensor): void {
  const be = native();
  be.executeMultipleOutputs('ResourceScatterUpdate', [typeAttr(be, 'dtype'), typeAttr(be, 'Tindices', 'int32')], [handle, ids, rows], 0);
}
