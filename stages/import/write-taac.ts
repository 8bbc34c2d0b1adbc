// Users, items, events and side features → a TAAC-format folder ingest reads unchanged (SPEC §3):
//   seq.jsonl            one line per user (re-id order): item records [u, i, null, {fid: int} | null, action, ts],
//                        then the user-profile record [u, null, {fid: v}, null, null, ts] when the user has features
//   seq_offsets.pkl      byte offset of every line (pickle protocol 3)
//   indexer.pkl          {'f': defaultdict(dict){fid: {raw value: re-id}}, 'i': {creative id: re-id},
//                        'u': {raw user id: re-id}, 'a': {1: 1, 0: 2}} (protocol 4, as the real file)
//   item_feat_dict.json  {item re-id: {fid: v}} for every item ({} when the item has no features)
//   item_ids.tsv         re-id → raw item id, only when raw item ids are not all integers (creative id = re-id)
import { join } from 'node:path';
import { PyDefaultDict, PyDict, type PickleValue } from '../../core/taac/pickle/values.ts';
import { writePickle } from '../../core/taac/pickle/write.ts';
import type { Progress } from '../../core/stage/progress.ts';
import { TextFile, writeBytes } from '../../core/taac/text-file.ts';
import type { Interactions } from './interactions.ts';
import type { SideFeature, SideFeatures } from './side-features.ts';

export interface TaacFolderStats {
  seqBytes: number;
  profileRecords: number;
  itemsWithFeatures: number;
  creativeIds: 'raw' | 're-id';
}

/**
 * `{"100": 3, "101": [1, 2]}` for one entity, as Python's json.dumps spaces it; null without features.
 * `sparseOnly`: item records in seq.jsonl hold ints only (SPEC §3); arrays live in item_feat_dict.json.
 */
export function featureObject(features: readonly SideFeature[], idx: number, sparseOnly = false): string | null {
  const parts: string[] = [];
  for (const f of features) {
    if (f.sparse) {
      const v = f.sparse[idx]!;
      if (v > 0) parts.push(`"${f.fid}": ${v}`);
    } else if (!sparseOnly) {
      const v = f.array![idx];
      if (v) parts.push(`"${f.fid}": [${v.join(', ')}]`);
    }
  }
  return parts.length > 0 ? `{${parts.join(', ')}}` : null;
}

/** A raw id as a pickle int when every raw item id is a canonical non-negative integer. */
function creativeIds(itemIds: readonly string[]): PickleValue[] | null {
  const out: PickleValue[] = [];
  for (const id of itemIds) {
    if (!/^(0|[1-9][0-9]{0,18})$/.test(id)) return null;
    const big = BigInt(id);
    if (big > 0x7fffffffffffffffn) return null;
    out.push(big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big);
  }
  return out;
}

export function writeTaacFolder(dir: string, ev: Interactions, item: SideFeatures | null, user: SideFeatures | null, progress?: Progress): TaacFolderStats {
  const itemFeatures = item?.features ?? [];
  const userFeatures = user?.features ?? [];
  const itemText = ev.itemIds.map((_, k) => featureObject(itemFeatures, k + 1));
  const recordText = ev.itemIds.map((_, k) => featureObject(itemFeatures, k + 1, true));
  const stats: TaacFolderStats = { seqBytes: 0, profileRecords: 0, itemsWithFeatures: itemText.filter((t) => t !== null).length, creativeIds: 'raw' };

  const seq = new TextFile(join(dir, 'seq.jsonl'));
  const offsets: number[] = [];
  const userCount = ev.userIds.length;
  for (let u = 1; u <= userCount; u++) {
    offsets.push(seq.bytes);
    const records: string[] = [];
    const start = ev.userStart[u]!;
    const end = ev.userStart[u + 1]!;
    for (let e = start; e < end; e++) {
      const i = ev.item[e]!;
      records.push(`[${u}, ${i}, null, ${recordText[i - 1] ?? 'null'}, ${ev.action[e]}, ${ev.ts[e]}]`);
    }
    const profile = featureObject(userFeatures, u);
    if (profile !== null) {
      // timestamped at the last event, like the real file's profile record (ingest never reads it as a time)
      records.push(`[${u}, null, ${profile}, null, null, ${ev.ts[end - 1]}]`);
      stats.profileRecords++;
    }
    seq.write(`[${records.join(', ')}]\n`);
    progress?.tick(() => `seq.jsonl ${u}/${userCount} users`);
  }
  seq.close();
  stats.seqBytes = seq.bytes;
  writeBytes(join(dir, 'seq_offsets.pkl'), writePickle(offsets, { protocol: 3 }));

  const raw = creativeIds(ev.itemIds);
  if (raw === null) {
    stats.creativeIds = 're-id';
    const tsv = new TextFile(join(dir, 'item_ids.tsv'));
    tsv.write('item_reid\titem_id\n');
    ev.itemIds.forEach((id, k) => tsv.write(`${k + 1}\t${id}\n`));
    tsv.close();
  }
  const f = new PyDefaultDict('dict');
  for (const feat of [...itemFeatures, ...userFeatures]) f.set(feat.fid, new PyDict(feat.vocab));
  const indexer = new PyDict([
    ['f', f],
    ['i', new PyDict(ev.itemIds.map((_, k) => [raw ? raw[k]! : k + 1, k + 1]))],
    ['u', new PyDict(ev.userIds.map((id, k) => [id, k + 1]))],
    ['a', new PyDict([[1, 1], [0, 2]])],
  ]);
  writeBytes(join(dir, 'indexer.pkl'), writePickle(indexer, { protocol: 4 }));

  const dict = new TextFile(join(dir, 'item_feat_dict.json'));
  dict.write('{');
  itemText.forEach((t, k) => dict.write(`${k > 0 ? ', ' : ''}"${k + 1}": ${t ?? '{}'}`));
  dict.write('}');
  dict.close();
  return stats;
}
