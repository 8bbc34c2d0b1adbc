// The rows of an interactions table → users, items and their events, re-indexed from 1 in order of
// first appearance, each user's events ordered by (timestamp, file order). Without a time column the
// file order is the time: event k of the file gets SYNTHETIC_START + k seconds. Without an action
// column or --action-map every row is a click (action 1).
import { inputError } from '../../core/stage/errors.ts';
import type { Progress } from '../../core/stage/progress.ts';
import { columnsRead, mapAction, type ActionMap } from './action-map.ts';
import type { ResolvedColumns } from './columns.ts';
import type { SourceTable } from './source-table.ts';
import { parseTimestamp } from './timestamps.ts';

/** 2024-01-01 00:00 UTC: where synthetic timestamps start when the file has no time column. */
export const SYNTHETIC_START = 1704067200;

export interface Interactions {
  /** raw user id by user idx − 1 (idx = re-id, from 1) */
  userIds: string[];
  /** raw item id by item idx − 1 */
  itemIds: string[];
  users: IdIndex;
  items: IdIndex;
  /** event order: user-major, then (timestamp, file order); [events] */
  user: Int32Array;
  item: Int32Array;
  action: Int8Array;
  ts: Uint32Array;
  /** [users + 2]: user u's events are [userStart[u], userStart[u + 1]) of the arrays above */
  userStart: Int32Array;
  rowsRead: number;
  rowsDropped: number;
  syntheticTime: boolean;
}

/** Growable typed columns for the events as they are read. */
class EventColumns {
  size = 0;
  user = new Int32Array(1 << 16);
  item = new Int32Array(1 << 16);
  action = new Int8Array(1 << 16);
  ts = new Uint32Array(1 << 16);

  push(u: number, i: number, a: number, t: number): void {
    if (this.size === this.user.length) this.grow();
    this.user[this.size] = u;
    this.item[this.size] = i;
    this.action[this.size] = a;
    this.ts[this.size] = t;
    this.size++;
  }

  private grow(): void {
    const n = this.user.length * 2;
    const grow = <T extends Int32Array | Int8Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.user = grow(this.user, (k) => new Int32Array(k));
    this.item = grow(this.item, (k) => new Int32Array(k));
    this.action = grow(this.action, (k) => new Int8Array(k));
    this.ts = grow(this.ts, (k) => new Uint32Array(k));
  }
}

/** Raw id → idx from 1, in order of first appearance. */
export class IdIndex {
  readonly ids: string[] = [];
  private readonly idx = new Map<string, number>();

  intern(id: string): number {
    let k = this.idx.get(id);
    if (k === undefined) {
      this.ids.push(id);
      k = this.ids.length;
      this.idx.set(id, k);
    }
    return k;
  }

  get(id: string): number | undefined {
    return this.idx.get(id);
  }
}

export function readInteractions(table: SourceTable, cols: ResolvedColumns, actionMap: ActionMap | null, progress?: Progress): Interactions {
  const { file } = table;
  const ix = cols.index;
  const name = (k: number): string => cols.columns[k]!.name;
  const mapColumns = new Map(actionMap ? columnsRead(actionMap).map((c) => [c, resolveMapColumn(table, cols, c)] as const) : []);
  const users = new IdIndex();
  const items = new IdIndex();
  const ev = new EventColumns();
  let rowsRead = 0;
  let rowsDropped = 0;
  for (const { line, cells } of table.rows()) {
    rowsRead++;
    const userId = cells[ix.user!]!.trim();
    const itemId = cells[ix.item!]!.trim();
    if (userId === '') throw inputError(file, line, `empty ${name(ix.user!)} (every row needs a user)`);
    if (itemId === '') throw inputError(file, line, `empty ${name(ix.item!)} (every row needs an item)`);
    const action = rowAction(table, cols, actionMap, mapColumns, line, cells);
    if (action === 'drop') {
      rowsDropped++;
      continue;
    }
    let t = SYNTHETIC_START + ev.size;
    if (ix.time !== undefined) {
      const parsed = parseTimestamp(cells[ix.time]!);
      if (parsed === null) {
        throw inputError(file, line, `${name(ix.time)}: cannot read ${JSON.stringify(cells[ix.time])} as a time (Unix seconds or milliseconds, or an ISO 8601 date, 1970..2106)`);
      }
      t = parsed;
    }
    ev.push(users.intern(userId), items.intern(itemId), action, t);
    progress?.tick(() => `${rowsRead} rows, ${users.ids.length} users, ${items.ids.length} items`);
  }
  if (rowsRead === 0) throw inputError(file, table.headerLine || null, 'header only: no interaction rows');
  if (ev.size === 0) throw inputError(file, null, `all ${rowsRead} rows were dropped by --action-map: no events left`);
  return { ...groupByUser(ev, users.ids.length), userIds: users.ids, itemIds: items.ids, users, items, rowsRead, rowsDropped, syntheticTime: ix.time === undefined };
}

function resolveMapColumn(table: SourceTable, cols: ResolvedColumns, column: string | null): number {
  const where = table.headerLine || null;
  if (column === null) {
    if (cols.index.action === undefined) throw inputError(table.file, where, '--action-map has a rule without a column name, but the file has no action column (name it with --action COL)');
    return cols.index.action;
  }
  const k = cols.columns.findIndex((c) => c.name === column);
  if (k < 0) throw inputError(table.file, where, `--action-map reads column ${JSON.stringify(column)}, which the file does not have (columns: ${cols.columns.map((c) => c.name).join(', ')})`);
  return k;
}

function rowAction(
  table: SourceTable,
  cols: ResolvedColumns,
  actionMap: ActionMap | null,
  mapColumns: ReadonlyMap<string | null, number>,
  line: number,
  cells: string[],
): 0 | 1 | 2 | 'drop' {
  if (actionMap) {
    const a = mapAction(actionMap, (c) => cells[mapColumns.get(c)!]!);
    if (a === null) throw inputError(table.file, line, `no --action-map rule matches this row (add a final rule else:N or else:drop)`);
    return a;
  }
  const k = cols.index.action;
  if (k === undefined) return 1;
  const v = cells[k]!.trim();
  if (v === '0' || v === '1' || v === '2') return Number(v) as 0 | 1 | 2;
  throw inputError(table.file, line, `${cols.columns[k]!.name} = ${JSON.stringify(v)} is not 0, 1 or 2 (map it with --action-map, e.g. 'view:0,click:1,buy:2')`);
}

/** Events in user-major order, each user's by (timestamp, file order): a stable counting sort. */
function groupByUser(ev: EventColumns, userCount: number): Pick<Interactions, 'user' | 'item' | 'action' | 'ts' | 'userStart'> {
  const n = ev.size;
  const userStart = new Int32Array(userCount + 2);
  for (let e = 0; e < n; e++) userStart[ev.user[e]! + 1]!++;
  for (let u = 1; u <= userCount + 1; u++) userStart[u]! += userStart[u - 1]!;
  const order = new Int32Array(n);
  const fill = userStart.slice();
  for (let e = 0; e < n; e++) order[fill[ev.user[e]!]!++] = e;
  for (let u = 1; u <= userCount; u++) {
    const seg = order.subarray(userStart[u]!, userStart[u + 1]!);
    let sorted = true;
    for (let k = 1; k < seg.length && sorted; k++) sorted = ev.ts[seg[k - 1]!]! <= ev.ts[seg[k]!]!;
    if (!sorted) seg.sort((a, b) => ev.ts[a]! - ev.ts[b]! || a - b);
  }
  const take = <T extends Int32Array | Int8Array | Uint32Array>(src: T, make: (n: number) => T): T => {
    const out = make(n);
    for (let k = 0; k < n; k++) out[k] = src[order[k]!]!;
    return out;
  };
  return {
    user: take(ev.user, (k) => new Int32Array(k)),
    item: take(ev.item, (k) => new Int32Array(k)),
    action: take(ev.action, (k) => new Int8Array(k)),
    ts: take(ev.ts, (k) => new Uint32Array(k)),
    userStart,
  };
}
