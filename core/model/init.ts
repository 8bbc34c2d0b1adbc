// Named model variables and their initialisers (SPEC §5 "Init"): truncated normal std 0.02 for
// embeddings and linears, zero biases, LayerNorm γ=1 β=0, FiLM zeros. Values are drawn with the
// project's seeded Rng in JS, so the same seed gives the same weights on every backend.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random/rng.ts';

/** What a variable is, for the optimiser: no weight decay on norms/biases, l2_emb on item tables. */
export type ParamKind = 'weight' | 'bias' | 'norm' | 'embedding' | 'itemEmbedding' | 'film';

export const INIT_STD = 0.02;

/** The model's variables by name ('blocks.0.uvqk.w', 'emb.item', ...). No global tfjs names, so many models can coexist. */
export class ModelParams {
  readonly vars = new Map<string, tf.Variable>();
  readonly kinds = new Map<string, ParamKind>();

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (v === undefined) throw new Error(`model parameter ${name} does not exist`);
    return v;
  }

  add(name: string, kind: ParamKind, shape: number[], values: Float32Array): void {
    if (this.vars.has(name)) throw new Error(`model parameter ${name} defined twice`);
    // In a tidy: the initial tensor would otherwise outlive the variable that shares its data.
    this.vars.set(name, tf.tidy(() => tf.variable(tf.tensor(values, shape, 'float32'), true)));
    this.kinds.set(name, kind);
  }

  /** Names in sorted order: the canonical order of the weights file. */
  names(): string[] {
    return [...this.vars.keys()].sort();
  }

  trainable(): tf.Variable[] {
    return this.names().map((n) => this.get(n));
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.kinds.clear();
  }
}

/** Truncated normal (resampled beyond 2 std), as torch.nn.init.trunc_normal_. */
export function truncatedNormal(rng: Rng, n: number, std = INIT_STD): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    out[i] = z * std;
  }
  return out;
}

export function filled(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}

/** Multiplies a shape out. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
