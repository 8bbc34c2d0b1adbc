// Everything that changes while training, created fresh (seeded init, optionally state_dict_path
// weights) or restored from the last checkpoint (resume: true), and saved back as a checkpoint.
import type * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/stage/errors.ts';
import type { ModelConfig } from '../../core/model/config.ts';
import { type SequenceModel, initModel, loadModel } from '../../core/model/sequence-model.ts';
import { copyWeights } from '../../core/model/weights-io.ts';
import { Rng } from '../../core/random/rng.ts';
import { AdamW, decayFromKinds } from '../../core/train/adamw.ts';
import { type TrainCursor, assignCheckpointWeights, deferredWeights, loadCheckpoint, saveCheckpoint } from '../../core/train/checkpoint.ts';
import { MemoryBank } from '../../core/train/memory-bank.ts';
import { rowSparseTables } from './embedding-updates.ts';
import type { LossSettings } from './batch-loss.ts';
import { type TrainLog, emptyTrainLog } from './train-log.ts';
import type { TrainParams } from './train-params.ts';

/** Seed stream of the negative sampler (model init and epoch shuffles use their own). */
const NEGATIVES_STREAM = 0x4e4547; // 'NEG'

/** Params that may differ between a killed run and its resumption (they do not change the numbers). */
const RESUMABLE_CHANGES: readonly string[] = ['resume', 'backend', 'ckpt_every_steps', 'state_dict_path'];

export interface TrainState {
  model: SequenceModel;
  vars: Record<string, tf.Variable>; // the model's variables by name, for the optimizer
  optimizer: AdamW;
  bank: MemoryBank;
  negativesRng: Rng;
  cursor: TrainCursor;
  log: TrainLog;
}

/**
 * A fresh state: seeded init, then state_dict_path's weights when given; AdamW updates lookup tables row-sparse
 * as embedding_updates says for the loss's resolved negatives (embedding-updates.ts).
 */
export function freshState(c: ModelConfig, p: TrainParams, negatives: LossSettings['loss_negatives']): TrainState {
  const model = initModel(c, p.seed);
  const weights = model.weights;
  if (p.state_dict_path !== '') {
    if (!existsSync(join(p.state_dict_path, 'weights.json'))) throw new UserError(`state_dict_path ${p.state_dict_path}: no model weights there (expected weights.json, weights.bin)`);
    const source = loadModel(p.state_dict_path);
    try {
      copyWeights(weights, source.weights);
    } finally {
      source.dispose();
    }
  }
  const vars = Object.fromEntries(weights.names().map((n) => [n, weights.get(n)]));
  return {
    model,
    vars,
    optimizer: new AdamW(vars, { weightDecay: p.weight_decay, decays: decayFromKinds(weights.kinds), rowSparse: rowSparseTables(weights, p.embedding_updates, negatives) }),
    bank: new MemoryBank(p.neg_cache_steps),
    negativesRng: new Rng(p.seed, NEGATIVES_STREAM),
    cursor: { step: 0, epoch: 0, batch: 0 },
    log: emptyTrainLog(),
  };
}

/** The params as the checkpoint records them (JSON-safe), to refuse resuming under changed settings. */
function recordedParams(p: TrainParams): Record<string, unknown> {
  return JSON.parse(JSON.stringify(p)) as Record<string, unknown>;
}

/** Restores `s` in place from the checkpoint folder; the params must match the ones it was written with. */
export function restoreState(s: TrainState, dir: string, p: TrainParams): void {
  const ck = loadCheckpoint(dir);
  const saved = (ck.meta['params'] ?? {}) as Record<string, unknown>;
  const now = recordedParams(p);
  for (const key of Object.keys(now)) {
    if (RESUMABLE_CHANGES.includes(key)) continue;
    if (JSON.stringify(saved[key]) !== JSON.stringify(now[key])) {
      throw new UserError(`cannot resume from ${dir}: param '${key}' was ${JSON.stringify(saved[key])} and is now ${JSON.stringify(now[key])} (restore it, or set resume: false to start over)`);
    }
  }
  assignCheckpointWeights(s.vars, ck.weights);
  s.optimizer.importState(ck.optimizer);
  s.bank.importState(ck.bank);
  const rng = ck.rng['negatives'];
  if (rng === undefined) throw new UserError(`checkpoint ${dir} has no negatives RNG state`);
  s.negativesRng.setState(rng);
  s.cursor = ck.cursor;
  s.log = ck.meta['log'] as TrainLog;
}

export async function saveState(s: TrainState, dir: string, p: TrainParams): Promise<void> {
  s.optimizer.flush(); // the row-sparse tables' rows into the variables the weights are read from
  await saveCheckpoint(dir, { // every table-sized array deferred: read when written, one at a time
    weights: deferredWeights(s.vars),
    optimizer: s.optimizer.exportStateDeferred(),
    cursor: s.cursor,
    rng: { negatives: s.negativesRng.getState() },
    bank: s.bank.exportState(),
    meta: { params: recordedParams(p), log: s.log },
  });
}

export function disposeState(s: TrainState): void {
  s.optimizer.dispose();
  s.bank.dispose();
  s.model.dispose();
}
