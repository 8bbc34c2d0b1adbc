// The features stage's work over an ingest folder, shard by shard: per-event time features written
// beside each events shard, item dynamic features and per-feature defaults accumulated as it goes.
// Memory: one shard plus a few item-sized arrays.
import type { Table } from 'apache-arrow';
import {
  type FeaturesManifest, type IngestManifest, type ShardInfo, eventShardPath, featureEventShardPath, featureItemTablePath,
  featuresManifestPath, itemTablePath, userShardPath,
} from '../../core/artifacts/artifacts.ts';
import { type ColumnData, type TypedArray, columnValues, flat, listColumn, makeTable, readArrowFile, writeArrowFile, writeParquetFile } from '../../core/artifacts/arrow-io.ts';
import { stableJson, writeFileAtomic } from '../../core/stage/atomic.ts';
import { UserError } from '../../core/stage/errors.ts';
import { readIngestManifest } from '../../core/artifacts/manifests.ts';
import type { Progress } from '../../core/stage/progress.ts';
import type { Calendar } from '../../core/time/calendar.ts';
import { FeatureCounters, type FeatureSummary } from './defaults.ts';
import { DYNAMIC_FEATURES, DYNAMIC_VOCAB, type ItemDynamic, ItemDynamicAccumulator, type ItemDynamicColumns } from './item-dynamic.ts';
import { STORED_TIME_FIDS, TIME_VOCAB, type TimeFeatureResult, computeTimeFeatures } from '../../core/time/time-features.ts';

type TypedArrayCtor = { new (n: number): TypedArray; name: string };

/** A flat column of the expected typed-array type, or a UserError naming file, column and types. */
function typedColumn<T extends TypedArray>(table: Table, file: string, name: string, ctor: TypedArrayCtor): T {
  let values: TypedArray;
  try {
    values = columnValues(table, name);
  } catch (e) {
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
  if (!(values instanceof ctor)) throw new UserError(`${file}: column '${name}' must be ${ctor.name}, got ${values.constructor.name}`);
  return values as T;
}

/** The columns of an events shard that the features read. */
interface EventColumns {
  user: Int32Array;
  item: Int32Array;
  action: Int8Array;
  ts: Uint32Array;
  role: Int8Array;
}

const parquetPath = (outDir: string, kind: string, shard: string): string => `${outDir}/parquet/${kind}-${shard.replace(/^part-/, '')}.parquet`;

interface EventPass {
  events: number;
  outsideHolidayYears: number;
  outOfOrder: number;
}

/** One events shard's stored time features (10 columns, aligned with it), written as Arrow + Parquet. */
export function writeTimeShard(ingestDir: string, outDir: string, shard: ShardInfo, calendar: Calendar): { events: EventColumns; time: TimeFeatureResult } {
  const file = eventShardPath(ingestDir, shard.name);
  const table = readArrowFile(file);
  if (table.numRows !== shard.events) throw new UserError(`${file}: ${table.numRows} rows, manifest says ${shard.events}`);
  const events: EventColumns = {
    user: typedColumn<Int32Array>(table, file, 'user', Int32Array),
    item: typedColumn<Int32Array>(table, file, 'item', Int32Array),
    action: typedColumn<Int8Array>(table, file, 'action', Int8Array),
    ts: typedColumn<Uint32Array>(table, file, 'ts', Uint32Array),
    role: typedColumn<Int8Array>(table, file, 'role', Int8Array),
  };
  const time = computeTimeFeatures(events.user, events.ts, calendar);
  const columns: Record<string, ColumnData> = {};
  for (const fid of STORED_TIME_FIDS) columns[`f${fid}`] = flat(time.columns[fid]);
  const out = makeTable(columns);
  writeArrowFile(featureEventShardPath(outDir, shard.name), out);
  writeParquetFile(parquetPath(outDir, 'events', shard.name), out);
  return { events, time };
}

/** Pass over the events shards: writes each shard's time features and feeds the item counters. */
function writeTimeShards(
  ingest: IngestManifest, ingestDir: string, outDir: string, calendar: Calendar,
  counters: FeatureCounters, dynamic: ItemDynamicAccumulator, progress?: Progress,
): EventPass {
  const pass: EventPass = { events: 0, outsideHolidayYears: 0, outOfOrder: 0 };
  for (const fid of STORED_TIME_FIDS) counters.counter(fid, 'time'); // present even for an empty dataset
  ingest.shards.forEach((shard, s) => {
    const { events, time } = writeTimeShard(ingestDir, outDir, shard, calendar);
    for (const fid of STORED_TIME_FIDS) counters.counter(fid, 'time').addFlat(time.columns[fid]);
    dynamic.add(events.user, events.item, events.action, events.ts, events.role);
    pass.events += events.ts.length;
    pass.outsideHolidayYears += time.outsideHolidayYears;
    pass.outOfOrder += time.outOfOrder;
    progress?.tick(() => `events shard ${s + 1}/${ingest.shards.length}, ${pass.events} events`);
  });
  return pass;
}

/** Counts the user features (users shards) and item features (items table, rows 1..items). */
function countProfileFeatures(ingest: IngestManifest, ingestDir: string, counters: FeatureCounters): void {
  const { features } = ingest;
  for (const shard of ingest.shards) {
    const file = userShardPath(ingestDir, shard.name);
    const table = readArrowFile(file);
    for (const fid of features.user_sparse) counters.counter(fid, 'user_sparse').addFlat(typedColumn(table, file, `f${fid}`, Int32Array));
    for (const fid of features.user_array) {
      const { offsets, values } = listColumn(table, `f${fid}`);
      counters.counter(fid, 'user_array').addLists(offsets, values);
    }
  }
  const file = itemTablePath(ingestDir);
  const items = readArrowFile(file);
  if (items.numRows !== ingest.items + 1) throw new UserError(`${file}: ${items.numRows} rows, expected items + 1 = ${ingest.items + 1}`);
  // Row 0 is padding: coverage and defaults are over real items 1..items.
  for (const fid of features.item_sparse) counters.counter(fid, 'item_sparse').addFlat(typedColumn(items, file, `f${fid}`, Int32Array), 1);
  for (const fid of features.item_array) {
    const { offsets, values } = listColumn(items, `f${fid}`);
    counters.counter(fid, 'item_array').addLists(offsets, values, 1);
  }
  for (const fid of features.item_continuous) {
    counters.counter(fid, 'item_continuous').addPresence(columnValues(items, `f${fid}`), 1);
  }
  for (const fid of Object.keys(features.mm)) counters.counter(fid, 'mm').addPresence(typedColumn(items, file, `has_f${fid}`, Int8Array), 1);
}

/** The dynamic features table: item (firstIdx, firstIdx + 1, …) and the ten columns. */
export function writeItemTable(outDir: string, columns: ItemDynamicColumns, firstIdx: number): void {
  const rows = columns.dyn_ctr.length;
  const table = makeTable({
    item: flat(Int32Array.from({ length: rows }, (_, r) => firstIdx + r)),
    ...Object.fromEntries(DYNAMIC_FEATURES.map((name) => [name, flat(columns[name])])),
  });
  writeArrowFile(featureItemTablePath(outDir), table);
  writeParquetFile(`${outDir}/parquet/items.parquet`, table);
}

function makeManifest(
  ingest: IngestManifest, pass: EventPass, dyn: ItemDynamic, summaries: Map<string, FeatureSummary>, calendar: Calendar,
): FeaturesManifest {
  // 204 over a whole sequence is the multiset of 206 (every gap once, plus one "none" per user), so it shares 206's summary.
  summaries.set('204', { ...summaries.get('206')! });
  const m: FeaturesManifest = {
    events: pass.events,
    items: ingest.items,
    shards: ingest.shards,
    train_cutoff_ts: dyn.trainCutoffTs,
    time_vocab: { ...TIME_VOCAB },
    dynamic: [...DYNAMIC_FEATURES],
    dynamic_vocab: { ...DYNAMIC_VOCAB },
    defaults: {},
    top3: {},
    vocab: {},
    coverage: {},
    kinds: {},
    dynamic_stats: {
      global_ctr: dyn.globalCtr,
      prior_alpha: dyn.prior.alpha,
      prior_beta: dyn.prior.beta,
      seen_items: dyn.seenItems,
      train_events: dyn.trainEvents,
    },
    calendar: { holiday_years: [calendar.holidayYears[0], calendar.holidayYears[1]], events_outside_holiday_years: pass.outsideHolidayYears },
    out_of_order_events: pass.outOfOrder,
  };
  // Integer-like keys serialise in ascending numeric order whatever the insertion order: stable bytes.
  for (const [fid, s] of summaries) {
    m.defaults[fid] = s.default;
    m.top3[fid] = s.top3;
    m.coverage[fid] = s.coverage;
    m.kinds[fid] = s.kind;
    if (s.kind === 'time') m.vocab[fid] = TIME_VOCAB[fid as keyof typeof TIME_VOCAB];
    else if (s.kind !== 'mm' && s.kind !== 'item_continuous') m.vocab[fid] = Math.max(ingest.vocab[fid] ?? 0, s.observedVocab);
  }
  // 205 is continuous and computed per cut: never missing.
  m.defaults['205'] = 0;
  m.top3['205'] = [];
  m.coverage['205'] = 1;
  m.kinds['205'] = 'time';
  return m;
}

/**
 * Runs the stage from `ingestDir` into `outDir` (an empty, temporary directory); returns the manifest and the
 * dynamic features of an item without training-visible events (what the predict files' cold creatives take).
 */
export function buildFeatures(ingestDir: string, outDir: string, calendar: Calendar, progress?: Progress): { manifest: FeaturesManifest; unseenItem: ItemDynamicColumns } {
  const ingest = readIngestManifest(ingestDir);
  const counters = new FeatureCounters();
  const dynamic = new ItemDynamicAccumulator(ingest.items);
  const pass = writeTimeShards(ingest, ingestDir, outDir, calendar, counters, dynamic, progress);
  countProfileFeatures(ingest, ingestDir, counters);
  const dyn = dynamic.finish();
  writeItemTable(outDir, dyn.columns, 0);
  const manifest = makeManifest(ingest, pass, dyn, counters.summaries(), calendar);
  writeFileAtomic(featuresManifestPath(outDir), stableJson(manifest));
  return { manifest, unseenItem: dyn.unseen };
}
