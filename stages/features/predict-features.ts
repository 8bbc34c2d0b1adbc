// The features of the competition's predict users (features' second output; layout in
// core/artifacts/artifacts.ts PredictFeaturesManifest): each predict events shard's stored time features,
// computed as for the training users (build-features.ts writeTimeShard), and one dynamic-features row per cold
// creative — the row of an item without training-visible events. Nothing here feeds the training features:
// predict users are never counted in item statistics or defaults.
import { type FeaturesManifest, type PredictFeaturesManifest, predictFeaturesManifestPath } from '../../core/artifacts/artifacts.ts';
import { readPredictIngestManifest } from '../../core/artifacts/manifests.ts';
import { stableJson, writeFileAtomic } from '../../core/stage/atomic.ts';
import { UserError } from '../../core/stage/errors.ts';
import type { Progress } from '../../core/stage/progress.ts';
import type { Calendar } from '../../core/time/calendar.ts';
import { writeItemTable, writeTimeShard } from './build-features.ts';
import { DYNAMIC_FEATURES, type ItemDynamicColumns } from './item-dynamic.ts';

/** `count` copies of the one-row `unseen` columns. */
function repeatRow(unseen: ItemDynamicColumns, count: number): ItemDynamicColumns {
  const out = {} as Record<string, Int32Array | Float32Array>;
  for (const name of DYNAMIC_FEATURES) {
    const one = unseen[name];
    out[name] = new (one.constructor as new (n: number) => Int32Array | Float32Array)(count).fill(one[0]!);
  }
  return out as ItemDynamicColumns;
}

/**
 * Reads the ingest predict folder, writes its features into `outDir` (an empty, temporary directory) and
 * returns the manifest. `trained` is what buildFeatures returned for the same ingest run.
 */
export function buildPredictFeatures(
  predictIngestDir: string, outDir: string, trained: { manifest: FeaturesManifest; unseenItem: ItemDynamicColumns },
  calendar: Calendar, progress?: Progress,
): PredictFeaturesManifest {
  const pm = readPredictIngestManifest(predictIngestDir);
  if (pm.items !== trained.manifest.items) {
    throw new UserError(`${predictIngestDir} was ingested against ${pm.items} catalogue items, the features' ingest folder has ${trained.manifest.items}: run ingest again`);
  }
  const m: PredictFeaturesManifest = {
    predict_files: pm.files !== null, items: pm.items, events: 0, shards: pm.shards, cold_items: pm.cold_items,
    events_outside_holiday_years: 0, out_of_order_events: 0,
  };
  if (m.predict_files) {
    pm.shards.forEach((shard, s) => {
      const { events, time } = writeTimeShard(predictIngestDir, outDir, shard, calendar);
      m.events += events.ts.length;
      m.events_outside_holiday_years += time.outsideHolidayYears;
      m.out_of_order_events += time.outOfOrder;
      progress?.tick(() => `predict events shard ${s + 1}/${pm.shards.length}, ${m.events} events`);
    });
    writeItemTable(outDir, repeatRow(trained.unseenItem, pm.cold_items), pm.items + 1);
  }
  writeFileAtomic(predictFeaturesManifestPath(outDir), stableJson(m));
  return m;
}
