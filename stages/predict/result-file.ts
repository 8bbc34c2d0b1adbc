// The predict stage's output folder: result.json, the competition's submission — {"top10s": [[creative_id ×10]
// …], "user": [raw user id …]}, one row per predict user in predict_seq.jsonl order (SPEC §4) — or, when raw_dir
// had no predict files, a one-line note saying so (the folder is a declared output either way). Written
// atomically; no wall-clock values, so a rerun is byte-identical.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic } from '../../core/stage/atomic.ts';

export const RESULT_FILE = 'result.json';
export const NO_PREDICT_FILE = 'no-predict-files.txt';

export interface PredictResult {
  top10s: number[][];
  user: string[];
}

/** result.json's bytes: compact (one line), keys in the competition's order. */
export function formatResult(r: PredictResult): string {
  return JSON.stringify({ top10s: r.top10s, user: r.user }) + '\n';
}

export async function writePredictOutput(outDir: string, result: PredictResult | null): Promise<void> {
  await writeDirAtomic(outDir, (tmp) => {
    if (result) writeFileSync(join(tmp, RESULT_FILE), formatResult(result));
    else writeFileSync(join(tmp, NO_PREDICT_FILE), 'raw_dir has no predict_seq.jsonl / predict_set.jsonl: no competition inference\n');
  });
}
