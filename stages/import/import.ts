// import: an interactions file (CSV / TSV / Parquet / RecBole atomic) → a TAAC-format raw folder for
// ingest. Resolves the columns, reads and orders the events, reads RecBole side files (`name.item`,
// `name.user` beside `name.inter`) as features, writes the folder and import.json (what was read and
// how: columns, counts, feature ids, notices). Deterministic: the same input gives the same bytes.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stableJson } from '../../core/stage/atomic.ts';
import type { Progress } from '../../core/stage/progress.ts';
import { parseActionMap } from './action-map.ts';
import { resolveColumns, type RoleFlags } from './columns.ts';
import { readInteractions } from './interactions.ts';
import { FidAllocator, readSideFeatures, type SideFeatures } from './side-features.ts';
import { openSourceTable } from './source-table.ts';
import { writeTaacFolder } from './write-taac.ts';

export interface ImportOptions {
  roles: RoleFlags;
  /** --action-map spec, or null */
  actionMap: string | null;
  /** --delimiter, or undefined to sniff */
  delimiter?: string;
}

export interface ImportSummary {
  source: string;
  format: string;
  columns: Record<string, string>;
  rows: number;
  rows_dropped: number;
  users: number;
  items: number;
  events: number;
  actions: { exposure: number; click: number; conversion: number };
  time: 'column' | 'synthetic';
  creative_ids: 'raw' | 're-id';
  profile_records: number;
  items_with_features: number;
  features: { fid: string; entity: string; column: string; source: string; kind: 'sparse' | 'array'; values: number }[];
  side_files: string[];
  notices: string[];
}

/** RecBole's side files for `x/name.inter`: `x/name.item` and `x/name.user`, where present. */
export function sideFilesOf(file: string): { item: string | null; user: string | null } {
  if (!/\.inter$/.test(file)) return { item: null, user: null };
  const base = file.slice(0, -'.inter'.length);
  const at = (ext: string): string | null => (existsSync(base + ext) ? base + ext : null);
  return { item: at('.item'), user: at('.user') };
}

export function importInteractions(file: string, outDir: string, opts: ImportOptions, progress?: Progress): ImportSummary {
  const actionMap = opts.actionMap === null ? null : parseActionMap(opts.actionMap);
  const table = openSourceTable(file, opts.delimiter);
  const cols = resolveColumns(file, table.headerLine, table.columns, opts.roles);
  const nameOf = (k: number | undefined): string | undefined => (k === undefined ? undefined : cols.columns[k]!.name);
  const notices: string[] = [];
  if (cols.index.time === undefined) {
    notices.push('no time column: events keep file order with synthetic timestamps 1 s apart, so time features carry no signal (set load_time_intervals: false)');
  }
  if (cols.index.rating !== undefined && actionMap === null) {
    const r = nameOf(cols.index.rating)!;
    notices.push(`column ${r} not used: every row is a click (to use it: --action-map '${r}>=4:1,else:0')`);
  }

  const ev = readInteractions(table, cols, actionMap, progress);
  const side = sideFilesOf(file);
  const fids = new FidAllocator();
  const item = side.item ? readSideFeatures(side.item, 'item', nameOf(cols.index.item)!, ev.items, file, fids) : null;
  const user = side.user ? readSideFeatures(side.user, 'user', nameOf(cols.index.user)!, ev.users, file, fids) : null;
  for (const s of [item, user]) if (s) notices.push(...s.notices);

  const written = writeTaacFolder(outDir, ev, item, user, progress);
  const actions = { exposure: 0, click: 0, conversion: 0 };
  for (const a of ev.action) actions[a === 0 ? 'exposure' : a === 1 ? 'click' : 'conversion']++;
  const columns: Record<string, string> = {};
  for (const [role, k] of Object.entries(cols.index)) columns[role] = nameOf(k)!;
  const summary: ImportSummary = {
    source: file,
    format: table.format,
    columns,
    rows: ev.rowsRead,
    rows_dropped: ev.rowsDropped,
    users: ev.userIds.length,
    items: ev.itemIds.length,
    events: ev.item.length,
    actions,
    time: ev.syntheticTime ? 'synthetic' : 'column',
    creative_ids: written.creativeIds,
    profile_records: written.profileRecords,
    items_with_features: written.itemsWithFeatures,
    features: [item, user].flatMap((s) => (s ? featureRows(s) : [])),
    side_files: [side.item, side.user].filter((f): f is string => f !== null),
    notices,
  };
  writeFileSync(join(outDir, 'import.json'), stableJson(summary));
  return summary;
}

function featureRows(s: SideFeatures): ImportSummary['features'] {
  return s.features.map((f) => ({ fid: f.fid, entity: s.entity, column: f.column, source: f.source, kind: f.array ? 'array' : 'sparse', values: f.vocab.size }));
}
