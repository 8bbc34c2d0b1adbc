// features: per-event time features (201–203, 206–212), per-item dynamic features (training-visible
// events only) and per-feature defaults, vocab sizes and coverage, from an ingest folder.
// 204/205 are per cut (core/time/cut-time-features.ts); the holiday table is calendar.json beside this file.
import { writeDirAtomic } from '../../core/stage/atomic.ts';
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { buildFeatures } from './build-features.ts';
import { loadCalendar } from '../../core/time/calendar.ts';

runStage('features', async () => {
  const [ingestDir, outDir] = cliPaths('features <ingest-dir> <out-dir>') as [string, string];
  loadParams([]); // reads no params, but a broken params.yaml still stops the stage
  const calendar = loadCalendar();
  const progress = new Progress('features');
  const m = await writeDirAtomic(outDir, (tmp) => buildFeatures(ingestDir, tmp, calendar, progress));
  progress.done(
    `${m.events} events in ${m.shards.length} shards, ${m.items} items (${m.dynamic_stats.seen_items} seen in training, ` +
      `CTR ${m.dynamic_stats.global_ctr.toFixed(4)}), ${Object.keys(m.defaults).length} feature defaults -> ${outDir}`,
  );
});
