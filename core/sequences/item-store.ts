// The item table, loaded once: every item's static features (ingest items table) and dynamic
// features (features items table), defaults applied, as row-major arrays indexed by item idx
// (row 0 = padding / unknown item), and for competition inference the predict files' cold creatives
// after them. History tokens and target items both read their item features here, so the two branches
// can never disagree about an item.
import { readArrowFile, columnValues } from '../artifacts/arrow-io.ts';
import { featureItemTablePath, itemTablePath } from '../artifacts/artifacts.ts';
import { UserError } from '../stage/errors.ts';
import type { FeatureSchema } from '../model/config.ts';
import type { TargetItems } from '../model/inputs.ts';
import { arrayMatrix, floatMatrix, intMatrix, sparseMatrix, vectorMatrix } from './columns.ts';
import type { Manifests } from './feature-schema.ts';

/**
 * Every item's features by item idx (row 0 = padding / unknown item): the target branch's columns
 * (TargetItems, [rows, ...] here) for every row, plus the raw creative ids.
 */
export interface ItemColumns extends Omit<TargetItems, 'count' | 'itemIdx'> {
  schema: FeatureSchema;
  rows: number; // items + 1
  itemId: Float64Array; // [rows] raw creative id
}

// The columns are the store's readonly fields (declaration merging: they are listed once, in ItemColumns).
export interface ItemStore extends Readonly<ItemColumns> {}

export class ItemStore {
  constructor(columns: ItemColumns) {
    Object.assign(this, columns);
  }

  /** Reads both item tables; rows must be item idx 0..items in order. */
  static load(ingestDir: string, featuresDir: string, m: Manifests, schema: FeatureSchema): ItemStore {
    const tables = { staticPath: itemTablePath(ingestDir), dynamicPath: featureItemTablePath(featuresDir) };
    return new ItemStore(readItemColumns(tables, { firstIdx: 0, rows: m.ingest.items + 1, vectors: true }, schema, m.features.defaults));
  }

  /**
   * This store and `count` more rows (item idx this.rows …) from another pair of item tables laid out alike
   * but without multimodal vectors (zeros): the cold creatives of the predict folders.
   */
  withRows(ingestDir: string, featuresDir: string, count: number, defaults: Record<string, number | number[]>): ItemStore {
    const tables = { staticPath: itemTablePath(ingestDir), dynamicPath: featureItemTablePath(featuresDir) };
    const extra = readItemColumns(tables, { firstIdx: this.rows, rows: count, vectors: false }, this.schema, defaults);
    return new ItemStore({
      schema: this.schema,
      rows: this.rows + count,
      itemId: appendRows(this.itemId, extra.itemId),
      itemSparse: appendRows(this.itemSparse, extra.itemSparse),
      itemArray: appendRows(this.itemArray, extra.itemArray),
      itemContinuous: appendRows(this.itemContinuous, extra.itemContinuous),
      itemMultimodal: this.itemMultimodal.map((m, k) => appendRows(m, extra.itemMultimodal[k]!)),
      dynamicDiscrete: appendRows(this.dynamicDiscrete, extra.dynamicDiscrete),
      dynamicContinuous: appendRows(this.dynamicContinuous, extra.dynamicContinuous),
    });
  }

  /** Number of real items (idx 1..count). */
  get count(): number {
    return this.rows - 1;
  }

  /** The target-branch inputs of `idx` (any item idx list, repeats allowed). [M] → TargetItems */
  targetItems(idx: ArrayLike<number>): TargetItems {
    const M = idx.length;
    const s = this.schema;
    const L = s.arrayLen;
    const itemIdx = Int32Array.from(idx);
    for (const i of itemIdx) if (i < 0 || i >= this.rows) throw new UserError(`item idx ${i} is outside 0..${this.rows - 1}`);
    return {
      count: M,
      itemIdx,
      itemSparse: gatherArrayRows(this.itemSparse, s.itemSparse.length, itemIdx, Int32Array),
      itemArray: gatherArrayRows(this.itemArray, s.itemArray.length * L, itemIdx, Int32Array),
      itemContinuous: gatherArrayRows(this.itemContinuous, s.itemContinuous.length, itemIdx, Float32Array),
      itemMultimodal: this.itemMultimodal.map((t, k) => gatherArrayRows(t, s.itemMultimodal[k]!.dim, itemIdx, Float32Array)),
      dynamicDiscrete: gatherArrayRows(this.dynamicDiscrete, s.dynamicDiscrete.length, itemIdx, Int32Array),
      dynamicContinuous: gatherArrayRows(this.dynamicContinuous, s.dynamicContinuous.length, itemIdx, Float32Array),
    };
  }

  /** Every row 0..items (row r = item idx r), e.g. for full ranking. */
  allItems(): TargetItems {
    return this.targetItems(Int32Array.from({ length: this.rows }, (_, i) => i));
  }
}

/**
 * Rows item idx firstIdx … firstIdx + rows − 1 of a static (ingest) and a dynamic (features) item table, in
 * order, defaults applied; `vectors: false` for a table without multimodal columns (zeros).
 */
function readItemColumns(
  tables: { staticPath: string; dynamicPath: string }, want: { firstIdx: number; rows: number; vectors: boolean },
  schema: FeatureSchema, defaults: Record<string, number | number[]>,
): ItemColumns {
  const { staticPath, dynamicPath } = tables;
  const { firstIdx, rows } = want;
  const items = readArrowFile(staticPath);
  const dyn = readArrowFile(dynamicPath);
  const last = firstIdx + rows - 1;
  for (const [path, t] of [[staticPath, items], [dynamicPath, dyn]] as const) {
    if (t.numRows !== rows) throw new UserError(`${path}: ${t.numRows} rows, expected ${rows} (item idx ${firstIdx}..${last})`);
    const idx = columnValues<Int32Array>(t, 'item');
    for (let r = 0; r < rows; r++) if (idx[r] !== firstIdx + r) throw new UserError(`${path}: row ${r} holds item ${idx[r]}; rows must be item idx ${firstIdx}..${last} in order`);
  }
  return {
    schema,
    rows,
    itemId: Float64Array.from(columnValues<Float64Array>(items, 'item_id')),
    itemSparse: sparseMatrix(items, schema.itemSparse.map((f) => f.fid), defaults),
    itemArray: arrayMatrix(items, schema.itemArray.map((f) => f.fid), schema.arrayLen),
    itemContinuous: floatMatrix(items, schema.itemContinuous.map((fid) => `f${fid}`)),
    itemMultimodal: schema.itemMultimodal.map(({ fid, dim }) => (want.vectors ? Float32Array.from(vectorMatrix(items, fid, dim, staticPath)) : new Float32Array(rows * dim))),
    dynamicDiscrete: intMatrix(dyn, schema.dynamicDiscrete.map((f) => f.fid)),
    dynamicContinuous: floatMatrix(dyn, schema.dynamicContinuous),
  };
}

function appendRows<T extends Int32Array | Float32Array | Float64Array>(base: T, extra: T): T {
  const out = new (base.constructor as { new (n: number): T })(base.length + extra.length);
  out.set(base);
  out.set(extra, base.length);
  return out;
}

/** Rows `idx` of a row-major [R, width] array → [M, width]. */
export function gatherArrayRows<T extends Int32Array | Float32Array>(src: T, width: number, idx: Int32Array, Ctor: { new (n: number): T }): T {
  const out = new Ctor(idx.length * width);
  if (width === 0) return out;
  for (let m = 0; m < idx.length; m++) out.set(src.subarray(idx[m]! * width, (idx[m]! + 1) * width), m * width);
  return out;
}
