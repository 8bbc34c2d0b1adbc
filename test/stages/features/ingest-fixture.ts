// Small ingest-shaped folders for the features tests (the layout of core/artifacts/artifacts.ts), built from
// plain user records so a test can plant values and perturb targets. Not a test file itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { type IngestManifest, Role, eventShardPath, itemTablePath, shardName, userShardPath } from '../../../core/artifacts/artifacts.ts';
import { flat, makeTable, writeArrowFile } from '../../../core/artifacts/arrow-io.ts';
import { stableJson } from '../../../core/stage/atomic.ts';
import { Rng } from '../../../core/random/rng.ts';

export interface FixtureEvent { item: number; action: number; ts: number }
export interface FixtureUser { events: FixtureEvent[]; f103: number; f106: number[] }
export interface FixtureItems { count: number; f100: Int32Array; has81: Int8Array }

/** Leave-last-out roles: the last record with action ≥ 1 is the test target, the one before it validation. */
export function assignRoles(actions: number[]): Role[] {
  const targets = actions.flatMap((a, i) => (a >= 1 ? [i] : []));
  const testAt = targets.at(-1) ?? -1;
  const validAt = targets.at(-2) ?? -1;
  return actions.map((_, i) =>
    validAt < 0 ? Role.train : i < validAt ? Role.train : i === validAt ? Role.valid : i < testAt ? Role.between : i === testAt ? Role.test : Role.after,
  );
}

/** A random dataset: `shards` × `usersPerShard` users, 11..30 records each, ~10% clicks, 2025 timestamps. */
export function randomDataset(seed: number, shards: number, usersPerShard: number, itemCount: number): { users: FixtureUser[][]; items: FixtureItems } {
  const rng = new Rng(seed);
  const users: FixtureUser[][] = [];
  for (let s = 0; s < shards; s++) {
    const shard: FixtureUser[] = [];
    for (let u = 0; u < usersPerShard; u++) {
      let ts = 1_745_800_000 + rng.int(30 * 86400);
      const events: FixtureEvent[] = [];
      const n = 11 + rng.int(20);
      for (let p = 0; p < n; p++) {
        ts += rng.next() < 0.2 ? rng.int(3 * 86400) : rng.int(900);
        events.push({ item: 1 + rng.int(itemCount), action: rng.next() < 0.12 ? 1 + rng.int(2) : 0, ts });
      }
      // two targets per user at least, and two events after the test target
      events[n - 6]!.action = 2;
      events[n - 3]!.action = 1;
      events[n - 2]!.action = 0;
      events[n - 1]!.action = 0;
      shard.push({ events, f103: rng.next() < 0.3 ? 0 : rng.next() < 0.5 ? 4 : 1 + rng.int(6), f106: rng.next() < 0.2 ? [] : [1 + rng.int(5), 1 + rng.int(5)] });
    }
    users.push(shard);
  }
  // f100: mostly missing (0), and 7 the most frequent value among the rest
  const f100 = new Int32Array(itemCount + 1).map((_, i) => (i === 0 ? 0 : i % 2 === 0 ? 0 : i % 3 === 0 ? 7 : 1 + (i % 5)));
  const has81 = new Int8Array(itemCount + 1).map((_, i) => (i > 0 && i % 4 !== 0 ? 1 : 0));
  return { users, items: { count: itemCount, f100, has81 } };
}

/** Writes an ingest output folder for `users` (one array per shard) and returns its manifest. */
export function writeIngestFixture(dir: string, users: FixtureUser[][], items: FixtureItems): IngestManifest {
  mkdirSync(dir, { recursive: true });
  let userIdx = 0, events = 0, trainEvents = 0;
  const shards = users.map((shardUsers, s) => {
    const name = shardName(s);
    const rows = shardUsers.flatMap((u, k) => {
      const roles = assignRoles(u.events.map((e) => e.action));
      return u.events.map((e, p) => ({ ...e, user: userIdx + k + 1, position: p, role: roles[p]! }));
    });
    writeArrowFile(eventShardPath(dir, name), makeTable({
      user: flat(new Int32Array(rows.map((r) => r.user))),
      position: flat(new Int32Array(rows.map((r) => r.position))),
      item: flat(new Int32Array(rows.map((r) => r.item))),
      action: flat(new Int8Array(rows.map((r) => r.action))),
      ts: flat(new Uint32Array(rows.map((r) => r.ts))),
      role: flat(new Int8Array(rows.map((r) => r.role))),
    }));
    const offsets = new Int32Array(shardUsers.length + 1);
    shardUsers.forEach((u, k) => (offsets[k + 1] = offsets[k]! + u.f106.length));
    writeArrowFile(userShardPath(dir, name), makeTable({
      user: flat(new Int32Array(shardUsers.map((_, k) => userIdx + k + 1))),
      line: flat(new Int32Array(shardUsers.map((_, k) => userIdx + k))),
      has_profile: flat(new Int8Array(shardUsers.map((u) => (u.f103 > 0 ? 1 : 0)))),
      f103: flat(new Int32Array(shardUsers.map((u) => u.f103))),
      f106: { kind: 'list', offsets, values: new Int32Array(shardUsers.flatMap((u) => u.f106)) },
    }));
    userIdx += shardUsers.length;
    events += rows.length;
    trainEvents += rows.filter((r) => r.role === Role.train).length;
    return { name, users: shardUsers.length, events: rows.length };
  });
  const dim = 4;
  writeArrowFile(itemTablePath(dir), makeTable({
    item: flat(new Int32Array(items.count + 1).map((_, i) => i)),
    item_id: flat(new Float64Array(items.count + 1).map((_, i) => (i === 0 ? 0 : 20_000_000 + i))),
    f100: flat(items.f100),
    f81: { kind: 'vector', dim, values: new Float32Array((items.count + 1) * dim).map((_, j) => (items.has81[j >> 2] ? (j % 7) / 7 : 0)) },
    has_f81: flat(items.has81),
  }));
  const manifest: IngestManifest = {
    source: 'test fixture',
    users: userIdx,
    items: items.count,
    events,
    shards,
    features: { user_sparse: ['103'], user_array: ['106'], item_sparse: ['100'], item_array: [], item_continuous: [], mm: { '81': dim } },
    vocab: { '100': 12, '103': 7, '106': 6 },
    splits: { train_events: trainEvents, valid_targets: userIdx, test_targets: userIdx, users_without_targets: 0, users_with_one_target: 0 },
    skipped_lines: [],
  };
  writeFileSync(`${dir}/manifest.json`, stableJson(manifest));
  return manifest;
}
