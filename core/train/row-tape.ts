// Row-sparse gradients of lookup tables (embedding_updates: sparse; issue "TencentGR-1M scale").
// A lookup y = W[ids] has the gradient dW = Σ_r e_{ids[r]} ⊗ dy[r]: non-zero only on the rows the step read.
// The dense path (fast-ops gatherRows) scatters it into a [V, E] tensor — at 4.8M items, 1.2 GB written and
// read by the clip and AdamW every step. Here it stays as rows: RowSparseGrad = the distinct ids the step
// touched and, for each, the sum of its dy rows. Equal to the dense gradient's non-zero rows (to float
// rounding of the sums' order).
//
// How the tape gets the rows. While a training step runs, the model's lookup door (layers.ts embed) asks
// ModelWeights.rowSource for the rows of the tables trained row-sparse; RowTape serves them from the optimizer's
// copy (core/train/row-adam-slots.ts) as a custom-gradient op whose only input is the tape's `anchor`, a scalar
// variable the step differentiates with the model's dense variables. Autodiff then calls the op's gradient with
// dy [R, E]; the tape records (ids, dy) and gives the anchor a zero gradient. The table itself never enters the
// tape, so no [V, E] gradient is ever formed. collect() merges each table's records into one RowSparseGrad.
import * as tf from '@tensorflow/tfjs';
import { reshapeTo, sumRowsInto } from '../ops/fast-ops.ts';
import type { RowSource } from '../model/model-weights.ts';

/**
 * The gradient of a lookup table as rows: distinct int32 `ids` [U] (first-seen order) and their summed rows [U, E].
 * A tensor container, so tf.dispose frees it like a dense gradient.
 */
export interface RowSparseGrad extends tf.TensorContainerObject {
  ids: tf.Tensor1D;
  rows: tf.Tensor2D;
}

export function isRowSparse(g: tf.Tensor | RowSparseGrad): g is RowSparseGrad {
  return !(g instanceof tf.Tensor);
}

/**
 * One gradient from parts that may repeat ids: the distinct ids in first-seen order, each row the sum of its
 * parts' rows (`scale` times). The parts stay owned by the caller.
 */
export function mergeRowParts(parts: { ids: tf.Tensor; rows: tf.Tensor }[], scale = 1): RowSparseGrad {
  const all: number[][] = parts.map((p) => Array.from(p.ids.dataSync()));
  const first = new Map<number, number>();
  const inverse = new Int32Array(all.reduce((n, a) => n + a.length, 0));
  let k = 0;
  for (const ids of all) {
    for (const id of ids) {
      let u = first.get(id);
      if (u === undefined) first.set(id, (u = first.size));
      inverse[k++] = u;
    }
  }
  const distinct = Int32Array.from(first.keys());
  return tf.tidy(() => {
    const rows = parts.length === 1 ? reshapeTo(parts[0]!.rows, [-1, parts[0]!.rows.shape.at(-1)!]) : tf.concat(parts.map((p) => reshapeTo(p.rows, [-1, p.rows.shape.at(-1)!])), 0);
    const summed = sumRowsInto(rows, tf.tensor1d(inverse, 'int32'), distinct.length);
    return { ids: tf.tensor1d(distinct, 'int32'), rows: (scale === 1 ? summed : tf.mul(summed, scale)) as tf.Tensor2D };
  });
}

/** What the tape reads: the current rows of the tables it serves. */
export interface RowReader {
  /** Rows of table `name` at int32 `ids` [R] → [R, E] (no gradient). */
  readRows(name: string, ids: tf.Tensor): tf.Tensor;
}

/** One training step's row-sparse lookups and their gradients; set as ModelWeights.rowSource for the step. */
export class RowTape implements RowSource {
  /** The step's differentiation handle for every row-sparse lookup: pass it with the dense variables. */
  readonly anchor: tf.Variable;
  private readonly names: ReadonlySet<string>;
  private readonly records = new Map<string, { ids: tf.Tensor; rows: tf.Tensor }[]>();
  private readonly held: tf.Tensor[] = []; // every lookup's ids, kept until collect (a lookup autodiff skips has no record)

  constructor(private readonly reader: RowReader, names: Iterable<string>) {
    this.names = new Set(names);
    this.anchor = tf.tidy(() => tf.variable(tf.scalar(0), true)); // in a tidy: the scalar would outlive the variable
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  rows(name: string, indices: tf.Tensor): tf.Tensor {
    const ids = tf.keep(reshapeTo(indices, [-1])); // [R]
    this.held.push(ids);
    // the op's one input is the anchor; its value does not depend on it
    const lookup = tf.customGrad(() => {
      const value = this.reader.readRows(name, ids); // [R, E]
      return {
        value,
        gradFunc: (dy: tf.Tensor) => {
          const list = this.records.get(name) ?? [];
          list.push({ ids, rows: tf.keep(tf.clone(dy)) });
          this.records.set(name, list);
          return tf.zerosLike(this.anchor);
        },
      };
    });
    const rows = lookup(this.anchor);
    return reshapeTo(rows, [...indices.shape, rows.shape[1]!]);
  }

  /** Each table's gradient as rows (tables no lookup reached are absent); the tape is spent afterwards. */
  collect(): Record<string, RowSparseGrad> {
    const out: Record<string, RowSparseGrad> = {};
    for (const [name, parts] of this.records) out[name] = mergeRowParts(parts);
    this.dispose();
    return out;
  }

  dispose(): void {
    for (const parts of this.records.values()) for (const p of parts) p.rows.dispose();
    this.records.clear();
    tf.dispose(this.held);
    this.held.length = 0;
    if (!this.anchor.isDisposed) this.anchor.dispose();
  }
}
