// Where AdamW keeps one parameter group's state (a large variable, or the small ones concatenated)
// and how it updates it — the same arithmetic two ways:
// - TensorAdamSlot (every backend): tfjs tensors, ~12 elementwise kernels per update.
// - ResourceAdamSlot (native TensorFlow): the parameters and moments live in TF resource variables
//   (core/ops/resource-variables.ts) and TF's fused ResourceApplyAdam updates them in place, in one pass over (p, m, v, g). For the
//   50k×64 item table that is ~3 ms instead of ~10 [measured, bench/train-step.ts]; PyTorch's fused
//   AdamW is the same idea.
// Both compute PyTorch's AdamW: p ← p·decay − lr_t·m / (√v + ε̂), m ← β1·m + (1 − β1)·g,
// v ← β2·v + (1 − β2)·g², with lr_t = lr·√bc2/bc1 and ε̂ = ε·√bc2 (bc = 1 − β^t), which equals
// p·decay − (lr/bc1)·m / (√v/√bc2 + ε).
import * as tf from '@tensorflow/tfjs';
import { assignResource, newResourceVariable, readResource, resourceApplyAdam } from '../ops/resource-variables.ts';

/** One update's hyper-parameters. */
export interface AdamStep {
  t: number; // 1-based step number (bias corrections)
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  gradScale: number; // clip factor, 1 = none
  decay: tf.Tensor | number | null; // multiplies p before the Adam step; null = none
}

export interface AdamSlot {
  /**
   * One AdamW step with gradient `g` (in the group's shape); `params` are the group's current
   * parameters when they changed outside this slot since its last update (else null: the slot's
   * own copy is current). Returns the new parameters; the caller assigns them.
   */
  update(g: tf.Tensor, g2: tf.Tensor | null, s: AdamStep, params: tf.Tensor | null): tf.Tensor;
  moments(): { m: Float32Array; v: Float32Array };
  setMoments(m: Float32Array, v: Float32Array): void;
  dispose(): void;
}

/** lr_t = lr·√bc2/bc1 (`c`) and ε̂ = ε·√bc2 of step s.t. */
export function biasTerms(s: AdamStep): { c: number; epsHat: number } {
  const sqrtBc2 = Math.sqrt(1 - s.beta2 ** s.t);
  return { c: (s.lr / (1 - s.beta1 ** s.t)) * sqrtBc2, epsHat: s.eps * sqrtBc2 };
}

/** Moments as tfjs variables; the parameters as the last result (kept). */
export class TensorAdamSlot implements AdamSlot {
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  private params: tf.Tensor;

  constructor(init: tf.Tensor) {
    this.m = tf.tidy(() => tf.variable(tf.zerosLike(init), false));
    this.v = tf.tidy(() => tf.variable(tf.zerosLike(init), false));
    this.params = tf.keep(tf.clone(init));
  }

  update(g: tf.Tensor, g2: tf.Tensor | null, s: AdamStep, params: tf.Tensor | null): tf.Tensor {
    const { c, epsHat } = biasTerms(s);
    const p0 = params ?? this.params;
    const np = tf.tidy(() => {
      const m = tf.add(tf.mul(this.m, s.beta1), tf.mul(g, (1 - s.beta1) * s.gradScale));
      const v = tf.add(tf.mul(this.v, s.beta2), tf.mul(g2 ?? tf.square(g), (1 - s.beta2) * s.gradScale * s.gradScale));
      const decayed = s.decay === null ? p0 : tf.mul(p0, s.decay);
      this.m.assign(m);
      this.v.assign(v);
      return tf.sub(decayed, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsHat)), c));
    });
    this.params.dispose();
    this.params = tf.keep(np);
    return np;
  }

  moments(): { m: Float32Array; v: Float32Array } {
    return { m: Float32Array.from(this.m.dataSync()), v: Float32Array.from(this.v.dataSync()) };
  }

  setMoments(m: Float32Array, v: Float32Array): void {
    this.m.assign(tf.tensor(m, this.m.shape, 'float32'));
    this.v.assign(tf.tensor(v, this.v.shape, 'float32'));
  }

  dispose(): void {
    tf.dispose([this.m, this.v, this.params]);
  }
}

/** Parameters and moments in TF resource variables, updated in place by ResourceApplyAdam. */
export class ResourceAdamSlot implements AdamSlot {
  private readonly shape: number[];
  private readonly p: tf.Tensor; // resource handles
  private readonly m: tf.Tensor;
  private readonly v: tf.Tensor;

  constructor(init: tf.Tensor) {
    this.shape = init.shape;
    [this.p, this.m, this.v] = [0, 1, 2].map(() => newResourceVariable(init.shape)) as [tf.Tensor, tf.Tensor, tf.Tensor];
    assignResource(this.p, init);
    tf.tidy(() => {
      assignResource(this.m, tf.zerosLike(init));
      assignResource(this.v, tf.zerosLike(init));
    });
  }

  update(g: tf.Tensor, _g2: tf.Tensor | null, s: AdamStep, params: tf.Tensor | null): tf.Tensor {
    if (params !== null) assignResource(this.p, params);
    const { epsHat } = biasTerms(s);
    if (s.decay !== null) {
      // A new buffer for p (its old one may be shared with the tfjs variable's tensor), released
      // right after the assignment so ResourceApplyAdam below owns it and updates it in place.
      const decayed = tf.tidy(() => tf.mul(readResource(this.p), s.decay!));
      assignResource(this.p, decayed);
      decayed.dispose();
    }
    tf.tidy(() => {
      const grad = s.gradScale === 1 ? g : tf.mul(g, s.gradScale);
      resourceApplyAdam(this.p, this.m, this.v, { beta1Power: s.beta1 ** s.t, beta2Power: s.beta2 ** s.t, lr: s.lr, beta1: s.beta1, beta2: s.beta2, eps: epsHat }, grad);
    });
    return readResource(this.p);
  }

  moments(): { m: Float32Array; v: Float32Array } {
    // Read inside the tidy, returned outside it: tf.tidy walks a returned container's typed arrays element by element.
    let out = { m: new Float32Array(0), v: new Float32Array(0) };
    tf.tidy(() => void (out = { m: Float32Array.from(readResource(this.m).dataSync()), v: Float32Array.from(readResource(this.v).dataSync()) }));
    return out;
  }

  setMoments(m: Float32Array, v: Float32Array): void {
    tf.tidy(() => {
      assignResource(this.m, tf.tensor(m, this.shape, 'float32'));
      assignResource(this.v, tf.tensor(v, this.shape, 'float32'));
    });
  }

  dispose(): void {
    tf.dispose([this.p, this.m, this.v]);
  }
}
