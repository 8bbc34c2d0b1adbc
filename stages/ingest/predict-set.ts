// predict_set.jsonl, the candidate set of competition inference, read once into typed arrays: each distinct
// creative id (file order, first occurrence kept) and its item row (catalogue-rows.ts; a cold creative gets
// its row here, with the features of its first line). retrieval_id is not needed: result.json names
// creatives by creative_id.
import type { CatalogueRows } from './catalogue-rows.ts';
import { readParsedLines } from './predict-files.ts';
import { LineError, isDict, show, type RawFeatures } from './records.ts';

export interface Candidate {
  creativeId: number;
  features: RawFeatures;
}

export interface CandidateSet {
  creativeIds: Float64Array; // [M] distinct creative ids in file order
  rows: Int32Array; // [M] item row of each
  /** repeated creative ids in the file (dropped) */
  duplicates: number;
}

/** One predict_set.jsonl line; throws LineError naming the field. */
export function parseCandidate(value: unknown): Candidate {
  if (!isDict(value)) throw new LineError('expected a JSON object {"creative_id", "retrieval_id", "features"}');
  const { creative_id: creativeId, features } = value;
  if (!Number.isSafeInteger(creativeId) || (creativeId as number) < 1) throw new LineError(`creative_id must be a positive int, got ${show(creativeId)}`);
  if (features !== undefined && features !== null && !isDict(features)) throw new LineError('features must be an object');
  return { creativeId: creativeId as number, features: isDict(features) ? features : {} };
}

/** Streams `file`, registering each distinct candidate with `rows`. */
export async function readCandidateSet(file: string, rows: CatalogueRows): Promise<CandidateSet> {
  const seen = new Set<number>();
  const ids: number[] = []; // plain numbers pack as doubles: 8 bytes a candidate
  const rowOf: number[] = [];
  let duplicates = 0;
  for await (const { parsed: c } of readParsedLines(file, parseCandidate)) {
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
