// AdamW over the model's named variables (SPEC §6), with PyTorch semantics: decoupled weight decay
// p ← p·(1 − lr·wd) first, then the bias-corrected Adam update p ← p − (lr/bc1)·m / (√v/√bc2 + eps).
// Gradients are clipped by their global norm (threshold from clipNormAt) inside the same step, and
// the moments (m, v) and step count export to Float32Arrays for checkpoints.
import * as tf from '@tensorflow/tfjs';
import { reshapeTo } from '../ops/fast-ops.ts';
import { type AdamSlot, ResourceAdamSlot, TensorAdamSlot } from './adam-slots.ts';
import { RowAdamSlot } from './row-adam-slots.ts';
import { type RowSparseGrad, RowTape, isRowSparse, mergeRowParts } from './row-tape.ts';
import { resourceVariablesAvailable, sumOfSquares } from '../ops/resource-variables.ts';
import type { CheckpointSource, DeferredArray } from './checkpoint.ts';

/** A variable's gradient: dense (its shape), or rows of a lookup table trained row-sparse (row-tape.ts). */
export type Grad = tf.Tensor | RowSparseGrad;
export type NamedGrads = Record<string, Grad>;

export interface AdamWOptions {
  weightDecay: number; // the `weight_decay` param
  decays: (name: string) => boolean; // false = no decay for that variable (LayerNorm, biases)
  beta1?: number; // 0.9
  beta2?: number; // 0.999
  eps?: number; // 1e-8
  /** Lookup tables updated row-sparse (lazy AdamW on the rows each step touched, row-adam-slots.ts); the rest dense. */
  rowSparse?: Iterable<string>;
}

/** The optimizer's resumable state: moments by variable name, flat, in the variable's shape. */
export interface AdamWState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
  /** Σp² of each row-sparse table as the optimizer tracks it (row-adam-slots.ts); absent when none. */
  sumSq?: Record<string, number>;
}

/** The seed clips at 20.0 for the first 3000 optimizer steps (0-based step < 3000), then at `clip_norm`. */
export const EARLY_CLIP_NORM = 20.0;
export const EARLY_CLIP_STEPS = 3000;

export function clipNormAt(step: number, clipNorm: number): number {
  return step < EARLY_CLIP_STEPS ? EARLY_CLIP_NORM : clipNorm;
}

/** The global gradient norm of a step is NaN or infinite: the step was refused before any variable changed. */
export class NonFiniteGradNormError extends Error {
  constructor(readonly norm: number, readonly optimizerStep: number) {
    super(`non-finite gradient norm (${norm}) at optimizer step ${optimizerStep}`);
    this.name = 'NonFiniteGradNormError';
  }
}

/**
 * Decay rule from the model's weight kinds (core/model/model-weights.ts WeightKind): no decay on 'norm'
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

/** √Σ‖g‖² over all gradients (a row-sparse one by its rows), read back as a number (one sync per optimizer step). */
export function globalNorm(grads: NamedGrads): number {
  return tf.tidy(() => {
    const squares = Object.values(grads).map((g) => tf.sum(tf.square(isRowSparse(g) ? g.rows : g)));
    return Math.sqrt(tf.addN(squares).dataSync()[0]!);
  });
}

/** Dense variables up to this many elements are updated together as one flat vector. */
export const FLAT_MAX_SIZE = 1 << 16;

/** A parameter group: one large variable, or every small one concatenated (flat). */
interface Group {
  names: string[];
  sizes: number[]; // element count per name
  flat: boolean;
  slot: AdamSlot;
  assigned: object[] | null; // each variable's dataId after this optimizer last assigned it
}

export class AdamW {
  readonly vars: Record<string, tf.Variable>;
  private readonly decays: Record<string, boolean> = {};
  private readonly opt: Required<Omit<AdamWOptions, 'decays' | 'rowSparse'>>;
  // Variables up to FLAT_MAX_SIZE share one flat update: one set of kernels instead of ~13 per
  // variable (~45 small variables cost ~600 dispatches a step otherwise [measured]); each larger
  // variable is its own group. Native TensorFlow keeps each group in resource variables (one fused
  // ResourceApplyAdam per group), other backends in tfjs tensors (adam-slots.ts).
  private readonly groups: Group[];
  private readonly rowSlots = new Map<string, RowAdamSlot>();
  readonly native: boolean;
  stepCount = 0; // optimizer steps taken

  constructor(vars: Record<string, tf.Variable>, options: AdamWOptions) {
    this.vars = vars;
    this.opt = { weightDecay: options.weightDecay, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, eps: options.eps ?? 1e-8 };
    for (const name of Object.keys(vars)) this.decays[name] = options.decays(name);
    this.native = resourceVariablesAvailable();
    const makeSlot = (init: tf.Tensor): AdamSlot => (this.native ? new ResourceAdamSlot(init) : new TensorAdamSlot(init));
    for (const name of options.rowSparse ?? []) {
      if (vars[name] === undefined) throw new Error(`AdamW: row-sparse table ${name} is not a variable`);
      this.rowSlots.set(name, new RowAdamSlot(vars[name]!));
    }
    const dense = Object.keys(vars).filter((n) => !this.rowSlots.has(n));
    const small = dense.filter((n) => vars[n]!.size <= FLAT_MAX_SIZE);
    const large = dense.filter((n) => vars[n]!.size > FLAT_MAX_SIZE);
    this.groups = large.map((n) => ({ names: [n], sizes: [vars[n]!.size], flat: false, slot: makeSlot(vars[n]!), assigned: null }));
    if (small.length > 0) {
      const flat = tf.tidy(() => this.flatParams(small));
      const slot = makeSlot(flat);
      flat.dispose();
      this.groups.push({ names: small, sizes: small.map((n) => vars[n]!.size), flat: true, slot, assigned: null });
    }
  }

  /** The variables `names` flattened and concatenated: [S]. */
  private flatParams(names: string[]): tf.Tensor1D {
    return tf.concat(names.map((n) => reshapeTo(this.vars[n]!, [-1])) as tf.Tensor1D[]);
  }

  /** The tables this optimizer updates row-sparse. */
  rowSparseNames(): string[] {
    return [...this.rowSlots.keys()];
  }

  /**
   * A tape for one training step over the row-sparse tables (set it as ModelWeights.rowSource for the step, and
   * differentiate its anchor with the dense variables); null when every table is dense.
   */
  rowTape(): RowTape | null {
    if (this.rowSlots.size === 0) return null;
    return new RowTape(this, this.rowSlots.keys());
  }

  /** Current rows of a row-sparse table at int32 `ids` [R] → [R, E] (no gradient). */
  readRows(name: string, ids: tf.Tensor): tf.Tensor {
    return this.rowSlot(name).readRows(ids);
  }

  /** Σp² of a row-sparse table, current (a scalar the optimizer owns). */
  sumOfSquares(name: string): tf.Scalar {
    return this.rowSlot(name).sumOfSquares();
  }

  /** Writes the row-sparse tables' current values into the model's variables: before anything reads them. */
  flush(): void {
    for (const slot of this.rowSlots.values()) slot.flush();
  }

  private rowSlot(name: string): RowAdamSlot {
    const slot = this.rowSlots.get(name);
    if (slot === undefined) throw new Error(`AdamW: ${name} is not a row-sparse table`);
    return slot;
  }

  /**
   * One update with learning rate `lr`, gradients scaled by min(1, maxNorm/(norm + 1e-6)) as
   * torch.nn.utils.clip_grad_norm_. Returns the pre-clip global norm. A non-finite norm throws
   * before any variable changes. `grads` stay owned by the caller. Every dense variable needs a gradient:
   * a missing one is an error, not a silently frozen parameter; a row-sparse table without one had no rows
   * touched this step (and changes nowhere).
   */
  step(grads: NamedGrads, lr: number, maxNorm: number): number {
    for (const name of Object.keys(this.vars)) {
      if (grads[name] === undefined && !this.rowSlots.has(name)) throw new Error(`AdamW: no gradient for ${name}`);
    }
    const dense: Record<string, tf.Tensor> = {};
    const rows: Record<string, RowSparseGrad> = {};
    for (const [name, g] of Object.entries(grads)) {
      const variable = this.vars[name];
      if (variable === undefined) throw new Error(`AdamW: gradient for unknown variable ${name}`);
      if (this.rowSlots.has(name) !== isRowSparse(g)) throw new Error(`AdamW: ${name} is updated ${this.rowSlots.has(name) ? 'row-sparse' : 'dense'} but got a ${isRowSparse(g) ? 'row-sparse' : 'dense'} gradient`);
      if (isRowSparse(g)) {
        if (g.rows.shape[1] !== variable.shape[1] || g.rows.shape[0] !== g.ids.shape[0]) throw new Error(`AdamW: row gradient of ${name} is [${g.rows.shape}] for ${g.ids.shape[0]} ids, expected [${g.ids.shape[0]},${variable.shape[1]}]`);
        rows[name] = g;
      } else {
        if (!tf.util.arraysEqual(g.shape, variable.shape)) throw new Error(`AdamW: gradient of ${name} is [${g.shape}], expected [${variable.shape}]`);
        dense[name] = g;
      }
    }
    const { beta1, beta2, eps, weightDecay } = this.opt;
    const t = this.stepCount + 1;
    const decayOf = (name: string): number | null => (this.decays[name] && weightDecay !== 0 ? 1 - lr * weightDecay : null);
    let norm = NaN;
    tf.tidy(() => {
      const gradOf = (g: Group): tf.Tensor => (g.flat ? tf.concat(g.names.map((n) => reshapeTo(dense[n]!, [-1])) as tf.Tensor1D[]) : dense[g.names[0]!]!);
      const groupGrads = this.groups.map(gradOf);
      // g² for the norm; on tensor slots it is reused by the second moment.
      const squares = this.native ? null : groupGrads.map((g) => tf.square(g));
      const sums = squares === null ? groupGrads.map(sumOfSquares) : squares.map((x) => tf.sum(x));
      for (const g of Object.values(rows)) sums.push(sumOfSquares(g.rows));
      norm = Math.sqrt(tf.addN(sums).dataSync()[0]!);
      if (!Number.isFinite(norm)) throw new NonFiniteGradNormError(norm, this.stepCount);
      const gradScale = Math.min(1, maxNorm / (norm + 1e-6));
      this.groups.forEach((group, i) => {
        const decay = group.flat ? this.decayVector(group, decayOf) : decayOf(group.names[0]!);
        const stale = group.assigned === null || group.names.some((n, k) => this.vars[n]!.dataId !== group.assigned![k]);
        const current = stale ? (group.flat ? this.flatParams(group.names) : this.vars[group.names[0]!]!) : null;
        const np = group.slot.update(groupGrads[i]!, squares?.[i] ?? null, { t, lr, beta1, beta2, eps, gradScale, decay }, current);
        const parts = group.flat ? tf.split(np, group.sizes) : [np];
        group.names.forEach((n, k) => {
          const variable = this.vars[n]!;
          variable.assign(group.flat ? reshapeTo(parts[k]!, variable.shape) : parts[k]!);
        });
        group.assigned = group.names.map((n) => this.vars[n]!.dataId);
      });
      for (const [name, g] of Object.entries(rows)) this.rowSlot(name).update(g.ids, g.rows, { t, lr, beta1, beta2, eps, gradScale, decay: decayOf(name) });
    });
    this.stepCount = t;
    return norm;
  }

  /**
   * Per-element decay multipliers [S] for a flat group (1 where a variable does not decay): the
   * same float32 factor a single variable's update multiplies by; null when nothing decays.
   */
  private decayVector(group: Group, decayOf: (name: string) => number | null): tf.Tensor | null {
    const factors = group.names.map(decayOf);
    if (factors.every((f) => f === null)) return null;
    const out = new Float32Array(group.sizes.reduce((x, y) => x + y, 0));
    let at = 0;
    factors.forEach((f, i) => { out.fill(f ?? 1, at, at + group.sizes[i]!); at += group.sizes[i]!; });
    return tf.tensor1d(out, 'float32');
  }

  exportState(): AdamWState {
    const d = this.exportStateDeferred();
    const host = (r: Record<string, Float32Array | DeferredArray>): Record<string, Float32Array> =>
      Object.fromEntries(Object.entries(r).map(([k, x]) => [k, x instanceof Float32Array ? x.slice() : x.read()]));
    return { ...d, m: host(d.m), v: host(d.v) };
  }

  /**
   * The state for a checkpoint: the dense groups' moments on the host (views into one read per group), each row-sparse
   * table's moments deferred, read by saveCheckpoint when it writes them — one table-sized array at a time.
   */
  exportStateDeferred(): CheckpointSource['optimizer'] {
    const m: Record<string, Float32Array | DeferredArray> = {};
    const v: Record<string, Float32Array | DeferredArray> = {};
    for (const group of this.groups) {
      const mv = group.slot.moments();
      let at = 0;
      group.names.forEach((n, k) => {
        m[n] = mv.m.subarray(at, at + group.sizes[k]!);
        v[n] = mv.v.subarray(at, at + group.sizes[k]!);
        at += group.sizes[k]!;
      });
    }
    const sumSq: Record<string, number> = {};
    for (const [name, slot] of this.rowSlots) {
      const size = this.vars[name]!.size;
      m[name] = { size, read: () => slot.moment('m') };
      v[name] = { size, read: () => slot.moment('v') };
      sumSq[name] = slot.sumOfSquares().dataSync()[0]!;
    }
    const sorted = <T>(r: Record<string, T>): Record<string, T> => Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]!]));
    return { step: this.stepCount, m: sorted(m), v: sorted(v), ...(this.rowSlots.size > 0 ? { sumSq: sorted(sumSq) } : {}) };
  }

  /** Restores moments and step; every variable must be present with its exact element count. */
  importState(state: AdamWState): void {
    const joined = this.groups.map((group) => {
      const total = group.sizes.reduce((a, b) => a + b, 0);
      const out = { m: new Float32Array(total), v: new Float32Array(total) };
      let at = 0;
      group.names.forEach((name, k) => {
        const { m, v } = savedMoments(state, name, group.sizes[k]!);
        out.m.set(m, at);
        out.v.set(v, at);
        at += group.sizes[k]!;
      });
      return out;
    });
    this.groups.forEach((group, i) => group.slot.setMoments(joined[i]!.m, joined[i]!.v));
    for (const [name, slot] of this.rowSlots) {
      const { m, v } = savedMoments(state, name, this.vars[name]!.size);
      slot.setMoments(m, v);
      // Σp² continues from the saved sums (a dense run's state has none: then it is the restored table's own)
      const saved = state.sumSq?.[name];
      if (saved !== undefined) slot.setSumOfSquares(saved);
    }
    this.stepCount = state.step;
  }

  /** Frees the optimizer's state (the model's variables belong to the caller). */
  dispose(): void {
    for (const group of this.groups) group.slot.dispose();
    for (const slot of this.rowSlots.values()) slot.dispose();
  }
}

/** A variable's saved moments, each checked to hold exactly `size` values. */
function savedMoments(state: AdamWState, name: string, size: number): { m: Float32Array; v: Float32Array } {
  for (const [which, src] of [['m', state.m], ['v', state.v]] as const) {
    const values = src[name];
    if (values === undefined || values.length !== size) throw new Error(`AdamW state: ${which}[${name}] has ${values?.length ?? 'no'} values, expected ${size}`);
  }
  return { m: state.m[name]!, v: state.v[name]! };
}

/**
 * Sums gradients over `grad_accum_steps` micro-batches; `mean()` gives their average (what one step
 * on the concatenated batch would see when each micro-batch loss is a mean over equal-sized batches).
 * Row-sparse gradients are kept as their parts and merged (ids made distinct, rows summed) by mean().
 */
export class GradAccumulator {
  private sums: Record<string, tf.Tensor> = {};
  private rowParts: Record<string, RowSparseGrad[]> = {};
  private count = 0;

  /** Adds one micro-batch's gradients; the caller still owns (and disposes) `grads`. */
  add(grads: NamedGrads): void {
    for (const [name, g] of Object.entries(grads)) {
      if (isRowSparse(g)) {
        (this.rowParts[name] ??= []).push({ ids: tf.keep(tf.clone(g.ids)), rows: tf.keep(tf.clone(g.rows)) });
        continue;
      }
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
    for (const [name, parts] of Object.entries(this.rowParts)) {
      const merged = mergeRowParts(parts, 1 / this.count);
      out[name] = { ids: tf.keep(merged.ids), rows: tf.keep(merged.rows) };
      tf.dispose(parts);
    }
    this.sums = {};
    this.rowParts = {};
    this.count = 0;
    return out;
  }

  dispose(): void {
    for (const s of Object.values(this.sums)) s.dispose();
    for (const parts of Object.values(this.rowParts)) tf.dispose(parts);
    this.sums = {};
    this.rowParts = {};
    this.count = 0;
  }
}
