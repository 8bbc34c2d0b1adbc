// The competition's optional inference inputs in raw_dir (SPEC §3):
//   predict_seq.jsonl   one user per line, the seq.jsonl record layout (read by records.ts with predict-rules.ts)
//   predict_set.jsonl   {"creative_id", "retrieval_id", "features"} per line: the candidate set (predict-set.ts)
// Both are streamed (never held whole: the real set has ~1M users and 660k candidates). A bad line always
// stops ingest with file:line and what was wrong, whatever on_bad_line says: result.json needs a row for
// every predict user, and a candidate left out could never be recommended.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inputError } from '../../core/stage/errors.ts';
import { readJsonLines } from '../../core/taac/jsonl.ts';
import { jsonLineError } from './ingest.ts';
import { LineError } from './records.ts';

export const PREDICT_FILES = { seq: 'predict_seq.jsonl', set: 'predict_set.jsonl' } as const;

/** Paths of both files, or null when raw_dir has neither; one without the other is an error. */
export function findPredictFiles(rawDir: string): { seq: string; set: string } | null {
  const seq = join(rawDir, PREDICT_FILES.seq);
  const set = join(rawDir, PREDICT_FILES.set);
  const [hasSeq, hasSet] = [existsSync(seq), existsSync(set)];
  if (!hasSeq && !hasSet) return null;
  if (!hasSeq || !hasSet) throw inputError(hasSeq ? set : seq, null, `not found (competition inference needs both ${PREDICT_FILES.seq} and ${PREDICT_FILES.set})`);
  return { seq, set };
}

/** The lines of `file` through `parse`, in order, with their 1-based numbers; a bad line throws file:line. */
export async function* readParsedLines<T>(file: string, parse: (value: unknown) => T): AsyncGenerator<{ line: number; parsed: T }> {
  for await (const { line, value, error } of readJsonLines(file)) {
    if (error !== undefined) throw inputError(file, line, jsonLineError(error));
    let parsed: T;
    try {
      parsed = parse(value);
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      throw inputError(file, line, e.message);
    }
    yield { line, parsed };
  }
}
