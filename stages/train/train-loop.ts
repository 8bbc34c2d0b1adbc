// The training loop (SPEC §6): epochs over seeded shuffles of the training users, micro-batches of
// batch_size cuts, grad_accum_steps micro-batches per AdamW step on a warmup + cosine schedule with
// the seed's clip schedule, a memory bank of earlier negatives, validation every epoch (and every
// eval_every_steps), the best-on-validation weights, and atomic checkpoints every ckpt_every_steps
// and at each epoch's end; early stopping after early_stop_patience validations without a better
// Score (early-stop.ts). Resuming from a checkpoint replays nothing: every random choice is a
// function of the seed and the position in the run, or restored RNG state, and the patience count
// is a function of the validation log the checkpoint holds.
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { UserError } from '../../core/stage/errors.ts';
import type { ModelConfig } from '../../core/model/config.ts';
import type { BucketSampler } from '../../core/train/negative-sampler.ts';
import type { Progress } from '../../core/stage/progress.ts';
import { Rng } from '../../core/random/rng.ts';
import { buildCutBatch } from '../../core/sequences/cut-batch.ts';
import { selectCuts } from '../../core/sequences/cut.ts';
import { seenBeforePositives } from '../../core/sequences/seen-items.ts';
import { GradAccumulator, type NamedGrads, NonFiniteGradNormError, clipNormAt } from '../../core/train/adamw.ts';
import { SampledNegatives } from '../../core/train/sampled-softmax.ts';
import { type CosineSchedule, cosineLr, warmupSteps } from '../../core/train/schedule.ts';
import { type LossSettings, batchLoss } from './batch-loss.ts';
import { resolveNegatives, sampledColumns } from './negatives-choice.ts';
import { ITEM_TABLE } from '../../core/model/tokens.ts';
import { improves, shouldStop } from './early-stop.ts';
import { bestModelDir, checkpointDir, finalModelDir, removeStaleTemps } from './model-dir.ts';
import type { TrainData } from './train-data.ts';
import { type EvalRow, type TrainLog, lossSinceLastEval } from './train-log.ts';
import type { TrainParams } from './train-params.ts';
import { type TrainState, disposeState, freshState, restoreState, saveState } from './train-state.ts';
import { validate } from './validate.ts';

/** Seed stream of the per-micro-batch dropout seeds. */
const DROPOUT_STREAM = 0x44524f; // 'DRO'

/** Negatives per folded chunk of the streamed InfoNCE (bounds the [M, chunk] logits block). */
const INFONCE_CHUNK = 1024;

export interface TrainRun {
  params: TrainParams;
  config: ModelConfig;
  data: TrainData;
  sampler: BucketSampler;
  modelDir: string;
  /** Where resumable checkpoints go; outside a DVC out (dvc repro deletes outs before it runs a stage). Default <model-dir>/checkpoint. */
  checkpointDir?: string;
  progress: Progress;
  log: (line: string) => void;
}

export interface TrainResult {
  log: TrainLog;
  totalSteps: number;
  resumedFrom: number | null; // optimizer step of the checkpoint resumed from
  stepsRun: number; // optimizer steps taken in this process
  stoppedAt: number | null; // optimizer step where early stopping ended the run before totalSteps
}

export async function train(run: TrainRun): Promise<TrainResult> {
  const { params: p, config: c, data, modelDir } = run;
  const ckDir = checkpointFolder(run);
  removeStaleTemps(modelDir);
  removeStaleTemps(dirname(ckDir), basename(ckDir));
  const state = freshState(c, p, resolveNegatives(p.loss_negatives, data.store.count, p));
  try {
    let resumedFrom: number | null = null;
    if (p.resume) {
      if (existsSync(ckDir)) {
        restoreState(state, ckDir, p);
        resumedFrom = state.cursor.step;
        run.log(`[train] resuming from ${ckDir} at step ${state.cursor.step} (epoch ${state.cursor.epoch + 1}, micro-batch ${state.cursor.batch})`);
      } else {
        run.log(`[train] resume: true but ${ckDir} does not exist; starting from the beginning`);
      }
    }
    const perEpoch = data.batchesPerEpoch(p.batch_size);
    if (perEpoch === 0) throw new UserError('no training sequences: every user lacks training events');
    const totalSteps = Math.ceil(perEpoch / p.grad_accum_steps) * p.num_epochs;
    const schedule: CosineSchedule = { peak: p.lr, warmup: warmupSteps(totalSteps, p.warmup_ratio), total: totalSteps };
    const startStep = state.cursor.step;
    if (p.loss_negatives === 'auto') {
      const [n, cols] = [data.store.count, sampledColumns(p)];
      run.log(`[train] loss_negatives auto: ${resolveNegatives('auto', n, p)} (${n} items ${n <= cols ? '<=' : '>'} ${cols}, the most a sampled step touches)`);
    }
    const rowSparse = state.optimizer.rowSparseNames();
    const others = rowSparse.filter((n) => n !== ITEM_TABLE).length;
    const which = `${rowSparse.includes(ITEM_TABLE) ? `the item table${others > 0 ? ' and ' : ''}` : ''}${others > 0 ? `${others} other lookup table${others === 1 ? '' : 's'}` : ''}`;
    run.log(`[train] embedding_updates ${p.embedding_updates}: ${rowSparse.length > 0 ? `row-sparse updates of ${which}` : 'every table dense'}`);
    if (resumedFrom !== null && stopRequested(state, p) && resumedFrom < totalSteps) run.log(`[train] the checkpoint's run had already stopped early at step ${resumedFrom}: nothing left to train`);
    for (let epoch = state.cursor.epoch; epoch < p.num_epochs && !stopRequested(state, p); epoch++) {
      await runEpoch(run, state, epoch, perEpoch, schedule, startStep);
      if (!stopRequested(state, p)) {
        await evaluate(run, state, epoch);
        state.cursor = { step: state.cursor.step, epoch: epoch + 1, batch: 0 };
      } // else stopped by a mid-epoch validation: the cursor stays where it stopped
      await saveState(state, ckDir, p);
    }
    const stoppedAt = stopRequested(state, p) && state.cursor.step < totalSteps ? state.cursor.step : null;
    if (stoppedAt !== null) {
      const best = state.log.best;
      const since = best ? ` since step ${best.step} (Score ${best.score.toFixed(4)})` : '';
      run.log(`[train] stopped early at step ${stoppedAt} of ${totalSteps}: no better validation Score in ${p.early_stop_patience} validation(s)${since}`);
    }
    if (data.validCount === 0) run.log('[train] no validation targets: best/ holds the final weights');
    state.optimizer.flush(); // the row-sparse tables' last rows into the model's variables
    if (state.log.best === null) await state.model.save(bestModelDir(modelDir));
    await state.model.save(finalModelDir(modelDir));
    return { log: state.log, totalSteps, resumedFrom, stepsRun: state.cursor.step - startStep, stoppedAt };
  } finally {
    disposeState(state);
  }
}

/** One epoch from the cursor's micro-batch on, or until a mid-epoch validation stops training early. */
async function runEpoch(run: TrainRun, s: TrainState, epoch: number, perEpoch: number, schedule: CosineSchedule, startStep: number): Promise<void> {
  const { params: p, config: c, data } = run;
  const plan = data.epochPlan(epoch, p.batch_size, p.seed);
  const settings: LossSettings = {
    temperature: p.temperature, margin_click: p.margin_click, margin_conv: p.margin_conv, chunk: INFONCE_CHUNK,
    pos_weight_a: p.pos_weight_a, l2_emb: p.l2_emb, loss_negatives: resolveNegatives(p.loss_negatives, data.store.count, p),
  };
  const allItems = settings.loss_negatives === 'all_items' ? Int32Array.from({ length: data.store.count }, (_, k) => k + 1) : null;
  const proposal = settings.loss_negatives === 'sampled' ? new SampledNegatives(data.positiveCounts) : undefined;
  const accumulator = new GradAccumulator();
  let losses: number[] = [];
  try {
    for (let b = epoch === s.cursor.epoch ? s.cursor.batch : 0; b < plan.length; b++) {
      const step = s.cursor.step; // optimizer steps done before this micro-batch's update
      const { shard, train } = data.load(plan[b]!.shard);
      const cuts = selectCuts(train, plan[b]!.rows);
      const cb = buildCutBatch(cuts, shard, data.store, c.maxlen, 'train');
      if (p.train_exclude_history) cb.positives.seen = seenBeforePositives(cuts, shard, cb);
      const negativeIds = allItems ?? (proposal ? proposal.draw(p.num_negatives, s.negativesRng) : run.sampler.draw(p.num_negatives, s.negativesRng));
      const dropoutSeed = new Rng(p.seed, DROPOUT_STREAM + epoch * perEpoch + b).nextU32();
      const r = batchLoss({ model: s.model, store: data.store, cb, negativeIds, memory: s.bank.banks(), settings, dropoutSeed, proposal, rowTables: s.optimizer });
      if (settings.loss_negatives === 'mixed') s.bank.push(r.negatives, negativeIds); // only mixed reads the memory bank
      r.negatives.dispose();
      if (!Number.isFinite(r.loss)) {
        disposeGrads(r.grads);
        throw new UserError(`training loss is ${r.loss} at step ${step + 1} (epoch ${epoch + 1}, micro-batch ${b + 1}); stopped — ${lastCheckpoint(run)}`);
      }
      losses.push(r.loss);
      const lastOfStep = (b + 1) % p.grad_accum_steps === 0 || b === plan.length - 1;
      let grads = r.grads;
      if (p.grad_accum_steps > 1) {
        accumulator.add(r.grads);
        disposeGrads(r.grads);
        if (!lastOfStep) continue;
        grads = accumulator.mean();
      }
      const lr = cosineLr(step, schedule);
      let norm: number;
      try {
        norm = s.optimizer.step(grads, lr, clipNormAt(step, p.clip_norm));
      } catch (e) {
        if (e instanceof NonFiniteGradNormError) {
          throw new UserError(`gradient norm is not finite at step ${step + 1} (epoch ${epoch + 1}); stopped — ${lastCheckpoint(run)}`);
        }
        throw e;
      } finally {
        disposeGrads(grads);
      }
      const loss = losses.reduce((a, x) => a + x, 0) / losses.length;
      losses = [];
      s.cursor = { step: step + 1, epoch, batch: b + 1 };
      s.log.steps.push({ step: step + 1, epoch: epoch + 1, loss, lr, grad_norm: norm });
      tickProgress(run, s, schedule.total, startStep);
      if (p.eval_every_steps > 0 && s.cursor.step % p.eval_every_steps === 0 && b < plan.length - 1) {
        await evaluate(run, s, epoch);
        if (stopRequested(s, run.params)) return;
      }
      if (s.cursor.step % p.ckpt_every_steps === 0) await saveState(s, checkpointFolder(run), p);
    }
  } finally {
    accumulator.dispose();
  }
}

/** The run's checkpoint folder: its own, or <model-dir>/checkpoint. */
function checkpointFolder(run: TrainRun): string {
  return run.checkpointDir ?? checkpointDir(run.modelDir);
}

/** Where a stopped run can resume from, for its error message. */
function lastCheckpoint(run: TrainRun): string {
  const dir = checkpointFolder(run);
  return existsSync(dir) ? `the last good checkpoint stays in ${dir} (resume: true continues from it)` : 'no checkpoint was written yet';
}

function disposeGrads(g: NamedGrads): void {
  tf.dispose(Object.values(g)); // dense tensors and row-sparse gradients alike
}

/** steps/s counts only this process's steps (a resumed run starts its clock at the checkpoint). */
function tickProgress(run: TrainRun, s: TrainState, total: number, startStep: number): void {
  run.progress.tick(() => {
    const row = s.log.steps[s.log.steps.length - 1]!;
    const rate = (row.step - startStep) / Math.max(run.progress.elapsedSeconds(), 1e-9);
    const eta = (total - row.step) / Math.max(rate, 1e-9);
    return `step ${row.step}/${total} epoch ${row.epoch}/${run.params.num_epochs} loss ${row.loss.toFixed(4)} lr ${row.lr.toExponential(2)} ${rate.toFixed(2)} steps/s ETA ${eta.toFixed(0)}s`;
  });
}

/** Whether the validations so far have used up early_stop_patience (never when it is 0). */
function stopRequested(s: TrainState, p: TrainParams): boolean {
  return shouldStop(s.log.evals.map((r) => r.score), p.early_stop_patience);
}

/** Validates, records the row, and saves best/ when the Score improves. */
async function evaluate(run: TrainRun, s: TrainState, epoch: number): Promise<void> {
  const { params: p, data } = run;
  if (data.validCount === 0) return;
  s.optimizer.flush(); // validation reads the model's variables
  const m = validate(s.model, data, { excludeHistory: p.exclude_history, itemChunk: p.eval_item_chunk },
    (done) => run.progress.tick(() => `validation at step ${s.cursor.step}: ${done}/${data.validCount} targets ranked`));
  const row: EvalRow = { step: s.cursor.step, epoch: epoch + 1, train_loss: lossSinceLastEval(s.log), ...m };
  s.log.evals.push(row);
  run.log(`[train] validation at step ${row.step} (epoch ${row.epoch}): Score ${m.score.toFixed(4)} HR@10 ${m['hr@10'].toFixed(4)} NDCG@10 ${m['ndcg@10'].toFixed(4)} train loss ${row.train_loss.toFixed(4)}`);
  if (improves(m.score, s.log.best?.score ?? null)) {
    s.log.best = row;
    await s.model.save(bestModelDir(run.modelDir));
  }
}
