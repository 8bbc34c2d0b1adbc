// The train stage's metrics, report and plot files (no wall-clock values, so reruns are byte-identical):
//   <metrics-file>            the DVC metrics, headline numbers only (one `dvc exp show` column each):
//                             { steps, best: { score, step } }   (best: null when nothing was validated)
//   <report-file>             everything (a plain JSON output, not a DVC metric, so `dvc exp show` does not spread it):
//                             { steps, epochs, epochs_run, stopped_early, stop_step, train_users, train_sequences, valid_users,
//                               best: EvalRow, last: EvalRow }
//   <plots-dir>/steps.tsv     step epoch loss lr grad_norm          (one row per optimizer step)
//   <plots-dir>/valid.tsv     step epoch train_loss hr@10 … score   (one row per validation)
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../../core/stage/atomic.ts';
import type { EvalRow, StepRow, TrainLog } from './train-log.ts';

export interface TrainReport {
  steps: number; // optimizer steps run
  epochs: number; // num_epochs: the cap
  epochs_run: number; // epochs entered (the last one may be cut short by early stopping)
  stopped_early: boolean;
  stop_step: number | null; // the step whose validation used up early_stop_patience (null: ran to the cap)
  train_users: number;
  train_sequences: number; // training cuts an epoch (= train_users unless train_windows: all)
  valid_users: number;
  best: EvalRow | null;
  last: EvalRow | null;
}

const STEP_COLUMNS: (keyof StepRow)[] = ['step', 'epoch', 'loss', 'lr', 'grad_norm'];
const EVAL_COLUMNS: (keyof EvalRow)[] = ['step', 'epoch', 'train_loss', 'hr@10', 'ndcg@10', 'hr@50', 'ndcg@50', 'hr@200', 'ndcg@200', 'mrr', 'score', 'count'];

/** Round-trip-exact numbers, one row per line, tab-separated with a header. */
export function toTsv<T>(rows: T[], columns: (keyof T)[]): string {
  const lines = [columns.join('\t')];
  for (const r of rows) lines.push(columns.map((c) => String(r[c])).join('\t'));
  return lines.join('\n') + '\n';
}

export interface RunFacts {
  epochs: number;
  trainUsers: number;
  trainSequences: number;
  validUsers: number;
  stoppedAt: number | null; // TrainResult.stoppedAt
}

export function trainReport(log: TrainLog, f: RunFacts): TrainReport {
  const lastStep = log.steps[log.steps.length - 1];
  return {
    steps: lastStep?.step ?? 0,
    epochs: f.epochs,
    epochs_run: lastStep?.epoch ?? 0,
    stopped_early: f.stoppedAt !== null,
    stop_step: f.stoppedAt,
    train_users: f.trainUsers,
    train_sequences: f.trainSequences,
    valid_users: f.validUsers,
    best: log.best,
    last: log.evals.length === 0 ? null : log.evals[log.evals.length - 1]!,
  };
}

export interface TrainHeadline {
  steps: number;
  best: { score: number; step: number } | null;
}

/** The metrics file's content: the report's headline numbers (best validation Score, and where). */
export function headlineMetrics(r: TrainReport): TrainHeadline {
  return { steps: r.steps, best: r.best === null ? null : { score: r.best.score, step: r.best.step } };
}

export interface TrainFiles {
  metrics: string;
  report: string;
  plotsDir: string;
}

export function writeTrainOutputs(files: TrainFiles, report: TrainReport, log: TrainLog): void {
  writeFileAtomic(join(files.plotsDir, 'steps.tsv'), toTsv(log.steps, STEP_COLUMNS));
  writeFileAtomic(join(files.plotsDir, 'valid.tsv'), toTsv(log.evals, EVAL_COLUMNS));
  writeFileAtomic(files.report, stableJson(report));
  writeFileAtomic(files.metrics, stableJson(headlineMetrics(report)));
}
