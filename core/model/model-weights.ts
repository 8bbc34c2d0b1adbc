// ModelWeights: the model's variables by name, each with its kind (what the optimiser does with it).
// Not params.yaml (that is Params, core/stage/params.ts): these are the numbers training learns, created
// by the init* functions beside each layer and saved / read by weights-io.ts.
import * as tf from '@tensorflow/tfjs';

/** What a variable is, for the optimiser: no weight decay on norms/biases, l2_emb on item tables. */
export type WeightKind = 'weight' | 'bias' | 'norm' | 'embedding' | 'itemEmbedding' | 'film';

/**
 * Where a training step reads the lookup tables trained row-sparse (embedding_updates: sparse): their rows at
 * `indices` [...S] → [...S, E], from the optimizer's copy, with the gradient kept as rows (core/train/row-tape.ts).
 */
export interface RowSource {
  has(name: string): boolean;
  rows(name: string, indices: tf.Tensor): tf.Tensor;
}

/** The model's variables by name ('blocks.0.uvqk.w', 'emb.item', ...). No global tfjs names, so many models can coexist. */
export class ModelWeights {
  readonly vars = new Map<string, tf.Variable>();
  readonly kinds = new Map<string, WeightKind>();
  /** The tables read only through layers.ts embed() (the item table, the feature tables): what may train row-sparse.
   *  Set by initEmbedding; a model read from disk has none (only training, on initModel's weights, asks). */
  readonly lookupTables = new Set<string>();
  /** Set for the span of a row-sparse training step: embed() reads its tables through it, and get() refuses them. */
  rowSource: RowSource | null = null;

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (v === undefined) throw new Error(`model weight ${name} does not exist`);
    if (this.rowSource?.has(name)) throw new Error(`model weight ${name} is trained row-sparse in this step: read its rows through embed(), not the variable`);
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
