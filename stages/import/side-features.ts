// RecBole side files (`name.item`, `name.user` beside `name.inter`) → item and user features in the TAAC
// shape: each column becomes a feature id (from 100, as TAAC numbers its features), its values re-indexed
// from 1 in order of first appearance (0 = missing):
//   token      → a sparse feature (one id)
//   token_seq  → an array feature (space-separated tokens, each an id)
//   float      → a sparse feature: the value's decile among the file's values (1..10)
//   float_seq  → skipped, with a notice (no TAAC equivalent)
// Rows for items without events are skipped (counted); a user row without events is an error.
import { inputError } from '../../core/stage/errors.ts';
import type { FieldType } from './columns.ts';
import { normalizeName, SPELLINGS } from './columns.ts';
import type { IdIndex } from './interactions.ts';
import { openSourceTable } from './source-table.ts';

export type Entity = 'item' | 'user';

export interface SideFeature {
  fid: string;
  column: string;
  source: Exclude<FieldType, 'float_seq'>;
  /** raw value → re-id from 1, in first-appearance order (float: the decile's lower bound → 1..10) */
  vocab: Map<string | number, number>;
  /** [entities + 1] re-id per entity idx (0 = missing), for sparse features */
  sparse: Int32Array | null;
  /** [entities + 1] ids per entity idx (null = missing), for array features */
  array: (number[] | null)[] | null;
}

export interface SideFeatures {
  entity: Entity;
  file: string;
  features: SideFeature[];
  rows: number;
  rowsWithoutEvents: number;
  notices: string[];
}

/** Feature ids handed out in column order from 100, skipping the time features' 200..212 (SPEC §4). */
export class FidAllocator {
  private next = 100;

  take(): string {
    if (this.next >= 200 && this.next <= 212) this.next = 213;
    return String(this.next++);
  }
}

const DECILES = 10;

/**
 * Reads `file` as features of `entity`; `ids` are the entities the interactions know (raw id → idx),
 * `idColumn` the interactions file's name for the entity's column (RecBole uses one name for both).
 */
export function readSideFeatures(file: string, entity: Entity, idColumn: string, ids: IdIndex, interFile: string, fids: FidAllocator): SideFeatures {
  const table = openSourceTable(file);
  const count = ids.ids.length;
  let idK = table.columns.findIndex((c) => c.name === idColumn);
  if (idK < 0) idK = table.columns.findIndex((c) => SPELLINGS[entity].includes(normalizeName(c.name)));
  if (idK < 0) throw inputError(file, table.headerLine, `no ${entity} id column (expected ${JSON.stringify(idColumn)})`);
  const notices: string[] = [];
  const features: SideFeature[] = [];
  const readers: ((idx: number, cell: string, line: number) => void)[] = [];
  const floats: { feature: SideFeature; idx: number[]; value: number[] }[] = [];
  table.columns.forEach((c, k) => {
    if (k === idK) return;
    const source = c.type ?? 'token';
    if (source === 'float_seq') {
      notices.push(`${file}: column ${c.name} (float_seq) skipped: no TAAC feature kind holds a float sequence`);
      readers.push(() => undefined);
      return;
    }
    const f: SideFeature = { fid: fids.take(), column: c.name, source, vocab: new Map(), sparse: null, array: null };
    features.push(f);
    if (source === 'token') {
      f.sparse = new Int32Array(count + 1);
      readers.push((idx, cell) => {
        const v = cell.trim();
        if (v !== '') f.sparse![idx] = intern(f.vocab, v);
      });
    } else if (source === 'token_seq') {
      f.array = new Array<number[] | null>(count + 1).fill(null);
      readers.push((idx, cell) => {
        const tokens = cell.split(/\s+/).filter((t) => t !== '');
        if (tokens.length > 0) f.array![idx] = tokens.map((t) => intern(f.vocab, t));
      });
    } else {
      f.sparse = new Int32Array(count + 1);
      const acc = { feature: f, idx: [] as number[], value: [] as number[] };
      floats.push(acc);
      readers.push((idx, cell, line) => {
        const v = cell.trim();
        if (v === '') return;
        const x = Number(v);
        if (!Number.isFinite(x)) throw inputError(file, line, `${c.name}: ${JSON.stringify(cell)} is not a number (the column is float)`);
        acc.idx.push(idx);
        acc.value.push(x);
      });
    }
  });

  const seenLine = new Map<number, number>();
  let rows = 0;
  let rowsWithoutEvents = 0;
  for (const { line, cells } of table.rows()) {
    rows++;
    const id = cells[idK]!.trim();
    const idx = ids.get(id);
    if (idx === undefined) {
      if (entity === 'user') throw inputError(file, line, `user ${JSON.stringify(id)} has no events in ${interFile} (remove the row, or add the user's events)`);
      rowsWithoutEvents++;
      continue;
    }
    const before = seenLine.get(idx);
    if (before !== undefined) throw inputError(file, line, `${entity} ${JSON.stringify(id)} already had a row on line ${before}`);
    seenLine.set(idx, line);
    let r = 0;
    cells.forEach((cell, k) => {
      if (k !== idK) readers[r++]!(idx, cell, line);
    });
  }
  for (const { feature, idx, value } of floats) bucketDeciles(feature, idx, value);
  if (rowsWithoutEvents > 0) notices.push(`${file}: ${rowsWithoutEvents} ${entity} row(s) without events skipped`);
  return { entity, file, features, rows, rowsWithoutEvents, notices };
}

function intern(vocab: Map<string | number, number>, v: string): number {
  let id = vocab.get(v);
  if (id === undefined) vocab.set(v, (id = vocab.size + 1));
  return id;
}

/** Each value → its decile among all values (ties share one), re-indexed 1.. in value order. */
function bucketDeciles(f: SideFeature, idx: number[], value: number[]): void {
  const sorted = value.slice().sort((a, b) => a - b);
  const n = sorted.length;
  const bucketOf = (x: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return Math.floor((DECILES * lo) / n); // rank of the first equal value → 0..9
  };
  const lowerBound = new Map<number, number>(); // bucket → smallest value in it
  for (const x of sorted) {
    const b = bucketOf(x);
    if (!lowerBound.has(b)) lowerBound.set(b, x);
  }
  const reid = new Map<number, number>();
  [...lowerBound.keys()].sort((a, b) => a - b).forEach((b, k) => {
    reid.set(b, k + 1);
    f.vocab.set(lowerBound.get(b)!, k + 1);
  });
  idx.forEach((i, k) => (f.sparse![i] = reid.get(bucketOf(value[k]!))!));
}
