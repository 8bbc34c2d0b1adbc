// Layout of the train stage's model folder (a DVC out; evaluate reads best/ or final/):
//   <model-dir>/final/        weights after the last step   (core/model/weights-io.ts: weights.bin, weights.json, config.json)
//   <model-dir>/best/         weights of the best validation Score seen at an evaluation point
//   <model-dir>/checkpoint/   the last resumable checkpoint (core/train/checkpoint.ts)
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const finalModelDir = (modelDir: string): string => join(modelDir, 'final');
export const bestModelDir = (modelDir: string): string => join(modelDir, 'best');
export const checkpointDir = (modelDir: string): string => join(modelDir, 'checkpoint');

/** Removes temp folders a killed run left behind (core/stage/atomic.ts names them `.<name>.tmp-<pid>`). */
export function removeStaleTemps(modelDir: string): void {
  if (!existsSync(modelDir)) return;
  for (const entry of readdirSync(modelDir)) {
    if (/^\.(final|best|checkpoint)\.tmp-\d+$/.test(entry)) rmSync(join(modelDir, entry), { recursive: true, force: true });
  }
}
