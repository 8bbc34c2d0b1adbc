// One shard of users (shard_users lines) accumulated as typed arrays, then turned into the events
// and users tables of core/artifacts/artifacts.ts and written as Arrow IPC + ZSTD Parquet. Memory is bounded
// by one shard: the builder is dropped once its tables are written.
import { Table, Utf8, Vector, vectorFromArray } from 'apache-arrow';
import { flat, makeTable, readArrowFile, writeArrowFile, writeParquetFile, type ColumnData } from '../../core/artifacts/arrow-io.ts';
import { eventShardPath, shardName, userShardPath } from '../../core/artifacts/artifacts.ts';
import { LineError, type ParsedLine } from './records.ts';
import type { UserLayout, UserLayoutTracker } from './user-layout.ts';

/** Growable int32 storage (avoids a JS number[] per column). */
class IntList {
  data = new Int32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

interface LineEvents {
  items: Int32Array;
  actions: Int8Array;
  ts: Uint32Array;
  roles: Int8Array;
}

export class ShardBuilder {
  readonly name: string;
  users = 0;
  events = 0;
  private readonly eventParts: LineEvents[] = [];
  private readonly userIdx = new IntList();
  private readonly rawIds: string[] = [];
  private readonly lines = new IntList();
  private readonly hasProfile = new IntList();
  /** user fid → ids of every user in order, with per-user offsets (a sparse fid has 0 or 1 id per user) */
  private readonly profile = new Map<string, { offsets: IntList; values: IntList }>();

  constructor(
    readonly index: number,
    private readonly layout: UserLayoutTracker,
  ) {
    this.name = shardName(index);
    for (const fid of layout.candidates) {
      const offsets = new IntList();
      offsets.push(0);
      this.profile.set(fid, { offsets, values: new IntList() });
    }
  }

  /** Adds one validated line; throws LineError (nothing added) when its profile has a non-user fid. */
  add(line: ParsedLine, roles: Int8Array, rawId: string, lineIndex: number): void {
    if (line.profile) {
      for (const fid of line.profile.keys()) {
        if (!this.profile.has(fid)) throw new LineError(`user_feature[${JSON.stringify(fid)}]: feature id is an item or multimodal feature (item_feat_dict.json / mm_emb_id), not a user feature`);
      }
      for (const [fid, v] of line.profile) this.layout.see(fid, Array.isArray(v));
    }
    this.eventParts.push({ items: line.items, actions: line.actions, ts: line.ts, roles });
    this.events += line.items.length;
    this.userIdx.push(line.user);
    this.rawIds.push(rawId);
    this.lines.push(lineIndex);
    this.hasProfile.push(line.profile ? 1 : 0);
    for (const [fid, col] of this.profile) {
      const v = line.profile?.get(fid);
      if (Array.isArray(v)) for (const x of v) col.values.push(x);
      else if (v !== undefined) col.values.push(v);
      col.offsets.push(col.values.length);
    }
    this.users++;
  }

  /** events table: user, position, item, action, ts, role — users contiguous, in line order. */
  eventsTable(): Table {
    const n = this.events;
    const user = new Int32Array(n);
    const position = new Int32Array(n);
    const item = new Int32Array(n);
    const action = new Int8Array(n);
    const ts = new Uint32Array(n);
    const role = new Int8Array(n);
    const users = this.userIdx.view();
    let at = 0;
    this.eventParts.forEach((p, u) => {
      const len = p.items.length;
      user.fill(users[u]!, at, at + len);
      for (let k = 0; k < len; k++) position[at + k] = k;
      item.set(p.items, at);
      action.set(p.actions, at);
      ts.set(p.ts, at);
      role.set(p.roles, at);
      at += len;
    });
    return makeTable({ user: flat(user), position: flat(position), item: flat(item), action: flat(action), ts: flat(ts), role: flat(role) });
  }

  /** users table with the given layout: user, user_id, line, has_profile, f<fid> sparse then array. */
  usersTable(layout: UserLayout): Table {
    const cols: Record<string, ColumnData | Vector> = {
      user: flat(this.userIdx.view().slice()),
      user_id: vectorFromArray(this.rawIds, new Utf8()),
      line: flat(this.lines.view().slice()),
      has_profile: flat(Int8Array.from(this.hasProfile.view())),
    };
    for (const fid of layout.sparse) {
      const { offsets, values } = this.profile.get(fid)!;
      const off = offsets.view();
      const vals = values.view();
      const col = new Int32Array(this.users); // 0 = missing
      for (let u = 0; u < this.users; u++) if (off[u + 1]! > off[u]!) col[u] = vals[off[u]!]!;
      cols[`f${fid}`] = flat(col);
    }
    for (const fid of layout.array) {
      const { offsets, values } = this.profile.get(fid)!;
      cols[`f${fid}`] = { kind: 'list', offsets: offsets.view().slice(), values: values.view().slice() };
    }
    return tableOf(cols);
  }
}

/** A table from typed-array columns and ready Arrow vectors (utf8 has no ColumnData kind). */
export function tableOf(cols: Record<string, ColumnData | Vector>): Table {
  const vectors: Record<string, Vector> = {};
  for (const [name, col] of Object.entries(cols)) vectors[name] = col instanceof Vector ? col : makeTable({ [name]: col }).getChild(name)!;
  return new Table(vectors);
}

export const eventsParquetPath = (dir: string, index: number): string => `${dir}/parquet/events-${String(index).padStart(5, '0')}.parquet`;
export const usersParquetPath = (dir: string, index: number): string => `${dir}/parquet/users-${String(index).padStart(5, '0')}.parquet`;
export const itemsParquetPath = (dir: string): string => `${dir}/parquet/items.parquet`;

/** Writes a table as Arrow IPC and its ZSTD Parquet copy. */
export function writeBoth(arrowPath: string, parquetPath: string, table: Table): void {
  writeArrowFile(arrowPath, table);
  writeParquetFile(parquetPath, table);
}

export function writeShard(dir: string, shard: ShardBuilder, layout: UserLayout): void {
  writeBoth(eventShardPath(dir, shard.name), eventsParquetPath(dir, shard.index), shard.eventsTable());
  writeBoth(userShardPath(dir, shard.name), usersParquetPath(dir, shard.index), shard.usersTable(layout));
}

/**
 * Rewrites a users shard written with an earlier layout: a sparse column that turned out to be an
 * array feature becomes list<int32> (0 → [], v → [v]); a column that turned out to be an item
 * feature is dropped.
 */
export function relayoutUserShard(dir: string, index: number, layout: UserLayout): void {
  const path = userShardPath(dir, shardName(index));
  const old = readArrowFile(path);
  const cols: Record<string, ColumnData | Vector> = {};
  for (const name of ['user', 'user_id', 'line', 'has_profile']) cols[name] = old.getChild(name)!;
  for (const fid of layout.sparse) cols[`f${fid}`] = old.getChild(`f${fid}`)!;
  for (const fid of layout.array) {
    const v = old.getChild(`f${fid}`)!;
    if (v.data[0]!.children.length > 0) { // already list<int32>
      cols[`f${fid}`] = v;
      continue;
    }
    const ints = v.toArray() as Int32Array;
    const offsets = new Int32Array(ints.length + 1);
    const values: number[] = [];
    ints.forEach((x, u) => {
      if (x !== 0) values.push(x);
      offsets[u + 1] = values.length;
    });
    cols[`f${fid}`] = { kind: 'list', offsets, values: Int32Array.from(values) };
  }
  writeBoth(path, usersParquetPath(dir, index), tableOf(cols));
}
