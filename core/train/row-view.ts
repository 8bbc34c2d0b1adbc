// Row views of the item embedding tables for a row-sparse ("lazy") AdamW update:
// a step reads a few thousand rows of a table with tens of thousands, yet a dense gradient is a
// full [V, E] scatter and a dense AdamW update rewrites every row (most of the elementwise time of
// a step [measured, SPEC §9]). A view is a small trainable copy of just the touched rows; the model
// runs on a ModelParams where the view stands in for the table, with item indices remapped to it,
// so the model code is unchanged and the gradient is [U, E]. AdamW.step(…, rows) then updates those
// rows of the full table and its moments ("lazy" AdamW: untouched rows keep their value and moments).
// Not wired into the train stage: on the SPEC §9 race shapes it saves ~15 ms of a ~300 ms native
// step [measured, bench/train-step.ts --sparse], too little for leaving PyTorch's dense AdamW
// semantics, and the l2_emb penalty on the whole table makes the real gradient dense anyway.
import * as tf from '@tensorflow/tfjs';
import { ModelParams } from '../model/init.ts';

/** Sorted unique values of the given index arrays: the rows a step touches. [U] */
export function touchedRows(...indexArrays: Int32Array[]): Int32Array {
  const seen = new Set<number>();
  for (const arr of indexArrays) for (const i of arr) seen.add(i);
  return Int32Array.from(seen).sort();
}

export interface RowView {
  params: ModelParams; // the model's variables, with each viewed table replaced by its rows (do not dispose)
  rows: Record<string, Int32Array>; // per viewed table: [U] the full-table row of each view row
  /** Full-table indices → view indices (every index must be among the touched rows). */
  remap(indices: Int32Array): Int32Array;
  dispose(): void;
}

/**
 * Views the tables `names` (all indexed by the same item indices) at `rows` (sorted unique, from
 * touchedRows). The caller runs the model on `view.params` with remapped indices.
 */
export function viewRows(p: ModelParams, names: string[], rows: Int32Array): RowView {
  const params = new ModelParams();
  for (const [name, v] of p.vars) params.vars.set(name, v);
  for (const [name, k] of p.kinds) params.kinds.set(name, k);
  const idx = tf.tensor2d(rows, [rows.length, 1], 'int32'); // [U, 1]
  const owned: tf.Tensor[] = [idx];
  const rowsOf: Record<string, Int32Array> = {};
  for (const name of names) {
    const view = tf.tidy(() => tf.variable(tf.gatherND(p.get(name), idx), true)); // [U, E]
    params.vars.set(name, view);
    rowsOf[name] = rows;
    owned.push(view);
  }
  let local: Int32Array | null = null;
  const remap = (indices: Int32Array): Int32Array => {
    if (local === null) {
      const V = Math.max(...names.map((n) => p.get(n).shape[0]!));
      local = new Int32Array(V).fill(-1);
      rows.forEach((r, i) => { local![r] = i; });
    }
    const out = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const j = local[indices[i]!]!;
      if (j === undefined || j < 0) throw new Error(`row view: index ${indices[i]} is not among the ${rows.length} touched rows`);
      out[i] = j;
    }
    return out;
  };
  return { params, rows: rowsOf, remap, dispose: () => tf.dispose(owned) };
}
