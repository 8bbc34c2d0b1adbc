// ModelWeights: the model's variables by name, each with its kind (what the optimiser does with it).
// Not params.yaml (that is Params, core/stage/params.ts): these are the numbers training learns, created
// by the init* functions beside each layer and saved / read by weights-io.ts.
import * as tf from '@tensorflow/tfjs';

/** What a variable is, for the optimiser: no weight decay on norms/biases, l2_emb on item tables. */
export type WeightKind = 'weight' | 'bias' | 'norm' | 'embedding' | 'itemEmbedding' | 'film';

/** The model's variables by name ('blocks.0.uvqk.w', 'emb.item', ...). No global tfjs names, so many models can coexist. */
export class ModelWeights {
  readonly vars = new Map<string, tf.Variable>();
  readonly kinds = new Map<string, WeightKind>();

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (v === undefined) throw new Error(`model weight ${name} does not exist`);
    return v;
  }

  add(name: string, kind: WeightKind, shape: number[], values: Float32Array): void {
    if (this.vars.has(name)) throw new Error(`model weight ${name} defined twice`);
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

/** Multiplies a shape out. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
