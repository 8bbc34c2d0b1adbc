// ingest: a TAAC-format folder (SPEC §3) → the artifacts of core/artifacts/artifacts.ts. Reads the indexer,
// writes the items table (item_feat_dict.json + creative_emb), then streams seq.jsonl one shard of
// users at a time: validate each line, assign split roles, write events/users shards (Arrow + ZSTD
// Parquet), drop the shard. Deterministic: no clocks or map-order dependence in what is written.
// (The competition's predict files go through the same record check and shard writer: ingest-predict.ts.)
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { itemTablePath, type IngestManifest } from '../../core/artifacts/artifacts.ts';
import { writeFileAtomic, stableJson } from '../../core/stage/atomic.ts';
import { inputError, UserError } from '../../core/stage/errors.ts';
import { readJsonLines } from '../../core/taac/jsonl.ts';
import type { Params } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { type IndexerInfo, readIndexer } from '../../core/taac/indexer.ts';
import { readItemFeatDict } from './item-feat-dict.ts';
import { buildItemColumns, sortFids } from './item-table.ts';
import { readMmEmbeddings, type MmTable } from './mm-emb.ts';
import { OffsetCheck, readOffsets } from './offsets.ts';
import { LineError, parseLine, seqRules, type FidsSeen } from './records.ts';
import { ShardWriter } from './shard-writer.ts';
import { itemsParquetPath, relayoutUserShard, tableOf, writeBoth } from './shards.ts';
import { assignRoles, countSplit, emptySplitCounts } from './split.ts';
import { sameLayout, UserLayoutTracker } from './user-layout.ts';

export type IngestParams = Pick<Params, 'mm_emb_id' | 'on_bad_line' | 'shard_users' | 'target_min_action' | 'io_concurrency'>;

export type SkippedLine = IngestManifest['skipped_lines'][number];
/** The manifest as ingest writes it: every optional bookkeeping field present. */
export type IngestResult = Required<IngestManifest>;

export const RAW_FILES = { seq: 'seq.jsonl', indexer: 'indexer.pkl', offsets: 'seq_offsets.pkl', itemFeat: 'item_feat_dict.json' } as const;

/** The message of a JSONL line that is not JSON (core/taac/jsonl.ts reports 'empty line' or the parser's error). */
export function jsonLineError(error: string): string {
  return error === 'empty line' ? 'empty line' : `invalid JSON (truncated?): ${error}`;
}

/** Checks that `rawDir` holds what ingest needs, then reads its indexer.pkl. */
export function readRawIndexer(rawDir: string): IndexerInfo {
  if (!existsSync(rawDir) || !statSync(rawDir).isDirectory()) throw new UserError(`${rawDir}: raw data folder not found`);
  for (const name of [RAW_FILES.seq, RAW_FILES.indexer, RAW_FILES.itemFeat]) {
    const file = join(rawDir, name);
    if (!existsSync(file)) throw inputError(file, null, `not found (ingest needs ${name} in ${rawDir})`);
  }
  return readIndexer(join(rawDir, RAW_FILES.indexer));
}

/** Reads `rawDir`, writes every artifact into `outDir` (a fresh temp folder), returns the manifest. */
export async function ingestRaw(rawDir: string, outDir: string, p: IngestParams, progress = new Progress('ingest'), indexer = readRawIndexer(rawDir)): Promise<IngestResult> {
  const path = (name: string): string => join(rawDir, name);
  const skipped: SkippedLine[] = [];
  const rel = (file: string): string => (file.startsWith(rawDir) ? file.slice(rawDir.length).replace(/^\/+/, '') : file);
  const onBadLine = (file: string, line: number, reason: string): void => {
    if (p.on_bad_line !== 'skip') throw inputError(file, line, reason);
    skipped.push({ file: rel(file), line, reason });
  };

  const offsets = readOffsets(path(RAW_FILES.offsets));
  const feats = readItemFeatDict(path(RAW_FILES.itemFeat), indexer.itemCount, indexer.vocab);
  const mms: MmTable[] = [];
  for (const fid of p.mm_emb_id) mms.push(await readMmEmbeddings(rawDir, fid, indexer.itemCount, indexer.itemIdxByCid, onBadLine));
  writeBoth(itemTablePath(outDir), itemsParquetPath(outDir), tableOf(buildItemColumns(indexer.itemRawIds, feats, mms)));
  const mmStats = Object.fromEntries(mms.map((m) => [m.fid, m.stats]));
  const mmDims = Object.fromEntries(mms.map((m) => [m.fid, m.dim]));
  mms.length = 0; // the vectors are written; let them go before streaming

  const itemFids = new Set([...feats.sparse.keys(), ...feats.array.keys()]);
  const userCandidates = new Set([...indexer.vocab.keys()].filter((f) => !itemFids.has(f) && !p.mm_emb_id.includes(f)));
  const tracker = new UserLayoutTracker(userCandidates);
  const seen: FidsSeen = { item: new Set() };
  const rules = seqRules({ userCount: indexer.userCount, itemCount: indexer.itemCount, vocab: indexer.vocab }, seen);
  const seqFile = path(RAW_FILES.seq);
  const offsetCheck = offsets ? new OffsetCheck(offsets, path(RAW_FILES.offsets), seqFile) : null;
  const userLine = new Int32Array(indexer.userCount + 1).fill(-1); // duplicate-user check
  const itemUsed = new Uint8Array(indexer.itemCount + 1);
  const splits = emptySplitCounts();
  const writer = new ShardWriter(outDir, tracker, () => tracker.current(seen.item), p);
  let lines = 0;
  let events = 0;
  let usersWithProfile = 0;

  try {
    for await (const { line, offset, value, error } of readJsonLines(seqFile)) {
      lines = line;
      offsetCheck?.see(line - 1, offset);
      // counts of the lines read before this one (its records are not parsed yet)
      progress.tick(() => `${lines - 1} lines, ${events} item records, ${Math.round((lines - 1) / Math.max(progress.elapsedSeconds(), 1e-3))} lines/s`);
      if (error !== undefined) {
        onBadLine(seqFile, line, jsonLineError(error));
        continue;
      }
      try {
        const parsed = parseLine(value, rules);
        const first = userLine[parsed.user]!;
        if (first >= 0) throw new LineError(`user_id ${parsed.user} already had line ${first + 1}`);
        const split = assignRoles(parsed.actions, p.target_min_action);
        writer.current.add(parsed, split.roles, indexer.userRawIds[parsed.user]!, line - 1);
        userLine[parsed.user] = line - 1;
        countSplit(splits, split);
        for (const it of parsed.items) itemUsed[it] = 1;
        events += parsed.items.length;
        if (parsed.profile) usersWithProfile++;
      } catch (e) {
        if (!(e instanceof LineError)) throw e;
        onBadLine(seqFile, line, e.message);
        continue;
      }
      await writer.added();
    }
    if (lines === 0) throw inputError(seqFile, null, 'empty file (no lines)');
    await writer.finish();
    offsetCheck?.finish();
  } finally {
    await writer.settle(); // never leave a write running into a folder the caller is about to remove
  }

  const { shards } = writer;
  const layout = tracker.current(seen.item);
  writer.layouts.forEach((l, i) => {
    if (!sameLayout(l, layout)) relayoutUserShard(outDir, i, layout);
  });

  let itemsUsed = 0;
  let itemsWithoutFeatures = 0;
  for (let i = 1; i <= indexer.itemCount; i++) {
    if (!itemUsed[i]) continue;
    itemsUsed++;
    if (!feats.present[i]) itemsWithoutFeatures++;
  }
  const vocab: Record<string, number> = {};
  for (const fid of sortFids(indexer.vocab.keys())) vocab[fid] = indexer.vocab.get(fid)!;
  const manifest: IngestResult = {
    source: rawDir,
    users: shards.reduce((a, s) => a + s.users, 0),
    items: indexer.itemCount,
    events,
    shards,
    features: {
      user_sparse: layout.sparse,
      user_array: layout.array,
      item_sparse: sortFids(feats.sparse.keys()),
      item_array: sortFids(feats.array.keys()),
      item_continuous: [],
      mm: mmDims,
    },
    vocab,
    splits: { ...splits },
    skipped_lines: skipped,
    lines,
    users_with_profile: usersWithProfile,
    items_used: itemsUsed,
    items_without_features: itemsWithoutFeatures,
    item_feat_dict_entries: feats.entries,
    mm_stats: mmStats,
    offsets_checked: offsetCheck !== null,
  };
  writeFileAtomic(join(outDir, 'manifest.json'), stableJson(manifest));
  return manifest;
}
