// evaluate: rank every test target exactly over the whole catalogue with the trained model and with the
// popularity baseline (SPEC §7); write metrics/evaluate.json (headline numbers), reports/evaluate.json (every
// number, segments included) and the plots/evaluate/ TSVs. (Competition inference is the predict stage.)
import { initBackend } from '../../core/ops/backend.ts';
import { validateBounds } from '../../core/ranking/bucket-bounds.ts';
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { UserError } from '../../core/stage/errors.ts';
import { loadModel } from '../../core/model/sequence-model.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { readManifests } from '../../core/sequences/feature-schema.ts';
import { ItemStore } from '../../core/sequences/item-store.ts';
import { evaluateReport, hitRateTsv, writeEvaluateOutputs } from './eval-outputs.ts';
import { resolveWeightsDir } from '../../core/model/weights-dir.ts';
import { countTrainInteractions } from './popularity-counts.ts';
import { rankTestTargets } from './rank-test.ts';
import { evaluateSegments, popularityHitRateTsv } from './segments.ts';
import { QUERY_BATCH } from '../../core/sequences/queries.ts';

runStage('evaluate', async () => {
  const [ingestDir, featuresDir, modelDir, metricsFile, reportFile, plotsDir] = cliPaths(
    'evaluate <ingest-dir> <features-dir> <model-dir> <metrics-file> <report-file> <plots-dir>',
  ) as [string, string, string, string, string, string];
  const p = loadParams(['backend', 'exclude_history', 'eval_item_chunk', 'neg_bucket_bounds']);
  validateBounds(p.neg_bucket_bounds);
  const weights = resolveWeightsDir(modelDir);
  const manifests = readManifests(ingestDir, featuresDir);
  const log = (line: string): void => void process.stderr.write(line + '\n');
  const backend = await initBackend(p.backend, log);
  const model = loadModel(weights.dir);
  const config = model.config;
  if (config.itemVocab !== manifests.ingest.items + 1) {
    throw new UserError(`${weights.dir} was trained on ${config.itemVocab - 1} items, ${ingestDir} has ${manifests.ingest.items}: retrain on this data`);
  }
  const store = ItemStore.load(ingestDir, featuresDir, manifests, config.features);
  const counts = countTrainInteractions(ingestDir, manifests.ingest);
  const progress = new Progress('evaluate');
  const total = manifests.ingest.splits.test_targets;
  const ranks = rankTestTargets(model, { ingestDir, featuresDir, manifests, store }, counts, {
    excludeHistory: p.exclude_history, itemChunk: p.eval_item_chunk, queryBatch: QUERY_BATCH,
  }, (done) => progress.tick(() => `${done}/${total} test targets ranked`));
  const facts = { itemInteractions: Int32Array.from(ranks.targetItem, (i) => counts[i]!), historyLength: ranks.historyLength, action: ranks.targetAction };
  const segments = evaluateSegments(facts, ranks.model, ranks.popularity, p.neg_bucket_bounds);
  const report = evaluateReport(ranks.model, ranks.popularity, segments, { skipped_users: ranks.skippedUsers, weights: weights.choice, exclude_history: p.exclude_history });
  writeEvaluateOutputs({ metrics: metricsFile, report: reportFile, plotsDir }, report, {
    hrCurve: hitRateTsv(ranks.model, ranks.popularity), hrByPopularity: popularityHitRateTsv(segments.target_popularity),
  });
  const m = report.model;
  const pop = report.popularity;
  const cold = segments.target_popularity.cold!;
  const coldHr = cold.count === 0 ? '' : `; cold targets ${cold.count}, model HR@10 ${cold.model!['hr@10'].toFixed(4)}`;
  progress.done(
    `${report.targets} test targets over ${store.count} items (${weights.choice} weights, ${backend}): ` +
      `Score ${m.score.toFixed(4)} HR@10 ${m['hr@10'].toFixed(4)} NDCG@10 ${m['ndcg@10'].toFixed(4)}; ` +
      `popularity Score ${pop.score.toFixed(4)} HR@10 ${pop['hr@10'].toFixed(4)}${coldHr} -> ${metricsFile}`,
  );
});
