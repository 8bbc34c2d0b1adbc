// AdamW over the model's named variables (SPEC §6), with PyTorch semantics: decoupled weight decay
// p ← p·(1 − lr·wd) first, then the bias-corrected Adam update p ← p − (lr/bc1)·m / (√v/√bc2 + eps).
// Gradients are clipped by their global norm (threshold from clipNormAt) inside the same step, and
// the moments (m, v) and step count export to Float32Arrays for checkpoints.
import * as tf from '@tensorflow/tfjs';

export type NamedGrads = Record<string, tf.Tensor>;

export interface AdamWOptions {
  weightDecay: number; // the `weight_decay` param
  decays: (name: string) => boolean; // false = no decay for that variable (LayerNorm, biases)
  beta1?: number; // 0.9
  beta2?: number; // 0.999
  eps?: number; // 1e-8
}

/** The optimizer's resumable state: moments by variable name, flat, in the variable's shape. */
export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** The seed clips at 20.0 for the first 3000 optimizer steps (0-based step < 3000), then at `clip_norm`. */
export const EARLY_CLIP_NORM = 20.0;
export const EARLY_CLIP_STEPS = 3000;

export function clipNormAt(step: number, clipNorm: number): number {
  return step < EARLY_CLIP_STEPS ? EARLY_CLIP_NORM : clipNorm;
}

/**
 * Decay rule from the model's parameter kinds (core/model/init.ts ParamKind): no decay on 'norm'
 * (LayerNorm γ, β) and 'bias' (linear biases, relative attention biases); decay on everything else.
 * A name missing from `kinds` is an error, so a new variable cannot silently get the wrong rule.
 */
export function decayFromKinds(kinds: ReadonlyMap<string, string>): (name: string) => boolean {
  return (name) => {
    const kind = kinds.get(name);
    if (kind === undefined) throw new Error(`AdamW: no parameter kind for ${name}`);
    return kind !== 'norm' && kind !== 'bias';
  };
}

/** √Σ‖g‖² over all gradients, read back as a number (one sync per optimizer step). */
export function globalNorm(grads: NamedGrads): number {
  return tf.tidy(() => {
    const squares = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return Math.sqrt(tf.addN(squares).dataSync()[0]!);
  });
}

export class AdamW {
  readonly vars: Record<string, tf.Variable>;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};
  private readonly decays: Record<string, boolean> = {};
  private readonly opt: Required<Omit<AdamWOptions, 'decays'>>;
  stepCount = 0; // optimizer steps taken

  constructor(vars: Record<string, tf.Variable>, options: AdamWOptions) {
    this.vars = vars;
    this.opt = { weightDecay: options.weightDecay, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, eps: options.eps ?? 1e-8 };
    for (const [name, p] of Object.entries(vars)) {
      this.m[name] = tf.variable(tf.zerosLike(p), false);
      this.v[name] = tf.variable(tf.zerosLike(p), false);
      this.decays[name] = options.decays(name);
    }
  }

  /**
   * One update with learning rate `lr`, gradients scaled by min(1, maxNorm/(norm + 1e-6)) as
   * torch.nn.utils.clip_grad_norm_. Returns the pre-clip global norm. A non-finite norm throws
   * before any variable changes. `grads` stay owned by the caller. Every variable needs a gradient:
   * a missing one is an error, not a silently frozen parameter.
   */
  step(grads: NamedGrads, lr: number, maxNorm: number): number {
    for (const name of Object.keys(this.vars)) {
      if (grads[name] === undefined) throw new Error(`AdamW: no gradient for ${name}`);
    }
    for (const name of Object.keys(grads)) {
      if (this.vars[name] === undefined) throw new Error(`AdamW: gradient for unknown variable ${name}`);
    }
    const norm = globalNorm(grads);
    if (!Number.isFinite(norm)) throw new Error(`non-finite gradient norm (${norm}) at optimizer step ${this.stepCount}`);
    const scale = Math.min(1, maxNorm / (norm + 1e-6));
    const { beta1, beta2, eps, weightDecay } = this.opt;
    const t = this.stepCount + 1;
    const stepSize = lr / (1 - beta1 ** t);
    const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
    for (const [name, p] of Object.entries(this.vars)) {
      tf.tidy(() => {
        const g = scale === 1 ? grads[name]! : tf.mul(grads[name]!, scale);
        const m = tf.add(tf.mul(this.m[name]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[name]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        const decayed = this.decays[name] && weightDecay !== 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)));
        this.m[name]!.assign(m);
        this.v[name]!.assign(v);
      });
    }
    this.stepCount = t;
    return norm;
  }

  exportState(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const name of Object.keys(this.vars).sort()) {
      m[name] = Float32Array.from(this.m[name]!.dataSync());
      v[name] = Float32Array.from(this.v[name]!.dataSync());
    }
    return { step: this.stepCount, m, v };
  }

  /** Restores moments and step; every variable must be present with its exact element count. */
  importState(state: AdamWState): void {
    for (const [name, p] of Object.entries(this.vars)) {
      for (const [which, src, dst] of [['m', state.m, this.m], ['v', state.v, this.v]] as const) {
        const values = src[name];
        if (values === undefined || values.length !== p.size) {
          throw new Error(`AdamW state: ${which}[${name}] has ${values?.length ?? 'no'} values, expected ${p.size}`);
        }
        dst[name]!.assign(tf.tensor(values, p.shape, 'float32'));
      }
    }
    this.stepCount = state.step;
  }

  /** Frees the moment variables (the model's variables belong to the caller). */
  dispose(): void {
    for (const t of [...Object.values(this.m), ...Object.values(this.v)]) t.dispose();
  }
}

/**
 * Sums gradients over `grad_accum_steps` micro-batches; `mean()` gives their average (what one step
 * on the concatenated batch would see when each micro-batch loss is a mean over equal-sized batches).
 */
export class GradAccumulator {
  private sums: NamedGrads = {};
  private count = 0;

  /** Adds one micro-batch's gradients; the caller still owns (and disposes) `grads`. */
  add(grads: NamedGrads): void {
    for (const [name, g] of Object.entries(grads)) {
      const old = this.sums[name];
      this.sums[name] = tf.keep(old === undefined ? tf.clone(g) : tf.add(old, g));
      old?.dispose();
    }
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** The averaged gradients (the caller disposes them); the accumulator is empty afterwards. */
  mean(): NamedGrads {
    if (this.count === 0) throw new Error('GradAccumulator.mean: no micro-batches added');
    const out: NamedGrads = {};
    for (const [name, s] of Object.entries(this.sums)) {
      out[name] = tf.keep(tf.div(s, this.count));
      s.dispose();
    }
    this.sums = {};
    this.count = 0;
    return out;
  }

  dispose(): void {
    for (const s of Object.values(this.sums)) s.dispose();
    this.sums = {};
    this.count = 0;
  }
}
