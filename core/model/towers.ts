// Feature towers: ONE encoder, parametrised by branch (SPEC §5).
//   user    — user sparse/array/continuous features (+ token type: real vs default user)
//   history — item id, item sparse/array/continuous, time features, action, multimodal
//   target  — item id, item sparse/array/continuous, the 10 dynamic features, multimodal
// Every feature becomes one field of width E; SE weighs the fields; a DNN maps them to D.
// Embedding tables ('emb.<fid>', 'emb.item') and multimodal projections ('mm.<fid>') are shared by
// the branches; each branch has its own continuous projection, SE and DNN.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random/rng.ts';
import type { CategoricalFeature, ModelConfig, MultimodalFeature, TowerInit } from './config.ts';
import type { ModelWeights } from './model-weights.ts';
import { embed, initEmbedding, initLinear, linear } from './layers.ts';
import { INIT_STD } from './init.ts';
import { relu } from '../ops/activations.ts';
import { initSqueezeExcite, squeezeExcite } from './se.ts';

export type Branch = 'user' | 'history' | 'target';
export const BRANCHES: readonly Branch[] = ['user', 'history', 'target'];

/** Which fields a branch has, in order. */
export interface BranchLayout {
  itemId: boolean;
  sparse: CategoricalFeature[]; // one field each
  array: CategoricalFeature[]; // one field each, mean-pooled over non-zero values
  continuous: string[]; // together one field: Linear(C → E)
  multimodal: MultimodalFeature[]; // one field each: Linear(dim → E)
}

export const ACTION_FIELD = 'action';
export const TOKEN_TYPE_FIELD = 'token_type';

export function branchLayout(c: ModelConfig, branch: Branch): BranchLayout {
  const f = c.features;
  switch (branch) {
    case 'user':
      return {
        itemId: false,
        sparse: [{ fid: TOKEN_TYPE_FIELD, vocab: 4 }, ...f.userSparse],
        array: f.userArray,
        continuous: f.userContinuous,
        multimodal: [],
      };
    case 'history':
      return {
        itemId: true,
        sparse: [...f.itemSparse, ...(c.loadTimeIntervals ? f.timeDiscrete : []), { fid: ACTION_FIELD, vocab: c.numActions }],
        array: f.itemArray,
        continuous: [...f.itemContinuous, ...(c.loadTimeIntervals ? f.timeContinuous : [])],
        multimodal: f.itemMultimodal,
      };
    case 'target':
      return {
        itemId: true,
        sparse: [...f.itemSparse, ...f.dynamicDiscrete],
        array: f.itemArray,
        continuous: [...f.itemContinuous, ...f.dynamicContinuous],
        multimodal: f.itemMultimodal,
      };
    default: {
      const never: never = branch;
      throw new Error(`unknown branch ${String(never)}`);
    }
  }
}

export function fieldCount(l: BranchLayout): number {
  return (l.itemId ? 1 : 0) + l.sparse.length + l.array.length + (l.continuous.length > 0 ? 1 : 0) + l.multimodal.length;
}

/** One branch's inputs for R rows, as typed arrays in the layout's order. */
export interface BranchRows {
  rows: number; // R
  itemIdx: Int32Array | null; // [R] when layout.itemId
  sparse: Int32Array[]; // per sparse field: [R]
  array: Int32Array[]; // per array field: [R, L]
  continuous: Float32Array; // [R, C]
  multimodal: Float32Array[]; // per multimodal field: [R, dim]
}

/** Shared tables and projections, created once for all branches. */
export function initFeatureTables(w: ModelWeights, c: ModelConfig, rng: Rng): void {
  const E = c.fieldDim;
  initEmbedding(w, 'emb.item', c.itemVocab, E, rng, 'itemEmbedding');
  const seen = new Map<string, number>();
  for (const branch of BRANCHES) {
    const l = branchLayout(c, branch);
    for (const { fid, vocab } of [...l.sparse, ...l.array]) {
      const prev = seen.get(fid);
      if (prev !== undefined) {
        if (prev !== vocab) throw new Error(`feature ${fid} has vocab ${prev} and ${vocab} in different branches`);
        continue;
      }
      seen.set(fid, vocab);
      initEmbedding(w, `emb.${fid}`, vocab, E, rng);
    }
  }
  for (const { fid, dim } of c.features.itemMultimodal) initLinear(w, `mm.${fid}`, dim, E, rng);
}

/**
 * The DNN layers' init std. With the seed's 0.02 the tower's output starts ~1e-4 while Adam moves the
 * (zero-init) biases by ~lr a step: within a few steps every item's output is its bias, the same for all
 * items, and the L2-normalised item embeddings collapse onto one direction. He init keeps the id
 * signal at the scale of the input fields (issue "HSTU that learns": chain test, ML-100k).
 */
export function towerStd(c: ModelConfig, fanIn: number): number {
  const init: TowerInit = c.towerInit ?? 'trunc_normal'; // configs saved before tower_init never init again
  switch (init) {
    case 'he':
      return Math.sqrt(2 / fanIn);
    case 'trunc_normal':
      return INIT_STD;
    default: {
      const never: never = init;
      throw new Error(`unknown tower_init ${String(never)}`);
    }
  }
}

/** A branch's own layers: continuous projection, SE and the DNN to D. */
export function initBranch(w: ModelWeights, c: ModelConfig, branch: Branch, rng: Rng): void {
  const l = branchLayout(c, branch);
  const E = c.fieldDim;
  const F = fieldCount(l);
  if (l.continuous.length > 0) initLinear(w, `${branch}.continuous`, l.continuous.length, E, rng);
  initSqueezeExcite(w, `${branch}.se`, F, rng);
  initLinear(w, `${branch}.dnn1`, F * E, c.hiddenUnits, rng, true, towerStd(c, F * E));
  initLinear(w, `${branch}.dnn2`, c.hiddenUnits, c.hiddenUnits, rng, true, towerStd(c, c.hiddenUnits));
}

/** Mean of the embeddings of the non-zero indices of each row: ids [R, L] → [R, E]. */
function meanPoolArray(w: ModelWeights, table: string, ids: tf.Tensor): tf.Tensor {
  const e = embed(w, table, ids); // [R, L, E]
  const mask = tf.expandDims(tf.cast(tf.notEqual(ids, 0), 'float32'), -1); // [R, L, 1]
  const count = tf.maximum(tf.sum(mask, 1), 1); // [R, 1]
  return tf.div(tf.sum(tf.mul(e, mask), 1), count); // [R, E]
}

/**
 * Encodes R rows of one branch → [R, D]. Call inside tf.tidy. `itemEmb` [R, E]: the item table's
 * rows at x.itemIdx when the caller looked them up itself (together with another branch's, so the
 * table gets one gradient instead of two).
 */
export function encodeBranch(w: ModelWeights, c: ModelConfig, branch: Branch, x: BranchRows, itemEmb?: tf.Tensor): tf.Tensor {
  const l = branchLayout(c, branch);
  const R = x.rows;
  const L = c.features.arrayLen;
  const fields: tf.Tensor[] = []; // each [R, E]
  if (l.itemId) {
    if (x.itemIdx === null) throw new Error(`${branch} branch needs item indices`);
    fields.push(itemEmb ?? embed(w, 'emb.item', tf.tensor1d(x.itemIdx, 'int32')));
  }
  l.sparse.forEach(({ fid }, i) => fields.push(embed(w, `emb.${fid}`, tf.tensor1d(x.sparse[i]!, 'int32'))));
  l.array.forEach(({ fid }, i) => fields.push(meanPoolArray(w, `emb.${fid}`, tf.tensor2d(x.array[i]!, [R, L], 'int32'))));
  if (l.continuous.length > 0) {
    fields.push(linear(w, `${branch}.continuous`, tf.tensor2d(x.continuous, [R, l.continuous.length])));
  }
  l.multimodal.forEach(({ fid, dim }, i) => fields.push(linear(w, `mm.${fid}`, tf.tensor2d(x.multimodal[i]!, [R, dim]))));
  // concat + reshape, not tf.stack: stack's gradient (Unpack) is ~25× slower on wasm [measured].
  const stacked = tf.reshape(tf.concat(fields, 1), [R, fields.length, c.fieldDim]); // [R, F, E]
  const weighted = squeezeExcite(w, `${branch}.se`, stacked); // [R, F, E]
  const flat = tf.reshape(weighted, [R, fields.length * c.fieldDim]); // [R, F*E]
  const h = relu(linear(w, `${branch}.dnn1`, flat)); // [R, D]
  return linear(w, `${branch}.dnn2`, h); // [R, D]
}

/** Column j of a row-major [R, width] array. */
export function column<T extends Int32Array | Float32Array>(arr: T, rows: number, width: number, j: number): T {
  const out = new (arr.constructor as { new (n: number): T })(rows);
  for (let r = 0; r < rows; r++) out[r] = arr[r * width + j]!;
  return out;
}

/** Columns [j*block, (j+1)*block) of a row-major [R, width*block] array, as [R, block]. */
export function columnBlock(arr: Int32Array, rows: number, width: number, block: number, j: number): Int32Array {
  const out = new Int32Array(rows * block);
  for (let r = 0; r < rows; r++) out.set(arr.subarray((r * width + j) * block, (r * width + j + 1) * block), r * block);
  return out;
}

/** Side-by-side concatenation of row-major blocks [R, w_k] → [R, Σ w_k]. */
export function concatColumns(rows: number, parts: [Float32Array, number][]): Float32Array {
  const width = parts.reduce((s, [, w]) => s + w, 0);
  const out = new Float32Array(rows * width);
  let offset = 0;
  for (const [arr, w] of parts) {
    for (let r = 0; r < rows; r++) out.set(arr.subarray(r * w, (r + 1) * w), r * width + offset);
    offset += w;
  }
  return out;
}
