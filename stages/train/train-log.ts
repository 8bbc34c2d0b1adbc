// What training records: one row per optimizer step, one per validation, and the best validation.
// It travels inside every checkpoint (JSON meta), so a resumed run reports the whole run.
import type { RankMetrics } from '../../core/ranking/metrics.ts';

export interface StepRow {
  step: number; // optimizer steps done (1-based)
  epoch: number; // 1-based
  loss: number; // mean micro-batch loss of this step
  lr: number;
  grad_norm: number; // before clipping
}

export type EvalRow = { step: number; epoch: number; train_loss: number } & RankMetrics;

export interface TrainLog {
  steps: StepRow[];
  evals: EvalRow[];
  best: EvalRow | null;
}

export function emptyTrainLog(): TrainLog {
  return { steps: [], evals: [], best: null };
}

/** Mean step loss since the previous validation (the training loss an eval row reports). */
export function lossSinceLastEval(log: TrainLog): number {
  const after = log.evals.length > 0 ? log.evals[log.evals.length - 1]!.step : 0;
  const rows = log.steps.filter((r) => r.step > after);
  return rows.length === 0 ? NaN : rows.reduce((s, r) => s + r.loss, 0) / rows.length;
}
