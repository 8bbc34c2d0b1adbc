// Which weights evaluate and predict rank with: the train stage's model folder holds best/ (best validation Score)
// and final/ (last step); best/ wins when present. A folder holding weights directly (config.json,
// weights.json, weights.bin, as core/model/weights-io.ts writes them) is accepted as is.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../stage/errors.ts';

export type WeightsChoice = 'best' | 'final' | 'given';

const WEIGHT_FILES = ['config.json', 'weights.json', 'weights.bin'];

const hasWeights = (dir: string): boolean => WEIGHT_FILES.every((f) => existsSync(join(dir, f)));

/** The weights folder inside `modelDir` and which one it is; a UserError in one line when there is none. */
export function resolveWeightsDir(modelDir: string): { dir: string; choice: WeightsChoice } {
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) throw new UserError(`${modelDir}: model folder not found (run train first)`);
  for (const choice of ['best', 'final'] as const) {
    const dir = join(modelDir, choice);
    if (hasWeights(dir)) return { dir, choice };
  }
  if (hasWeights(modelDir)) return { dir: modelDir, choice: 'given' };
  throw new UserError(`${modelDir}: no model weights (expected best/ or final/ with ${WEIGHT_FILES.join(', ')}; run train first)`);
}
