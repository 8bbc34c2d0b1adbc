// The competition's optional inference inputs in raw_dir (SPEC §3):
//   predict_seq.jsonl   one user per line, the seq.jsonl record layout; the user cell may be a raw string
//                       id, item cells may be raw creative ids above the item count, and feature values
//                       the indexer never saw are strings
//   predict_set.jsonl   {"creative_id", "retrieval_id", "features"} per line: the candidate set
// Both are streamed (never held whole: the real set has ~1M users and 660k candidates).
// Parsed leniently where the spec says values map to 0 (that happens later, against the vocabularies),
// strictly where the structure is wrong: a malformed line stops with file:line and what was wrong.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../../core/stage/errors.ts';
import { readJsonLines } from '../../core/taac/jsonl.ts';

export const PREDICT_FILES = { seq: 'predict_seq.jsonl', set: 'predict_set.jsonl' } as const;

/** A feature dict as written in the file: values are ints, int lists, or strings (unseen values). */
export type RawFeatures = Record<string, unknown>;

/** One predict user: the id cell and the item records in file order (the profile record apart). */
export interface PredictUser {
  userCell: number | string;
  itemCells: number[]; // item re-id (1..item count) or raw creative id
  itemFeatures: (RawFeatures | null)[];
  actions: number[];
  ts: number[];
  /** the profile record's user_feature; null when the line has none, or it is null / {} */
  profile: RawFeatures | null;
}

export interface Candidate {
  creativeId: number;
  features: RawFeatures;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isDict = (v: unknown): v is RawFeatures => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One predict_seq.jsonl line; throws a plain Error naming the record and field. */
export function parsePredictUser(value: unknown): PredictUser {
  if (!Array.isArray(value) || value.length === 0) throw new Error('expected a non-empty JSON array of records');
  const u: PredictUser = { userCell: '', itemCells: [], itemFeatures: [], actions: [], ts: [], profile: null };
  value.forEach((rec: unknown, r) => {
    if (!Array.isArray(rec) || rec.length !== 6) throw new Error(`record[${r}]: expected [user_id, item_id, user_feature, item_feature, action_type, timestamp]`);
    const [user, item, userFeat, itemFeat, action, t] = rec as unknown[];
    if (!(isInt(user) || typeof user === 'string')) throw new Error(`record[${r}]: user_id must be an int or a string`);
    if (r === 0) u.userCell = user;
    else if (user !== u.userCell) throw new Error(`record[${r}]: user_id ${JSON.stringify(user)} differs from the line's ${JSON.stringify(u.userCell)}`);
    if (item === null) {
      if (isDict(userFeat) && Object.keys(userFeat).length > 0) u.profile = userFeat;
      return;
    }
    if (!isInt(item) || item < 1) throw new Error(`record[${r}]: item_id must be a positive int, got ${JSON.stringify(item)}`);
    if (!isInt(t) || t < 0) throw new Error(`record[${r}]: timestamp must be an int >= 0`);
    if (!isInt(action) || action < 0 || action > 2) throw new Error(`record[${r}]: action_type must be 0, 1 or 2`);
    u.itemCells.push(item);
    u.itemFeatures.push(isDict(itemFeat) ? itemFeat : null);
    u.actions.push(action);
    u.ts.push(t);
  });
  return u;
}

/** One predict_set.jsonl line. */
export function parseCandidate(value: unknown): Candidate {
  if (!isDict(value)) throw new Error('expected a JSON object {"creative_id", "retrieval_id", "features"}');
  const { creative_id: creativeId, features } = value;
  if (!isInt(creativeId) || creativeId < 1) throw new Error(`creative_id must be a positive int, got ${JSON.stringify(creativeId)}`);
  if (features !== undefined && features !== null && !isDict(features)) throw new Error('features must be an object');
  return { creativeId, features: isDict(features) ? features : {} };
}

/** The parsed lines of `file`, in order; a bad line throws file:line and what was wrong. */
async function* readParsedLines<T>(file: string, parse: (v: unknown) => T): AsyncGenerator<T> {
  for await (const { line, value, error } of readJsonLines(file)) {
    if (error !== undefined) throw inputError(file, line, error === 'empty line' ? 'empty line' : `invalid JSON: ${error}`);
    let parsed: T;
    try {
      parsed = parse(value);
    } catch (e) {
      throw inputError(file, line, (e as Error).message);
    }
    yield parsed;
  }
}

/** predict_seq.jsonl as batches of at most `batchSize` users, in file order: memory is bounded by the batch. */
export async function* readPredictUserBatches(file: string, batchSize: number): AsyncGenerator<PredictUser[]> {
  let batch: PredictUser[] = [];
  for await (const user of readParsedLines(file, parsePredictUser)) {
    batch.push(user);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** predict_set.jsonl one candidate at a time, in file order (the caller keeps only what it needs). */
export function readCandidates(file: string): AsyncGenerator<Candidate> {
  return readParsedLines(file, parseCandidate);
}

/** Paths of both files, or null when raw_dir has neither; one without the other is an error. */
export function findPredictFiles(rawDir: string): { seq: string; set: string } | null {
  const seq = join(rawDir, PREDICT_FILES.seq);
  const set = join(rawDir, PREDICT_FILES.set);
  const [hasSeq, hasSet] = [existsSync(seq), existsSync(set)];
  if (!hasSeq && !hasSet) return null;
  if (!hasSeq || !hasSet) throw inputError(hasSeq ? set : seq, null, `not found (competition inference needs both ${PREDICT_FILES.seq} and ${PREDICT_FILES.set})`);
  return { seq, set };
}
