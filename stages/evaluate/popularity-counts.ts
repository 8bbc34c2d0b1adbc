// The popularity baseline's item scores (SPEC §7): how often each item occurs among the training-visible
// events (Role.train) — the same events the model and the item statistics learn from, so the baseline
// never sees a validation or test target.
import { type IngestManifest, Role, eventShardPath } from '../../core/artifacts/artifacts.ts';
import { columnValues, readArrowFile } from '../../core/artifacts/arrow-io.ts';

/** Adds one shard's Role.train events to counts [items + 1] (index = item idx; unknown items, idx 0, skipped). */
export function addTrainInteractions(counts: Int32Array, item: ArrayLike<number>, role: ArrayLike<number>): void {
  if (item.length !== role.length) throw new Error(`${item.length} items but ${role.length} roles`);
  for (let e = 0; e < item.length; e++) {
    const i = item[e]!;
    if (role[e] !== Role.train || i <= 0) continue;
    if (i >= counts.length) throw new Error(`event ${e}: item ${i} is outside 1..${counts.length - 1}`);
    counts[i]!++;
  }
}

/** Role.train interaction counts per item over every ingest events shard: [items + 1]. */
export function countTrainInteractions(ingestDir: string, m: IngestManifest): Int32Array {
  const counts = new Int32Array(m.items + 1);
  for (const { name } of m.shards) {
    const events = readArrowFile(eventShardPath(ingestDir, name));
    addTrainInteractions(counts, columnValues<Int32Array>(events, 'item'), columnValues<Int8Array>(events, 'role'));
  }
  return counts;
}
