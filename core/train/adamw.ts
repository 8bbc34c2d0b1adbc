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

/** The flat group's parameters as last assigned: reused while every variable still holds them. */
interface FlatParams {
  flat: tf.Tensor1D; // [S]
  dataIds: object[]; // each variable's dataId right after the assignment
}

export class AdamW {
  readonly vars: Record<string, tf.Variable>;
  // Moments of the variables above FLAT_MAX_SIZE, by name; the small ones' live in flatM/flatV.
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};
  private readonly decays: Record<string, boolean> = {};
  private readonly opt: Required<Omit<AdamWOptions, 'decays'>>;
  // Variables up to FLAT_MAX_SIZE share one flat update: one set of kernels instead of ~13 per
  // variable (~45 small variables cost ~600 dispatches a step otherwise [measured]); their moments
  // stay flat between steps, so only the parameters and gradients are concatenated.
  private readonly flatNames: string[];
  private readonly flatSizes: number[];
  private readonly flatM: tf.Variable | null;
  private readonly flatV: tf.Variable | null;
  private flatParams: FlatParams | null = null;
  stepCount = 0; // optimizer steps taken

  constructor(vars: Record<string, tf.Variable>, options: AdamWOptions) {
    this.vars = vars;
    this.opt = { weightDecay: options.weightDecay, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, eps: options.eps ?? 1e-8 };
    this.flatNames = Object.keys(vars).filter((n) => vars[n]!.size <= FLAT_MAX_SIZE);
    this.flatSizes = this.flatNames.map((n) => vars[n]!.size);
    const flatTotal = this.flatSizes.reduce((a, b) => a + b, 0);
    // In a tidy: the zeros tensor would otherwise outlive the variable that shares its data.
    const zeros = (shape: number[]): tf.Variable => tf.tidy(() => tf.variable(tf.zeros(shape), false));
    this.flatM = this.flatNames.length > 0 ? zeros([flatTotal]) : null;
    this.flatV = this.flatNames.length > 0 ? zeros([flatTotal]) : null;
    for (const [name, p] of Object.entries(vars)) {
      this.decays[name] = options.decays(name);
      if (p.size <= FLAT_MAX_SIZE) continue;
      this.m[name] = zeros(p.shape);
      this.v[name] = zeros(p.shape);
    }
  }

  /**
   * One update with learning rate `lr`, gradients scaled by min(1, maxNorm/(norm + 1e-6)) as
   * torch.nn.utils.clip_grad_norm_. Returns the pre-clip global norm. A non-finite norm throws
   * before any variable changes. `grads` stay owned by the caller. Every variable needs a gradient:
   * a missing one is an error, not a silently frozen parameter.
   * `rows` makes an update row-sparse ("lazy" AdamW, see row-view.ts; variables above FLAT_MAX_SIZE
   * only): for a variable named there, its gradient holds only the rows `rows[name]` (unique;
   * [U, ...]); those rows get exactly the dense update's arithmetic, every other row keeps its value
   * and moments (a dense AdamW would still decay them and move them by their momentum). The global
   * norm is the same either way.
   */
  step(grads: NamedGrads, lr: number, maxNorm: number, rows: Record<string, Int32Array> = {}): number {
    for (const name of Object.keys(this.vars)) {
      if (grads[name] === undefined) throw new Error(`AdamW: no gradient for ${name}`);
    }
    for (const name of Object.keys(grads)) {
      if (this.vars[name] === undefined) throw new Error(`AdamW: gradient for unknown variable ${name}`);
      const r = rows[name];
      if (r !== undefined && this.vars[name]!.size <= FLAT_MAX_SIZE) throw new Error(`AdamW: row-sparse update of ${name}: only variables above ${FLAT_MAX_SIZE} elements`);
      const expected = r === undefined ? this.vars[name]!.shape : [r.length, ...this.vars[name]!.shape.slice(1)];
      if (!tf.util.arraysEqual(grads[name]!.shape, expected)) throw new Error(`AdamW: gradient of ${name} is [${grads[name]!.shape}], expected [${expected}]`);
    }
    const { beta1, beta2, eps, weightDecay } = this.opt;
    const t = this.stepCount + 1;
    // p ← p·(1 − lr·wd) − (lr/bc1)·m / (√v/√bc2 + eps) = p·decay − c·m / (√v + eps·√bc2), c = lr·√bc2/bc1.
    const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
    const c = (lr / (1 - beta1 ** t)) * sqrtBc2;
    const epsHat = eps * sqrtBc2;
    const bigNames = Object.keys(this.vars).filter((n) => this.vars[n]!.size > FLAT_MAX_SIZE);
    let norm = NaN;
    tf.tidy(() => {
      const flatGrad = this.flatNames.length > 0 ? tf.concat(this.flatNames.map((n) => tf.reshape(grads[n]!, [-1])) as tf.Tensor1D[]) : null;
      // g² of every gradient: summed for the norm, then reused by the second moment.
      const squares = new Map<string, tf.Tensor>(bigNames.map((n) => [n, tf.square(grads[n]!)]));
      if (flatGrad !== null) squares.set('', tf.square(flatGrad));
      norm = Math.sqrt(tf.addN([...squares.values()].map((x) => tf.sum(x))).dataSync()[0]!);
      if (!Number.isFinite(norm)) throw new Error(`non-finite gradient norm (${norm}) at optimizer step ${this.stepCount}`);
      const scale = Math.min(1, maxNorm / (norm + 1e-6));
      /** AdamW on (p, m, v) given g and g²: the new values of all three. `decay` multiplies p (null: none). */
      const update = (decay: tf.Tensor | number | null, p: tf.Tensor, m0: tf.Tensor, v0: tf.Tensor, g: tf.Tensor, g2: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] => {
        const m = tf.add(tf.mul(m0, beta1), tf.mul(g, (1 - beta1) * scale));
        const v = tf.add(tf.mul(v0, beta2), tf.mul(g2, (1 - beta2) * scale * scale));
        const decayed = decay === null ? p : tf.mul(p, decay);
        return [tf.sub(decayed, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsHat)), c)), m, v];
      };
      const decayOf = (name: string): number | null => (this.decays[name] && weightDecay !== 0 ? 1 - lr * weightDecay : null);
      if (flatGrad !== null) {
        const [np, m, v] = update(this.decayVector(decayOf), this.currentFlatParams(), this.flatM!, this.flatV!, flatGrad, squares.get('')!);
        this.flatM!.assign(m);
        this.flatV!.assign(v);
        tf.split(np, this.flatSizes).forEach((part, i) => {
          const variable = this.vars[this.flatNames[i]!]!;
          variable.assign(tf.reshape(part, variable.shape));
        });
        this.flatParams?.flat.dispose();
        this.flatParams = { flat: tf.keep(np as tf.Tensor1D), dataIds: this.flatNames.map((n) => this.vars[n]!.dataId) };
      }
      for (const name of bigNames) {
        const p = this.vars[name]!;
        tf.tidy(() => {
          const r = rows[name];
          if (r === undefined) {
            const [np, m, v] = update(decayOf(name), p, this.m[name]!, this.v[name]!, grads[name]!, squares.get(name)!);
            p.assign(np);
            this.m[name]!.assign(m);
            this.v[name]!.assign(v);
            return;
          }
          const idx = tf.tensor2d(r, [r.length, 1], 'int32'); // [U, 1]
          const [np, m, v] = update(decayOf(name), tf.gatherND(p, idx), tf.gatherND(this.m[name]!, idx), tf.gatherND(this.v[name]!, idx), grads[name]!, squares.get(name)!);
          p.assign(tf.tensorScatterUpdate(p, idx, np));
          this.m[name]!.assign(tf.tensorScatterUpdate(this.m[name]!, idx, m));
          this.v[name]!.assign(tf.tensorScatterUpdate(this.v[name]!, idx, v));
        });
      }
    });
    this.stepCount = t;
    return norm;
  }

  /**
   * The flat group's parameters [S]: the tensor this optimizer last assigned while every variable
   * still holds its part (nothing else assigned them since), else a fresh concatenation.
   */
  private currentFlatParams(): tf.Tensor1D {
    const cached = this.flatParams;
    if (cached !== null && this.flatNames.every((n, i) => this.vars[n]!.dataId === cached.dataIds[i])) return cached.flat;
    return tf.concat(this.flatNames.map((n) => tf.reshape(this.vars[n]!, [-1])) as tf.Tensor1D[]);
  }

  /**
   * Per-element decay multipliers [S] for the flat group (1 where a variable does not decay): the
   * same float32 factor the per-variable update multiplies by; null when nothing decays.
   */
  private decayVector(decayOf: (name: string) => number | null): tf.Tensor | null {
    const factors = this.flatNames.map(decayOf);
    if (factors.every((f) => f === null)) return null;
    const out = new Float32Array(this.flatSizes.reduce((x, y) => x + y, 0));
    let at = 0;
    factors.forEach((f, i) => { out.fill(f ?? 1, at, at + this.flatSizes[i]!); at += this.flatSizes[i]!; });
    return tf.tensor1d(out, 'float32');
  }

  /** Offsets of each flat-group variable in flatM/flatV, by name. */
  private flatOffsets(): Map<string, number> {
    const out = new Map<string, number>();
    let at = 0;
    this.flatNames.forEach((n, i) => { out.set(n, at); at += this.flatSizes[i]!; });
    return out;
  }

  exportState(): AdamWState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    const offsets = this.flatOffsets();
    const flatM = this.flatM?.dataSync() as Float32Array | undefined;
    const flatV = this.flatV?.dataSync() as Float32Array | undefined;
    for (const name of Object.keys(this.vars).sort()) {
      const at = offsets.get(name);
      const size = this.vars[name]!.size;
      m[name] = at === undefined ? Float32Array.from(this.m[name]!.dataSync()) : flatM!.slice(at, at + size);
      v[name] = at === undefined ? Float32Array.from(this.v[name]!.dataSync()) : flatV!.slice(at, at + size);
    }
    return { step: this.stepCount, m, v };
  }

  /** Restores moments and step; every variable must be present with its exact element count. */
  importState(state: AdamWState): void {
    const offsets = this.flatOffsets();
    const total = this.flatSizes.reduce((a, b) => a + b, 0);
    const flat = { m: new Float32Array(total), v: new Float32Array(total) };
    for (const [name, p] of Object.entries(this.vars)) {
      for (const [which, src] of [['m', state.m], ['v', state.v]] as const) {
        const values = src[name];
        if (values === undefined || values.length !== p.size) {
          throw new Error(`AdamW state: ${which}[${name}] has ${values?.length ?? 'no'} values, expected ${p.size}`);
        }
        const at = offsets.get(name);
        if (at !== undefined) flat[which].set(values, at);
        else (which === 'm' ? this.m : this.v)[name]!.assign(tf.tensor(values, p.shape, 'float32'));
      }
    }
    if (this.flatM !== null) {
      this.flatM.assign(tf.tensor1d(flat.m));
      this.flatV!.assign(tf.tensor1d(flat.v));
    }
    this.stepCount = state.step;
  }

  /** Frees the moment variables (the model's variables belong to the caller). */
  dispose(): void {
    for (const t of [...Object.values(this.m), ...Object.values(this.v)]) t.dispose();
    this.flatM?.dispose();
    this.flatV?.dispose();
    this.flatParams?.flat.dispose();
    this.flatParams = null;
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
