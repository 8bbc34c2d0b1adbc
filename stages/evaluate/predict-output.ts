// The predict output folder: result.json when raw_dir has the competition's predict files, else a one-line
// note saying there were none (the folder is a declared output either way, written atomically).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic } from '../../core/stage/atomic.ts';
import { PREDICT_FILES } from './predict-files.ts';
import { type PredictResult, formatResult } from './predict-top10.ts';

export const RESULT_FILE = 'result.json';
export const NO_PREDICT_FILE = 'no-predict-files.txt';

export async function writePredictOutput(outDir: string, result: PredictResult | null): Promise<void> {
  await writeDirAtomic(outDir, (tmp) => {
    if (result) writeFileSync(join(tmp, RESULT_FILE), formatResult(result));
    else writeFileSync(join(tmp, NO_PREDICT_FILE), `raw_dir has no ${PREDICT_FILES.seq} / ${PREDICT_FILES.set}: no competition inference\n`);
  });
}
