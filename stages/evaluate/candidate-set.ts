// The candidate set of competition inference, read once from predict_set.jsonl into typed arrays: each
// distinct creative id (file order, first occurrence kept) and its item-store row. No row objects are kept:
// a creative the indexer knows needs only its catalogue row; a cold one is kept (its own features, once)
// by CatalogueRows, which gives it its row past the catalogue.
import { readCandidates } from './predict-files.ts';
import type { CatalogueRows } from './predict-shard.ts';

export interface CandidateSet {
  creativeIds: Float64Array; // [M] distinct creative ids in file order
  rows: Int32Array; // [M] item-store row of each
  /** repeated creative ids in the file (dropped) */
  duplicates: number;
}

/** Streams `file`, registering each distinct candidate with `rows` (cold creatives get their rows here, first). */
export async function readCandidateSet(file: string, rows: CatalogueRows): Promise<CandidateSet> {
  const seen = new Set<number>();
  const ids: number[] = []; // plain numbers pack as doubles: 8 bytes a candidate
  const rowOf: number[] = [];
  let duplicates = 0;
  for await (const c of readCandidates(file)) {
    if (seen.has(c.creativeId)) {
      duplicates++;
      continue;
    }
    seen.add(c.creativeId);
    ids.push(c.creativeId);
    rowOf.push(rows.ofCreative(c.creativeId, c.features));
  }
  return { creativeIds: Float64Array.from(ids), rows: Int32Array.from(rowOf), duplicates };
}
