// Layout of the train stage's model folder (a DVC out; evaluate reads best/ or final/):
//   <model-dir>/final/        weights after the last step   (core/model/weights-io.ts: weights.bin, weights.json, config.json)
//   <model-dir>/best/         weights of the best validation Score seen at an evaluation point
//   <model-dir>/checkpoint/   the last resumable checkpoint (core/train/checkpoint.ts), unless train is given a checkpoint
//                             folder of its own: dvc.yaml gives models/checkpoint, outside the out, because `dvc repro`
//                             deletes a stage's outs before it runs it (a checkpoint inside could never be resumed)
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const finalModelDir = (modelDir: string): string => join(modelDir, 'final');
export const bestModelDir = (modelDir: string): string => join(modelDir, 'best');
export const checkpointDir = (modelDir: string): string => join(modelDir, 'checkpoint');

/** Removes the temp folders of `names` a killed run left in `dir` (core/stage/atomic.ts names them `.<name>.tmp-<pid>`). */
export function removeStaleTemps(dir: string, ...names: string[]): void {
  if (!existsSync(dir)) return;
  const own = names.length > 0 ? names : ['final', 'best', 'checkpoint'];
  for (const entry of readdirSync(dir)) {
    const m = /^\.(.+)\.tmp-\d+$/.exec(entry);
    if (m && own.includes(m[1]!)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}
