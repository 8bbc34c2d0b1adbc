// The header of an interactions file → which column plays which role. Columns are recognised by
// common spellings (case, spaces and hyphens ignored; RecBole's `name:type` suffix stripped), or named
// by flags. A rating column is only read through --action-map; every other unnamed column is ignored.
import { inputError } from '../../core/stage/errors.ts';

export type Role = 'user' | 'item' | 'time' | 'action' | 'rating';
export const ROLES: readonly Role[] = ['user', 'item', 'time', 'action', 'rating'];

/** Recognised spellings per role, in priority order (the first match wins), normalised. */
export const SPELLINGS: Readonly<Record<Role, readonly string[]>> = {
  user: ['user_id', 'userid', 'user', 'uid', 'user_idx', 'customer_id', 'customerid', 'visitor_id', 'visitorid', 'reviewer_id', 'reviewerid', 'member_id'],
  item: [
    'item_id', 'itemid', 'item', 'iid', 'movie_id', 'movieid', 'product_id', 'productid', 'asin', 'business_id', 'song_id', 'track_id',
    'book_id', 'isbn', 'artist_id', 'video_id', 'news_id', 'article_id', 'creative_id', 'sku',
  ],
  time: ['timestamp', 'ts', 'time', 'datetime', 'date', 'time_stamp', 'unix_time', 'unixreviewtime', 'event_time', 'created_at'],
  action: ['action', 'action_type', 'behavior', 'behaviour', 'behavior_type', 'event', 'event_type', 'interaction', 'interaction_type'],
  rating: ['rating', 'ratings', 'score', 'stars', 'overall', 'preference'],
};

/** RecBole atomic-file field types (the part after ':' in `user_id:token`). */
export type FieldType = 'token' | 'token_seq' | 'float' | 'float_seq';
const FIELD_TYPES: readonly FieldType[] = ['token', 'token_seq', 'float', 'float_seq'];

export interface Column {
  name: string; // as written, without a `:type` suffix
  type: FieldType | null; // RecBole's declared type, null in plain CSV
}

/** Column name for each role the flags name explicitly (`--user COL` …). */
export type RoleFlags = Partial<Record<Role, string>>;

export interface ResolvedColumns {
  columns: Column[];
  /** column index per role, absent when the file has none */
  index: Partial<Record<Role, number>>;
}

export function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** Parses a header row: names (RecBole types split off), refusing empty and duplicate names. */
export function parseHeader(file: string, line: number, fields: readonly string[]): Column[] {
  const seen = new Map<string, number>();
  return fields.map((raw, k) => {
    const text = raw.trim();
    const colon = text.lastIndexOf(':');
    const suffix = colon > 0 ? text.slice(colon + 1) : '';
    const isType = (FIELD_TYPES as readonly string[]).includes(suffix);
    const name = isType ? text.slice(0, colon) : text;
    if (name.length === 0) throw inputError(file, line, `column ${k + 1} has an empty name`);
    const before = seen.get(name);
    if (before !== undefined) throw inputError(file, line, `duplicate column name ${JSON.stringify(name)} (columns ${before + 1} and ${k + 1})`);
    seen.set(name, k);
    return { name, type: isType ? (suffix as FieldType) : null };
  });
}

/** Which column is the user, item, time, action and rating column. */
export function resolveColumns(file: string, line: number, columns: Column[], flags: RoleFlags): ResolvedColumns {
  const index: Partial<Record<Role, number>> = {};
  const names = columns.map((c) => c.name);
  for (const role of ROLES) {
    const wanted = flags[role];
    if (wanted !== undefined) {
      const k = names.indexOf(wanted);
      if (k < 0) throw inputError(file, line, `--${role} ${JSON.stringify(wanted)}: no such column (columns: ${names.join(', ')})`);
      index[role] = k;
      continue;
    }
    const k = recognise(columns, role, index);
    if (k >= 0) index[role] = k;
  }
  for (const role of ['user', 'item'] as const) {
    if (index[role] === undefined) {
      throw inputError(file, line, `no ${role} column (looked for ${SPELLINGS[role].join(', ')}; name it with --${role} COL; columns: ${names.join(', ')})`);
    }
  }
  const taken = new Map<number, Role>();
  for (const role of ROLES) {
    const k = index[role];
    if (k === undefined) continue;
    const other = taken.get(k);
    if (other !== undefined) throw inputError(file, line, `column ${JSON.stringify(names[k])} cannot be both the ${other} and the ${role} column`);
    taken.set(k, role);
  }
  return { columns, index };
}

/** The best-ranked column spelled like `role`, skipping columns another role already took; -1 if none. */
function recognise(columns: readonly Column[], role: Role, index: Partial<Record<Role, number>>): number {
  const used = new Set(Object.values(index));
  let best = -1;
  let bestRank = Infinity;
  columns.forEach((c, k) => {
    const rank = SPELLINGS[role].indexOf(normalizeName(c.name));
    if (rank >= 0 && rank < bestRank && !used.has(k)) {
      best = k;
      bestRank = rank;
    }
  });
  return best;
}

/** The --help text listing every recognised spelling. */
export function spellingsHelp(): string {
  return ROLES.map((r) => `  ${r.padEnd(7)} ${SPELLINGS[r].join(', ')}`).join('\n');
}
