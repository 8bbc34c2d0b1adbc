// Arrow columns → the row-major typed arrays the model batches carry, with the features stage's
// missing-value defaults applied (SPEC §4: sparse → the most frequent value, arrays → [0],
// continuous → 0, multimodal → zeros).
import type { Table } from 'apache-arrow';
import { columnValues, listColumn, vectorColumn } from '../artifacts/arrow-io.ts';
import { UserError } from '../stage/errors.ts';

/** The sparse default of `fid` (0 when the manifest has none: then 0 stays "missing"). */
export function sparseDefault(defaults: Record<string, number | number[]>, fid: string): number {
  const d = defaults[fid];
  return typeof d === 'number' ? d : 0;
}

/**
 * Sparse columns `f<fid>` interleaved into [R, F], 0 (missing) replaced by the default. A row with
 * useDefaults[r] = 1 takes the defaults whatever it holds (a user with no profile).
 */
export function sparseMatrix(table: Table, fids: string[], defaults: Record<string, number | number[]>, useDefaults?: Uint8Array): Int32Array {
  const R = table.numRows;
  const F = fids.length;
  const out = new Int32Array(R * F);
  fids.forEach((fid, j) => {
    const values = columnValues<Int32Array>(table, `f${fid}`);
    const def = sparseDefault(defaults, fid);
    for (let r = 0; r < R; r++) {
      const v = values[r]!;
      out[r * F + j] = v === 0 || useDefaults?.[r] === 1 ? def : v;
    }
  });
  return out;
}

/**
 * List columns `f<fid>` into [R, F, L]: the first L values, 0-padded. An empty list is the default
 * [0], i.e. all padding, which the model's mean-pool reads as "missing".
 */
export function arrayMatrix(table: Table, fids: string[], L: number, useDefaults?: Uint8Array): Int32Array {
  const R = table.numRows;
  const F = fids.length;
  const out = new Int32Array(R * F * L);
  fids.forEach((fid, j) => {
    const { offsets, values } = listColumn(table, `f${fid}`);
    for (let r = 0; r < R; r++) {
      if (useDefaults?.[r] === 1) continue;
      const from = offsets[r]!;
      const n = Math.min(L, offsets[r + 1]! - from);
      out.set(values.subarray(from, from + n), (r * F + j) * L);
    }
  });
  return out;
}

/** Numeric columns (named as given) interleaved into a new [R, C] array of type `Out`. */
function interleave<T extends Float32Array | Int32Array>(table: Table, names: string[], Out: new (n: number) => T): T {
  const R = table.numRows;
  const C = names.length;
  const out = new Out(R * C);
  names.forEach((name, j) => {
    const values = columnValues<T>(table, name);
    for (let r = 0; r < R; r++) out[r * C + j] = values[r]!;
  });
  return out;
}

/** Float columns (named as given) interleaved into [R, C]; missing values are stored as 0 already. */
export function floatMatrix(table: Table, names: string[]): Float32Array {
  return interleave(table, names, Float32Array);
}

/** Int columns (named as given) interleaved into [R, C]. */
export function intMatrix(table: Table, names: string[]): Int32Array {
  return interleave(table, names, Int32Array);
}

/** A multimodal column `f<fid>` as [R, dim] (absent vectors are zeros in the ingest table). */
export function vectorMatrix(table: Table, fid: string, dim: number, where: string): Float32Array {
  const v = vectorColumn(table, `f${fid}`);
  if (v.dim !== dim) throw new UserError(`${where}: f${fid} has dimension ${v.dim}, the manifest says ${dim}`);
  return v.values;
}

/** Longest list among the rows of list columns `f<fid>`. */
export function longestList(table: Table, fids: string[]): number {
  let longest = 0;
  for (const fid of fids) {
    const { offsets } = listColumn(table, `f${fid}`);
    for (let r = 0; r + 1 < offsets.length; r++) longest = Math.max(longest, offsets[r + 1]! - offsets[r]!);
  }
  return longest;
}
