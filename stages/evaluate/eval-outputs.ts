// The evaluate stage's metrics, report and plot files (no wall-clock values, so reruns are byte-identical):
//   <metrics-file>   the DVC metrics, headline numbers only (one `dvc exp show` column each):
//                    { model: { score, hr@10, ndcg@10 }, popularity: { score, hr@10, ndcg@10 } }
//   <report-file>    everything (a plain JSON output, not a DVC metric, so `dvc exp show` does not spread it):
//                    { model: RankMetrics, popularity: RankMetrics, targets, skipped_users, weights, exclude_history,
//                      segments: { target_popularity, history_length, target_action } }
//   <plots-dir>/hr_at_k.tsv               k model popularity  (HR@k on the test targets, k = 1..200)
//   <plots-dir>/hr10_by_popularity.tsv    target_popularity targets model popularity  (HR@10 per popularity segment)
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../../core/stage/atomic.ts';
import { MAX_CUTOFF, type RankMetrics, RankMetricsAccumulator } from '../../core/ranking/metrics.ts';
import type { WeightsChoice } from '../../core/model/weights-dir.ts';
import type { Segments } from './segments.ts';

export interface EvaluateReport {
  model: RankMetrics;
  popularity: RankMetrics;
  targets: number;
  skipped_users: number;
  weights: WeightsChoice;
  exclude_history: boolean;
  segments: Segments;
}

export type Headline = Pick<RankMetrics, 'score' | 'hr@10' | 'ndcg@10'>;

export interface EvaluateHeadline {
  model: Headline;
  popularity: Headline;
}

export const HR_CURVE_FILE = 'hr_at_k.tsv';
export const HR_BY_POPULARITY_FILE = 'hr10_by_popularity.tsv';

function accumulate(ranks: Int32Array): RankMetricsAccumulator {
  const acc = new RankMetricsAccumulator();
  acc.add(ranks);
  return acc;
}

/** The report's content from both rank sets (same targets, same order) and their segment tables. */
export function evaluateReport(model: Int32Array, popularity: Int32Array, segments: Segments, extra: Pick<EvaluateReport, 'skipped_users' | 'weights' | 'exclude_history'>): EvaluateReport {
  if (model.length !== popularity.length) throw new Error(`${model.length} model ranks but ${popularity.length} popularity ranks`);
  return { model: accumulate(model).result(), popularity: accumulate(popularity).result(), targets: model.length, ...extra, segments };
}

const headline = (m: RankMetrics): Headline => ({ score: m.score, 'hr@10': m['hr@10'], 'ndcg@10': m['ndcg@10'] });

/** The metrics file's content: the report's headline numbers. */
export function headlineMetrics(r: Pick<EvaluateReport, 'model' | 'popularity'>): EvaluateHeadline {
  return { model: headline(r.model), popularity: headline(r.popularity) };
}

/** HR@k for k = 1..200 of both methods as TSV with a header. */
export function hitRateTsv(model: Int32Array, popularity: Int32Array): string {
  const m = accumulate(model).hitRateCurve(MAX_CUTOFF);
  const p = accumulate(popularity).hitRateCurve(MAX_CUTOFF);
  const lines = ['k\tmodel\tpopularity'];
  for (let k = 1; k <= MAX_CUTOFF; k++) lines.push(`${k}\t${m[k - 1]}\t${p[k - 1]}`);
  return lines.join('\n') + '\n';
}

export interface EvaluateFiles {
  metrics: string;
  report: string;
  plotsDir: string;
}

export function writeEvaluateOutputs(files: EvaluateFiles, report: EvaluateReport, plots: { hrCurve: string; hrByPopularity: string }): void {
  writeFileAtomic(files.report, stableJson(report));
  writeFileAtomic(join(files.plotsDir, HR_CURVE_FILE), plots.hrCurve);
  writeFileAtomic(join(files.plotsDir, HR_BY_POPULARITY_FILE), plots.hrByPopularity);
  writeFileAtomic(files.metrics, stableJson(headlineMetrics(report)));
}
