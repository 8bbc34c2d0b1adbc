// The evaluate stage's metrics and plot files (DVC metrics/plots; no wall-clock values, so reruns are
// byte-identical):
//   <metrics-file>              { model: RankMetrics, popularity: RankMetrics, targets, skipped_users, weights, exclude_history }
//   <plots-dir>/hr_at_k.tsv     k model popularity   (HR@k on the test targets, k = 1..200; one line per method)
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../../core/atomic.ts';
import { MAX_CUTOFF, type RankMetrics, RankMetricsAccumulator } from '../../core/metrics.ts';
import type { WeightsChoice } from './model-weights.ts';

export interface EvaluateMetrics {
  model: RankMetrics;
  popularity: RankMetrics;
  targets: number;
  skipped_users: number;
  weights: WeightsChoice;
  exclude_history: boolean;
}

export const HR_CURVE_FILE = 'hr_at_k.tsv';

function accumulate(ranks: Int32Array): RankMetricsAccumulator {
  const acc = new RankMetricsAccumulator();
  acc.add(ranks);
  return acc;
}

/** The metrics file's content from both rank sets (same targets, same order). */
export function evaluateMetrics(model: Int32Array, popularity: Int32Array, extra: Pick<EvaluateMetrics, 'skipped_users' | 'weights' | 'exclude_history'>): EvaluateMetrics {
  if (model.length !== popularity.length) throw new Error(`${model.length} model ranks but ${popularity.length} popularity ranks`);
  return { model: accumulate(model).result(), popularity: accumulate(popularity).result(), targets: model.length, ...extra };
}

/** HR@k for k = 1..200 of both methods as TSV with a header. */
export function hitRateTsv(model: Int32Array, popularity: Int32Array): string {
  const m = accumulate(model).hitRateCurve(MAX_CUTOFF);
  const p = accumulate(popularity).hitRateCurve(MAX_CUTOFF);
  const lines = ['k\tmodel\tpopularity'];
  for (let k = 1; k <= MAX_CUTOFF; k++) lines.push(`${k}\t${m[k - 1]}\t${p[k - 1]}`);
  return lines.join('\n') + '\n';
}

export function writeEvaluateOutputs(metricsFile: string, plotsDir: string, metrics: EvaluateMetrics, tsv: string): void {
  writeFileAtomic(metricsFile, stableJson(metrics));
  writeFileAtomic(join(plotsDir, HR_CURVE_FILE), tsv);
}
