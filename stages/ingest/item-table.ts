// The items table (core/artifacts/artifacts.ts): one row per item idx 0..itemCount (row 0 = padding) with the
// raw creative id, the item features of item_feat_dict.json and the multimodal vectors.
import { flat, type ColumnData } from '../../core/artifacts/arrow-io.ts';
import type { ItemFeatures } from './item-feat-dict.ts';
import type { MmTable } from './mm-emb.ts';

/** Feature ids sorted numerically (then as text), so column order never depends on input order. */
export function sortFids(fids: Iterable<string>): string[] {
  return [...fids].sort((a, b) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** list<int32> column from a sparse item → ids map ([] where absent). */
function listFromMap(rows: number, m: ReadonlyMap<number, number[]>): ColumnData {
  const offsets = new Int32Array(rows + 1);
  let total = 0;
  for (let i = 0; i < rows; i++) {
    total += m.get(i)?.length ?? 0;
    offsets[i + 1] = total;
  }
  const values = new Int32Array(total);
  for (const [i, ids] of m) values.set(ids, offsets[i]!);
  return { kind: 'list', offsets, values };
}

/** Columns of items/part-00000: item, item_id, f<fid> (sparse, then array), f<mm> + has_f<mm>. */
export function buildItemColumns(itemRawIds: Float64Array, feats: ItemFeatures, mms: readonly MmTable[]): Record<string, ColumnData> {
  const rows = itemRawIds.length;
  const item = new Int32Array(rows);
  for (let i = 0; i < rows; i++) item[i] = i;
  const cols: Record<string, ColumnData> = { item: flat(item), item_id: flat(itemRawIds) };
  for (const fid of sortFids(feats.sparse.keys())) cols[`f${fid}`] = flat(feats.sparse.get(fid)!);
  for (const fid of sortFids(feats.array.keys())) cols[`f${fid}`] = listFromMap(rows, feats.array.get(fid)!);
  for (const mm of mms) {
    cols[`f${mm.fid}`] = { kind: 'vector', dim: mm.dim, values: mm.values };
    cols[`has_f${mm.fid}`] = flat(mm.has);
  }
  return cols;
}
