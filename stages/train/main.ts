// train: fit the sequence model (model_type: hstu or sasrec) on the ingest + features + negatives artifacts (SPEC §5, §6); write the
// model folder (final/, best/), metrics/train.json (headline numbers), reports/train.json (every number) and the
// plots/train/ TSVs; resumable checkpoints go to [checkpoint-dir] (default <model-dir>/checkpoint; dvc.yaml gives
// models/checkpoint, which is not an out, so that `dvc repro` does not delete it before a resume).
import { initBackend } from '../../core/ops/backend.ts';
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { buildModelConfig } from '../../core/model/config.ts';
import { BucketSampler } from '../../core/train/negative-sampler.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { TrainData } from './train-data.ts';
import { train } from './train-loop.ts';
import { checkSeedOptions, exclusionNotice } from './train-params.ts';
import { trainReport, writeTrainOutputs } from './write-outputs.ts';

runStage('train', async () => {
  const [ingestDir, featuresDir, negativesDir, modelDir, metricsFile, reportFile, plotsDir, checkpointDir] = cliPaths(
    'train <ingest-dir> <features-dir> <negatives-dir> <model-dir> <metrics-file> <report-file> <plots-dir> [checkpoint-dir]',
  ) as [string, string, string, string, string, string, string, string | undefined];
  const p = loadParams([
    'seed', 'backend', 'model_type', 'sasrec_features',
    'maxlen', 'hidden_units', 'num_blocks', 'num_heads', 'linear_dim', 'attention_dim', 'dropout_rate',
    'use_rope', 'rope_theta', 'rope_partial_dim', 'attn_norm', 'load_time_intervals', 'tower_init', 'train_windows',
    'batch_size', 'grad_accum_steps', 'lr', 'weight_decay', 'warmup_ratio', 'clip_norm', 'l2_emb', 'num_epochs',
    'temperature', 'loss_negatives', 'train_exclude_history', 'embedding_updates', 'num_negatives', 'neg_cache_steps', 'neg_cache_on_cpu', 'margin_click', 'margin_conv', 'pos_weight_a',
    'grad_checkpoint', 'ckpt_every', 'bf16_autocast', 'adamw_8bit',
    'ckpt_every_steps', 'eval_every_steps', 'early_stop_patience', 'resume', 'state_dict_path', 'exclude_history', 'eval_item_chunk',
  ]);
  const log = (line: string): void => void process.stderr.write(line + '\n');
  for (const notice of checkSeedOptions(p)) log(`[train] ${notice}`);
  const exclusion = exclusionNotice(p);
  if (exclusion !== null) log(`[train] ${exclusion}`);
  const backend = await initBackend(p.backend, log);
  const data = new TrainData(ingestDir, featuresDir, p.maxlen, undefined, p.train_windows);
  const config = buildModelConfig(p, data.schema, data.store.rows);
  const sampler = BucketSampler.fromArtifacts(negativesDir);
  const progress = new Progress('train');
  const r = await train({ params: p, config, data, sampler, modelDir, checkpointDir, progress, log });
  const facts = { epochs: p.num_epochs, trainUsers: data.trainUsers, trainSequences: data.trainCount, validUsers: data.validCount, stoppedAt: r.stoppedAt };
  const m = trainReport(r.log, facts);
  writeTrainOutputs({ metrics: metricsFile, report: reportFile, plotsDir }, m, r.log);
  const best = r.log.best;
  const rate = r.stepsRun / Math.max(progress.elapsedSeconds(), 1e-9);
  const stop = r.stoppedAt === null ? '' : ` of ${r.totalSteps}, stopped early in epoch ${m.epochs_run} of ${p.num_epochs}`;
  progress.done(
    `${m.steps} steps${stop} (${r.stepsRun} here, ${rate.toFixed(2)} steps/s on ${backend}) over ${data.trainUsers} users${data.trainCount === data.trainUsers ? '' : ` (${data.trainCount} windows)`}; ` +
      `best validation Score ${best ? `${best.score.toFixed(4)} at step ${best.step}` : 'n/a'} -> ${modelDir}`,
  );
});
