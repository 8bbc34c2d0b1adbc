// One shard of users with everything a cut needs: their events (item, action, time, split role),
// the stored per-event time features, and the user-token features (defaults applied). Stages
// iterate shard by shard, so memory is bounded by a shard, not by the dataset.
import { columnValues, readArrowFile } from '../artifacts/arrow-io.ts';
import { eventShardPath, featureEventShardPath, itemTablePath, userShardPath } from '../artifacts/artifacts.ts';
import { UserError } from '../stage/errors.ts';
import type { FeatureSchema } from '../model/config.ts';
import { arrayMatrix, longestList, sparseMatrix } from './columns.ts';
import { TIME_NEXT_GAP_FID, clampArrayLen, type Manifests } from './feature-schema.ts';

export interface UserShard {
  name: string; // "part-00000"
  users: number; // U
  userIdx: Int32Array; // [U] dense user index
  userId: string[]; // [U] raw user id
  eventStart: Int32Array; // [U] first event of the user (index into the event arrays)
  eventEnd: Int32Array; // [U] one past the user's last event
  item: Int32Array; // [E] item idx (0 = unknown)
  action: Int8Array; // [E]
  ts: Uint32Array; // [E] Unix seconds
  role: Int8Array; // [E] Role
  time: Int32Array; // [E, Ft] stored time codes in schema.timeDiscrete order; the 204 column is 0 (per cut)
  hasProfile: Uint8Array; // [U]
  userSparse: Int32Array; // [U, Us]
  userArray: Int32Array; // [U, Ua, L]
  userContinuous: Float32Array; // [U, Uc]
}

/** Reads shard `name` of the ingest and features folders (features are aligned row for row). */
export function readUserShard(ingestDir: string, featuresDir: string, name: string, m: Manifests, schema: FeatureSchema): UserShard {
  const eventsPath = eventShardPath(ingestDir, name);
  const events = readArrowFile(eventsPath);
  const timePath = featureEventShardPath(featuresDir, name);
  const timeTable = readArrowFile(timePath);
  const usersPath = userShardPath(ingestDir, name);
  const users = readArrowFile(usersPath);
  const E = events.numRows;
  if (timeTable.numRows !== E) throw new UserError(`${timePath}: ${timeTable.numRows} rows, but ${eventsPath} has ${E}`);
  const U = users.numRows;
  const userIdx = Int32Array.from(columnValues<Int32Array>(users, 'user'));
  const rowOf = new Map<number, number>();
  userIdx.forEach((u, r) => rowOf.set(u, r));
  const eventStart = new Int32Array(U).fill(-1);
  const eventEnd = new Int32Array(U).fill(-1);
  const eventUser = columnValues<Int32Array>(events, 'user');
  for (let e = 0; e < E; ) {
    const u = eventUser[e]!;
    const r = rowOf.get(u);
    if (r === undefined) throw new UserError(`${eventsPath}: row ${e}: user ${u} is not in ${usersPath}`);
    if (eventStart[r] !== -1) throw new UserError(`${eventsPath}: row ${e}: events of user ${u} are not contiguous`);
    let end = e + 1;
    while (end < E && eventUser[end] === u) end++;
    eventStart[r] = e;
    eventEnd[r] = end;
    e = end;
  }
  for (let r = 0; r < U; r++) if (eventStart[r] === -1) eventStart[r] = eventEnd[r] = 0; // no events: empty range

  const Ft = schema.timeDiscrete.length;
  const time = new Int32Array(E * Ft);
  schema.timeDiscrete.forEach(({ fid }, j) => {
    if (fid === TIME_NEXT_GAP_FID) return;
    const codes = columnValues<Int8Array>(timeTable, `f${fid}`);
    for (let e = 0; e < E; e++) time[e * Ft + j] = codes[e]!;
  });

  const hasProfile = Uint8Array.from(columnValues<Int8Array>(users, 'has_profile'));
  const noProfile = hasProfile.map((h) => (h === 1 ? 0 : 1));
  const idColumn = users.getChild('user_id');
  return {
    name,
    users: U,
    userIdx,
    userId: Array.from({ length: U }, (_, r) => String(idColumn?.get(r) ?? userIdx[r])),
    eventStart,
    eventEnd,
    item: Int32Array.from(columnValues<Int32Array>(events, 'item')),
    action: Int8Array.from(columnValues<Int8Array>(events, 'action')),
    ts: Uint32Array.from(columnValues<Uint32Array>(events, 'ts')),
    role: Int8Array.from(columnValues<Int8Array>(events, 'role')),
    time,
    hasProfile,
    userSparse: sparseMatrix(users, schema.userSparse.map((f) => f.fid), m.features.defaults, noProfile),
    userArray: arrayMatrix(users, schema.userArray.map((f) => f.fid), schema.arrayLen, noProfile),
    userContinuous: new Float32Array(0),
  };
}

/** The shard names, in manifest order. */
export function shardNames(m: Manifests): string[] {
  return m.ingest.shards.map((s) => s.name);
}

/** The schema's arrayLen from the data: the longest user or item array list, clamped (reads users and items tables only). */
export function observeArrayLen(ingestDir: string, m: Manifests): number {
  let longest = longestList(readArrowFile(itemTablePath(ingestDir)), m.ingest.features.item_array);
  for (const name of shardNames(m)) longest = Math.max(longest, longestList(readArrowFile(userShardPath(ingestDir, name)), m.ingest.features.user_array));
  return clampArrayLen(longest);
}
