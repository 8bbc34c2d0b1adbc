// The candidate set of competition inference, as the ingest predict folder holds it (candidates.arrow):
// each distinct creative id of predict_set.jsonl in file order and its item-store row (a catalogue item,
// or a cold creative's row past it).
import { candidatesPath } from '../../core/artifacts/artifacts.ts';
import { columnValues, readArrowFile } from '../../core/artifacts/arrow-io.ts';
import { UserError } from '../../core/stage/errors.ts';

export interface Candidates {
  creativeIds: Float64Array; // [M] raw creative ids, what result.json lists
  rows: Int32Array; // [M] item-store row of each
}

/** Reads the candidates table; every row must lie in the item store (0..storeRows − 1). */
export function readCandidates(predictIngestDir: string, storeRows: number): Candidates {
  const path = candidatesPath(predictIngestDir);
  const table = readArrowFile(path);
  const creativeIds = Float64Array.from(columnValues<Float64Array>(table, 'creative_id'));
  const rows = Int32Array.from(columnValues<Int32Array>(table, 'item'));
  const bad = rows.findIndex((r) => r < 0 || r >= storeRows);
  if (bad >= 0) throw new UserError(`${path}: row ${bad}: item ${rows[bad]} is outside the item store's 0..${storeRows - 1}`);
  return { creativeIds, rows };
}
