// Item embeddings for ranking: the model's target encoder over item-store rows, a chunk at a time, copied to the
// host as one row-major [R, D] array (what core/ranking/topk.ts ranks against). Rows past the model's item
// vocabulary are cold items (competition candidates the indexer never saw): they keep their own
// features but take id 0, the "unknown item" embedding (SPEC §3).
import type { TargetItems } from '../model/inputs.ts';
import type { SequenceModel } from '../model/sequence-model.ts';

/** Sets every item idx ≥ itemVocab to 0, in place. */
export function clampColdIds(itemIdx: Int32Array, itemVocab: number): void {
  for (let m = 0; m < itemIdx.length; m++) if (itemIdx[m]! >= itemVocab) itemIdx[m] = 0;
}

/**
 * Embeddings of `rows` (store rows, in that order), `chunk` rows per encodeTargets call: [R, D].
 * `targetsOf` gathers the target-branch inputs of a list of rows (e.g. ItemStore.targetItems).
 */
export function embedItems(model: SequenceModel, targetsOf: (rows: Int32Array) => TargetItems, rows: Int32Array, chunk: number): Float32Array {
  const D = model.config.hiddenUnits;
  const out = new Float32Array(rows.length * D);
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.subarray(start, Math.min(start + chunk, rows.length));
    const targets = targetsOf(part);
    clampColdIds(targets.itemIdx, model.config.itemVocab);
    const emb = model.encodeTargets(targets); // [chunk, D]
    out.set(emb.dataSync() as Float32Array, start * D);
    emb.dispose();
  }
  return out;
}

/** Rows 0..count−1 (row r = item idx r for the ingest item store). */
export function allRows(count: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => i);
}
