// The predict folder's items table: one row per cold creative (a creative the predict files name and the
// indexer does not know), in row order, laid out as the ingest items table (core/artifacts/artifacts.ts):
// item (idx items + 1 …), item_id (the raw creative id), f<fid> per item sparse and array feature of the
// training layout, coded against the indexer's vocab (strings and unseen ids → 0 = missing). No multimodal
// columns: a cold creative has no creative_emb vector (the model reads zeros).
import { type ColumnData, flat } from '../../core/artifacts/arrow-io.ts';
import type { FeatureLayout } from '../../core/artifacts/artifacts.ts';
import type { ColdCreative } from './catalogue-rows.ts';
import { featureCode, featureCodes } from './predict-rules.ts';

export function buildColdItemColumns(cold: readonly ColdCreative[], firstIdx: number, layout: Pick<FeatureLayout, 'item_sparse' | 'item_array'>, vocab: ReadonlyMap<string, number>): Record<string, ColumnData> {
  const C = cold.length;
  const cols: Record<string, ColumnData> = {
    item: flat(Int32Array.from({ length: C }, (_, k) => firstIdx + k)),
    item_id: flat(Float64Array.from(cold, (c) => c.creativeId)),
  };
  for (const fid of layout.item_sparse) cols[`f${fid}`] = flat(Int32Array.from(cold, (c) => featureCode(c.features[fid], vocab.get(fid) ?? 0)));
  for (const fid of layout.item_array) {
    const lists = cold.map((c) => featureCodes(c.features[fid], vocab.get(fid) ?? 0));
    const offsets = new Int32Array(C + 1);
    lists.forEach((l, k) => (offsets[k + 1] = offsets[k]! + l.length));
    cols[`f${fid}`] = { kind: 'list', offsets, values: Int32Array.from(lists.flat()) };
  }
  return cols;
}
