// The gradients of a loss with respect to every model variable, by name: dense tensors, or rows for the lookup
// tables trained row-sparse (the optimizer's RowTape, core/train/row-tape.ts). The one place that sets
// ModelWeights.rowSource around a differentiation: training (stages/train/batch-loss.ts), the speed bench and tests.
import * as tf from '@tensorflow/tfjs';
import type { ModelWeights } from '../model/model-weights.ts';
import type { NamedGrads } from './adamw.ts';
import type { RowTape } from './row-tape.ts';

/**
 * tf.variableGrads of `loss` over the model's variables; with a `tape`, the tables it serves are read through it
 * and their gradients come back as RowSparseGrad (absent for a table no lookup reached). The tape is spent.
 */
export function modelGrads(w: ModelWeights, loss: () => tf.Scalar, tape: RowTape | null): { value: tf.Scalar; grads: NamedGrads } {
  const names = w.names().filter((n) => !tape?.has(n));
  const vars = [...names.map((n) => w.get(n)), ...(tape ? [tape.anchor] : [])];
  w.rowSource = tape;
  let result: { value: tf.Scalar; grads: Record<string, tf.Tensor> };
  try {
    result = tf.variableGrads(loss, vars);
  } catch (e) {
    tape?.dispose();
    throw e;
  } finally {
    w.rowSource = null;
  }
  const grads: NamedGrads = {};
  for (const n of names) {
    const g = result.grads[w.vars.get(n)!.name];
    if (g !== undefined) grads[n] = g;
  }
  if (tape !== null) {
    result.grads[tape.anchor.name]?.dispose();
    Object.assign(grads, tape.collect());
  }
  return { value: result.value, grads };
}
