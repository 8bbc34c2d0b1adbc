// Item exposure counts for bucketing: occurrences of the item among Role.train events, any action
// (exposure, click or conversion each show the item once). Only training-visible events count, so
// neither the validation nor the test target leaks into which bucket its item is sampled from.
import { columnValues, readArrowFile } from '../../core/artifacts/arrow-io.ts';
import { eventShardPath, Role, type IngestManifest } from '../../core/artifacts/artifacts.ts';
import { UserError } from '../../core/stage/errors.ts';
import type { Progress } from '../../core/stage/progress.ts';

/**
 * Adds one shard's Role.train events to `counts` ([items + 1], index = item idx); item 0 (unknown)
 * is skipped. Returns the number of events counted.
 */
export function addTrainExposures(counts: Int32Array, item: Int32Array, role: Int8Array): number {
  if (item.length !== role.length) throw new RangeError('addTrainExposures: item and role lengths differ');
  let counted = 0;
  for (let r = 0; r < item.length; r++) {
    const idx = item[r]!;
    if (role[r] !== Role.train || idx === 0) continue;
    if (idx < 0 || idx >= counts.length) throw new UserError(`event item idx ${idx} outside 1..${counts.length - 1}`);
    counts[idx]!++;
    counted++;
  }
  return counted;
}

/** Reads the ingest event shards one at a time (memory: one shard + the counts). */
export function countTrainExposures(
  ingestDir: string,
  manifest: IngestManifest,
  progress?: Progress,
): { counts: Int32Array; trainEvents: number } {
  const counts = new Int32Array(manifest.items + 1);
  let trainEvents = 0;
  manifest.shards.forEach((shard, i) => {
    const path = eventShardPath(ingestDir, shard.name);
    const table = readArrowFile(path);
    try {
      // columnValues may return the IPC buffer's padding past the last row, hence subarray(0, numRows)
      const item = columnValues<Int32Array>(table, 'item').subarray(0, table.numRows);
      const role = columnValues<Int8Array>(table, 'role').subarray(0, table.numRows);
      trainEvents += addTrainExposures(counts, item, role);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(`${path}: ${e.message}`);
      throw e;
    }
    progress?.tick(() => `counted ${i + 1}/${manifest.shards.length} shards`);
  });
  return { counts, trainEvents };
}
