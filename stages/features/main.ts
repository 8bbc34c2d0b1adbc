// features: per-event time features (201–203, 206–212), per-item dynamic features (training-visible
// events only) and per-feature defaults, vocab sizes and coverage, from an ingest folder; given ingest's
// predict folder too, the predict users' time features and the cold creatives' dynamic features.
// 204/205 are per cut (core/time/cut-time-features.ts); the holiday table is calendar.json in core/time/.
import { writeDirAtomic } from '../../core/stage/atomic.ts';
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { UserError } from '../../core/stage/errors.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { buildFeatures } from './build-features.ts';
import { buildPredictFeatures } from './predict-features.ts';
import { loadCalendar } from '../../core/time/calendar.ts';

const USAGE = 'features <ingest-dir> <out-dir> [<ingest-predict-dir>] [<predict-out-dir>]';

runStage('features', async () => {
  const [ingestDir, outDir, predictIngestDir, predictOutDir] = cliPaths(USAGE) as [string, string, string?, string?];
  if (predictIngestDir !== undefined && predictOutDir === undefined) throw new UserError(`usage: ${USAGE} (the predict folders go together)`);
  loadParams([]); // reads no params, but a broken params.yaml still stops the stage
  const calendar = loadCalendar();
  const progress = new Progress('features');
  const trained = await writeDirAtomic(outDir, (tmp) => buildFeatures(ingestDir, tmp, calendar, progress));
  const pm = predictOutDir === undefined ? null
    : await writeDirAtomic(predictOutDir, (tmp) => buildPredictFeatures(predictIngestDir!, tmp, trained, calendar, progress));
  const m = trained.manifest;
  const predicted = pm === null ? '' : !pm.predict_files ? `; no predict files -> ${predictOutDir}`
    : `; predict: ${pm.events} events in ${pm.shards.length} shard(s), ${pm.cold_items} cold creatives -> ${predictOutDir}`;
  progress.done(
    `${m.events} events in ${m.shards.length} shards, ${m.items} items (${m.dynamic_stats.seen_items} seen in training, ` +
      `CTR ${m.dynamic_stats.global_ctr.toFixed(4)}), ${Object.keys(m.defaults).length} feature defaults -> ${outDir}${predicted}`,
  );
});
