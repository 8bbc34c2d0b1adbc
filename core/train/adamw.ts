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

/** Dense variables up to this many elements are updated together as one flat vector. */
export const FLAT_MAX_SIZE = 1 << 16;
const FLAT_KEY = '\u0000flat'; // the flat group's entry in the norm's gradient list (no variable is named so)

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
      // In a tidy: the zeros tensor would otherwise outlive the variable that shares its data.
      this.m[name] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      this.v[name] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
      this.decays[name] = options.decays(name);
    }
  }

  /**
   * One update with learning rate `lr`, gradients scaled by min(1, maxNorm/(norm + 1e-6)) as
   * torch.nn.utils.clip_grad_norm_. Returns the pre-clip global norm. A non-finite norm throws
   * before any variable changes. `grads` stay owned by the caller. Every variable needs a gradient:
   * a missing one is an error, not a silently frozen parameter.
   * `rows` makes an update row-sparse ("lazy" AdamW, see row-view.ts): for a variable named
   * there, its gradient holds only the rows `rows[name]` (unique; [U, ...]); those rows get exactly
   * the dense update's arithmetic, every other row keeps its value and moments (a dense AdamW would
   * still decay them and move them by their momentum). The global norm is the same either way.
   */
  step(grads: NamedGrads, lr: number, maxNorm: number, rows: Record<string, Int32Array> = {}): number {
    let normOut = NaN;
    for (const name of Object.keys(this.vars)) {
      if (grads[name] === undefined) throw new Error(`AdamW: no gradient for ${name}`);
    }
    for (const name of Object.keys(grads)) {
      if (this.vars[name] === undefined) throw new Error(`AdamW: gradient for unknown variable ${name}`);
      const r = rows[name];
      const expected = r === undefined ? this.vars[name]!.shape : [r.length, ...this.vars[name]!.shape.slice(1)];
      if (!tf.util.arraysEqual(grads[name]!.shape, expected)) throw new Error(`AdamW: gradient of ${name} is [${grads[name]!.shape}], expected [${expected}]`);
    }
    // Dense variables up to FLAT_MAX_SIZE share one flat update (one set of kernels instead of ~13
    // per variable: ~45 small variables cost ~600 dispatches a step otherwise [measured]).
    const flatNames = Object.keys(this.vars).filter((n) => rows[n] === undefined && this.vars[n]!.size <= FLAT_MAX_SIZE);
    const flatSet = new Set(flatNames);
    const { beta1, beta2, eps, weightDecay } = this.opt;
    const t = this.stepCount + 1;
    const stepSize = lr / (1 - beta1 ** t);
    const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
    tf.tidy(() => {
      const flatOf = (ts: tf.Tensor[]): tf.Tensor1D => tf.concat(ts.map((x) => tf.reshape(x, [-1])) as tf.Tensor1D[]); // [S]
      const flatGrad = flatNames.length > 0 ? flatOf(flatNames.map((n) => grads[n]!)) : null;
      const norm = globalNorm(flatGrad === null ? grads : { ...Object.fromEntries(Object.entries(grads).filter(([n]) => !flatSet.has(n))), [FLAT_KEY]: flatGrad });
      if (!Number.isFinite(norm)) throw new Error(`non-finite gradient norm (${norm}) at optimizer step ${this.stepCount}`);
      const scale = Math.min(1, maxNorm / (norm + 1e-6));
      /** AdamW on (p, m, v) given g: the new values of all three. `decay` multiplies p (null: none). */
      const update = (decay: tf.Tensor | number | null, p: tf.Tensor, m0: tf.Tensor, v0: tf.Tensor, g0: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] => {
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = tf.add(tf.mul(m0, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(v0, beta2), tf.mul(tf.square(g), 1 - beta2));
        const decayed = decay === null ? p : tf.mul(p, decay);
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), eps);
        return [tf.sub(decayed, tf.mul(tf.div(m, denom), stepSize)), m, v];
      };
      const decayOf = (name: string): number | null => (this.decays[name] && weightDecay !== 0 ? 1 - lr * weightDecay : null);
      if (flatGrad !== null) {
        const sizes = flatNames.map((n) => this.vars[n]!.size);
        const [np, m, v] = update(this.decayVector(flatNames, decayOf), flatOf(flatNames.map((n) => this.vars[n]!)),
          flatOf(flatNames.map((n) => this.m[n]!)), flatOf(flatNames.map((n) => this.v[n]!)), flatGrad);
        for (const [target, flat] of [[this.vars, np], [this.m, m], [this.v, v]] as const) {
          tf.split(flat!, sizes).forEach((part, i) => {
            const variable = target[flatNames[i]!]!;
            variable.assign(tf.reshape(part, variable.shape));
          });
        }
      }
      for (const [name, p] of Object.entries(this.vars)) {
        if (flatSet.has(name)) continue;
        tf.tidy(() => {
          const r = rows[name];
          if (r === undefined) {
            const [np, m, v] = update(decayOf(name), p, this.m[name]!, this.v[name]!, grads[name]!);
            p.assign(np);
            this.m[name]!.assign(m);
            this.v[name]!.assign(v);
            return;
          }
          const idx = tf.tensor2d(r, [r.length, 1], 'int32'); // [U, 1]
          const [np, m, v] = update(decayOf(name), tf.gatherND(p, idx), tf.gatherND(this.m[name]!, idx), tf.gatherND(this.v[name]!, idx), grads[name]!);
          p.assign(tf.tensorScatterUpdate(p, idx, np));
          this.m[name]!.assign(tf.tensorScatterUpdate(this.m[name]!, idx, m));
          this.v[name]!.assign(tf.tensorScatterUpdate(this.v[name]!, idx, v));
        });
      }
      normOut = norm;
    });
    this.stepCount = t;
    return normOut;
  }

  /**
   * Per-element decay multipliers [S] for the flat group `names` (1 where a variable does not decay):
   * the same float32 factor the per-variable update multiplies by; null when nothing decays.
   */
  private decayVector(names: string[], decayOf: (name: string) => number | null): tf.Tensor | null {
    const factors = names.map(decayOf);
    if (factors.every((f) => f === null)) return null;
    const sizes = names.map((n) => this.vars[n]!.size);
    const out = new Float32Array(sizes.reduce((x, y) => x + y, 0));
    let at = 0;
    factors.forEach((f, i) => { out.fill(f ?? 1, at, at + sizes[i]!); at += sizes[i]!; });
    return tf.tensor1d(out, 'float32');
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
