// features' predict output over a tiny raw folder (ingested in-process): the predict users' time features as
// the training users get them, the cold creatives' dynamic rows as an unseen item's, and the predict shard as
// the model reads it back (core/sequences/user-shards.ts, with the training features' defaults).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { columnValues, readArrowFile } from '../../../core/artifacts/arrow-io.ts';
import { eventShardPath, featureEventShardPath, featureItemTablePath } from '../../../core/artifacts/artifacts.ts';
import { writeDirAtomic } from '../../../core/stage/atomic.ts';
import { UserError } from '../../../core/stage/errors.ts';
import { Progress } from '../../../core/stage/progress.ts';
import { buildFeatureSchema, readManifests } from '../../../core/sequences/feature-schema.ts';
import { readUserShard } from '../../../core/sequences/user-shards.ts';
import { loadCalendar } from '../../../core/time/calendar.ts';
import { computeTimeFeatures, STORED_TIME_FIDS } from '../../../core/time/time-features.ts';
import { buildFeatures } from '../../../stages/features/build-features.ts';
import { DYNAMIC_FEATURES } from '../../../stages/features/item-dynamic.ts';
import { buildPredictFeatures } from '../../../stages/features/predict-features.ts';
import { ingestRaw, readRawIndexer } from '../../../stages/ingest/ingest.ts';
import { ingestPredict } from '../../../stages/ingest/ingest-predict.ts';
import { goodLine, makeRaw } from '../ingest/make-raw.ts';

const calendar = loadCalendar();
const quiet = (): Progress => new Progress('test', 1e9, () => undefined);
const params = { mm_emb_id: [], on_bad_line: 'error' as const, shard_users: 10, target_min_action: 1, io_concurrency: 1 };

/** raw (4 users; items 5 and 6 never in training) → ingest + predict → features + predict, into `out`. */
async function build(withPredict: boolean) {
  const { raw, out } = makeRaw({ seq: [goodLine(1, [0, 1, 0, 1]), goodLine(2, [1, 0, 1, 1])].join('\n') + '\n' });
  if (withPredict) {
    const lines = [
      [['user_00000042', 2, null, null, 0, 1_745_800_000], ['user_00000042', 55555555555, null, { '100': 2 }, 0, 1_745_800_600], ['user_00000042', 3, null, null, 1, 1_745_900_000], ['user_00000042', null, { '103': 3, '106': [4, 'q'] }, null, null, 1_746_000_000]],
      [[3, 1, null, null, 0, 1_745_000_000], [3, 4, null, null, 0, 1_745_000_030], [3, null, { '103': 'new' }, null, null, 1_745_000_100]],
      [[4, 2, null, null, 0, 1_745_000_000]],
    ];
    writeFileSync(join(raw, 'predict_seq.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeFileSync(join(raw, 'predict_set.jsonl'), '{"creative_id": 20000000001}\n{"creative_id": 66666666666, "features": {"100": 1}}\n');
  }
  const dirs = { ingest: join(out, 'ingest'), features: join(out, 'features'), ingestPredict: join(out, 'ingest-predict'), featuresPredict: join(out, 'features-predict') };
  const indexer = readRawIndexer(raw);
  const train = await writeDirAtomic(dirs.ingest, (tmp) => ingestRaw(raw, tmp, params, quiet(), indexer));
  await writeDirAtomic(dirs.ingestPredict, (tmp) => ingestPredict(raw, tmp, train, indexer, params, quiet()));
  const trained = await writeDirAtomic(dirs.features, (tmp) => buildFeatures(dirs.ingest, tmp, calendar));
  const m = await writeDirAtomic(dirs.featuresPredict, (tmp) => buildPredictFeatures(dirs.ingestPredict, tmp, trained, calendar, quiet()));
  return { dirs, m, trained };
}

test("the predict users' time features are those of their own sequences, as the training users'", async () => {
  const { dirs, m } = await build(true);
  assert.deepEqual({ ...m, shards: m.shards.length }, { predict_files: true, items: 6, events: 6, shards: 1, cold_items: 2, events_outside_holiday_years: 0, out_of_order_events: 0 });
  const events = readArrowFile(eventShardPath(dirs.ingestPredict, 'part-00000'));
  const time = readArrowFile(featureEventShardPath(dirs.featuresPredict, 'part-00000'));
  const ref = computeTimeFeatures(columnValues<Int32Array>(events, 'user'), columnValues<Uint32Array>(events, 'ts'), calendar).columns;
  assert.deepEqual(time.schema.fields.map((f) => f.name), STORED_TIME_FIDS.map((fid) => `f${fid}`));
  for (const fid of STORED_TIME_FIDS) assert.deepEqual([...columnValues(time, `f${fid}`).subarray(0, 6)], [...ref[fid]], fid);
  assert.deepEqual([...ref['206']].map((code, e) => code === 34 ? e : -1).filter((e) => e >= 0), [0, 3, 5], 'each user starts a sequence');
});

test("cold creatives' dynamic rows are an unseen item's; the predict shard reads back with the training defaults", async () => {
  const { dirs, trained } = await build(true);
  const cold = readArrowFile(featureItemTablePath(dirs.featuresPredict));
  assert.deepEqual([...columnValues<Int32Array>(cold, 'item').subarray(0, 2)], [7, 8]);
  const catalogue = readArrowFile(featureItemTablePath(dirs.features));
  for (const name of DYNAMIC_FEATURES) {
    const unseenCatalogueItem = columnValues(catalogue, name)[6]!; // item 6 has no training events
    assert.deepEqual([...columnValues(cold, name).subarray(0, 2)], [unseenCatalogueItem, unseenCatalogueItem], name);
    assert.equal(trained.unseenItem[name][0], unseenCatalogueItem, name);
  }
  const manifests = readManifests(dirs.ingest, dirs.features);
  const schema = buildFeatureSchema(manifests, 2);
  const shard = readUserShard(dirs.ingestPredict, dirs.featuresPredict, 'part-00000', manifests, schema);
  const def103 = manifests.features.defaults['103'] as number;
  assert.deepEqual(shard.userId, ['user_00000042', 'user_00000003', 'user_00000004']);
  assert.deepEqual([...shard.item], [2, 8, 3, 1, 4, 2], 'the history-only cold creative takes the row after the candidates\'');
  assert.deepEqual([...shard.hasProfile], [1, 1, 0]);
  assert.deepEqual([...shard.userSparse], [3, def103, def103], 'an unseen value and no profile both take the default');
  assert.deepEqual([...shard.userArray], [4, 0, 0, 0, 0, 0], 'the first arrayLen codes; strings → 0; no profile → zeros');
});

test('no predict files: only a manifest; an ingest predict folder of another catalogue is refused', async () => {
  const { dirs, m, trained } = await build(false);
  assert.equal(m.predict_files, false);
  assert.ok(!existsSync(join(dirs.featuresPredict, 'events')));
  const path = join(dirs.ingestPredict, 'manifest.json');
  writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), items: 99 }));
  assert.throws(() => buildPredictFeatures(dirs.ingestPredict, join(dirs.featuresPredict, 'x'), trained, calendar),
    (e: unknown) => e instanceof UserError && /ingest-predict was ingested against 99 catalogue items, the features' ingest folder has 6: run ingest again/.test(e.message));
});
