// ingest's second output: the competition's predict files (SPEC §3) → the ingest predict folder
// (core/artifacts/artifacts.ts PredictIngestManifest). After the training users, so their layout is known:
// predict_set.jsonl first (its cold creatives take the first rows past the catalogue), then predict_seq.jsonl
// streamed one shard of users at a time through the same record check (records.ts, with predict-rules.ts)
// and the same shard writer as seq.jsonl, then the cold creatives' items table and the candidates table.
import { flat, makeTable } from '../../core/artifacts/arrow-io.ts';
import { type IngestManifest, type PredictIngestManifest, candidatesPath, itemTablePath, predictIngestManifestPath } from '../../core/artifacts/artifacts.ts';
import { stableJson, writeFileAtomic } from '../../core/stage/atomic.ts';
import type { Progress } from '../../core/stage/progress.ts';
import type { IndexerInfo } from '../../core/taac/indexer.ts';
import { CatalogueRows } from './catalogue-rows.ts';
import { buildColdItemColumns } from './cold-items.ts';
import type { IngestParams } from './ingest.ts';
import { PREDICT_FILES, findPredictFiles, readParsedLines } from './predict-files.ts';
import { predictRules } from './predict-rules.ts';
import { readCandidateSet } from './predict-set.ts';
import { parseLine } from './records.ts';
import { ShardWriter } from './shard-writer.ts';
import { itemsParquetPath, tableOf, writeBoth } from './shards.ts';
import { type UserLayout, UserLayoutTracker } from './user-layout.ts';

const candidatesParquetPath = (dir: string): string => `${dir}/parquet/candidates.parquet`;

/**
 * Reads the predict files of `rawDir` (if any) against the ingest run's indexer and manifest, writes the
 * predict folder's artifacts into `outDir` (a fresh temp folder), returns its manifest.
 */
export async function ingestPredict(
  rawDir: string, outDir: string, train: IngestManifest, indexer: IndexerInfo,
  p: Pick<IngestParams, 'shard_users' | 'io_concurrency'>, progress: Progress,
): Promise<PredictIngestManifest> {
  const files = findPredictFiles(rawDir);
  const manifest: PredictIngestManifest = {
    source: rawDir, files: files && PREDICT_FILES, items: indexer.itemCount,
    users: 0, events: 0, shards: [], candidates: 0, duplicate_candidates: 0, cold_items: 0,
  };
  if (files) {
    const rows = new CatalogueRows(indexer.itemCount, indexer.itemIdxByCid);
    const set = await readCandidateSet(files.set, rows);
    writeBoth(candidatesPath(outDir), candidatesParquetPath(outDir), makeTable({ creative_id: flat(set.creativeIds), item: flat(set.rows) }));
    const layout: UserLayout = { sparse: train.features.user_sparse, array: train.features.user_array };
    const limits = { userCount: indexer.userCount, itemCount: indexer.itemCount, vocab: indexer.vocab };
    const rules = predictRules(limits, indexer.userRawIds, layout, rows);
    const writer = new ShardWriter(outDir, new UserLayoutTracker(new Set([...layout.sparse, ...layout.array])), () => layout, p);
    try {
      for await (const { line, parsed } of readParsedLines(files.seq, (v) => parseLine(v, rules))) {
        progress.tick(() => `${PREDICT_FILES.seq}: ${manifest.users} lines, ${manifest.events} item records`);
        // every record is history (Role.train = 0): there is no target to hold out
        writer.current.add({ ...parsed, user: manifest.users }, new Int8Array(parsed.items.length), parsed.user, line - 1);
        manifest.users++;
        manifest.events += parsed.items.length;
        await writer.added();
      }
      await writer.finish();
    } finally {
      await writer.settle(); // never leave a write running into a folder the caller is about to remove
    }
    writeBoth(itemTablePath(outDir), itemsParquetPath(outDir), tableOf(buildColdItemColumns(rows.cold, indexer.itemCount + 1, train.features, indexer.vocab)));
    Object.assign(manifest, { shards: writer.shards, candidates: set.creativeIds.length, duplicate_candidates: set.duplicates, cold_items: rows.cold.length });
  }
  writeFileAtomic(predictIngestManifestPath(outDir), stableJson(manifest));
  return manifest;
}
