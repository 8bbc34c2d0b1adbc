// predict: competition inference. Each predict user's top 10 creatives of the candidate set, ranked by the
// trained model over the predict users' sequences as ingest and features prepared them (shards like the
// training users', cold creatives past the catalogue), written as <out-dir>/result.json; a note instead
// when raw_dir had no predict files.
import { loadModel } from '../../core/model/sequence-model.ts';
import { resolveWeightsDir } from '../../core/model/weights-dir.ts';
import { initBackend } from '../../core/ops/backend.ts';
import { ItemStore } from '../../core/sequences/item-store.ts';
import { readUserShard } from '../../core/sequences/user-shards.ts';
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { UserError } from '../../core/stage/errors.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { readCandidates } from './candidates.ts';
import { readPredictManifests } from './predict-inputs.ts';
import { RESULT_FILE, writePredictOutput } from './result-file.ts';
import { predictTop10 } from './top10.ts';
import { QUERY_BATCH } from '../../core/sequences/queries.ts';

runStage('predict', async () => {
  const [ingestDir, featuresDir, predictIngestDir, predictFeaturesDir, modelDir, outDir] = cliPaths(
    'predict <ingest-dir> <features-dir> <ingest-predict-dir> <features-predict-dir> <model-dir> <out-dir>',
  ) as [string, string, string, string, string, string];
  const p = loadParams(['backend', 'exclude_history', 'eval_item_chunk']);
  const weights = resolveWeightsDir(modelDir);
  const m = readPredictManifests({ ingestDir, featuresDir, predictIngestDir, predictFeaturesDir });
  const progress = new Progress('predict');
  if (m.ingest.files === null) {
    await writePredictOutput(outDir, null);
    progress.done(`raw_dir has no predict files: no competition inference -> ${outDir}`);
    return;
  }
  const backend = await initBackend(p.backend, (line) => void process.stderr.write(line + '\n'));
  const model = loadModel(weights.dir);
  const config = model.config;
  if (config.itemVocab !== m.train.ingest.items + 1) {
    throw new UserError(`${weights.dir} was trained on ${config.itemVocab - 1} items, ${ingestDir} has ${m.train.ingest.items}: retrain on this data`);
  }
  const schema = config.features;
  const store = ItemStore.load(ingestDir, featuresDir, m.train, schema).withRows(predictIngestDir, predictFeaturesDir, m.ingest.cold_items, m.train.features.defaults);
  const candidates = readCandidates(predictIngestDir, store.rows);
  const result = predictTop10({
    model, store, candidates,
    shardNames: m.ingest.shards.map((s) => s.name),
    readShard: (name) => readUserShard(predictIngestDir, predictFeaturesDir, name, m.train, schema),
  }, { excludeHistory: p.exclude_history, itemChunk: p.eval_item_chunk, queryBatch: QUERY_BATCH }, (done) => progress.tick(() => `${done}/${m.ingest.users} predict users ranked`));
  await writePredictOutput(outDir, result);
  progress.done(
    `${result.user.length} predict users over ${candidates.creativeIds.length} candidates (${m.ingest.cold_items} cold creatives, ` +
      `${m.ingest.duplicate_candidates} repeated candidates dropped; ${weights.choice} weights, ${backend}) -> ${outDir}/${RESULT_FILE}`,
  );
});
