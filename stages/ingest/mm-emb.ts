// creative_emb/emb_<fid>_*/ → one multimodal vector per item idx. Spark writes the folder as
// `part-*` files (with or without `.json`) of JSON lines {"anonymous_cid": raw creative id,
// "emb": [floats]}. The dimension is taken from the first vector, not the folder name (the real
// emb_85_4096 holds 3584-dim vectors). Lines without `emb` and creative ids the indexer does not
// know are counted, not errors; a vector of another length is.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonLines } from '../../core/taac/jsonl.ts';
import { inputError } from '../../core/stage/errors.ts';
import type { PickleValue } from '../../core/taac/pickle/values.ts';

export interface MmStats {
  parts: number;
  vectors: number;
  lines_without_emb: number;
  unknown_cids: number;
  duplicate_cids: number;
}

export interface MmTable {
  fid: string;
  dim: number;
  /** [(itemCount + 1) × dim] vector by item idx (zeros where absent) */
  values: Float32Array;
  /** [itemCount + 1] 1 where the item has a vector */
  has: Int8Array;
  stats: MmStats;
}

/** A bad line the caller may skip (on_bad_line: skip) or turn into an error. */
export type OnBadLine = (file: string, line: number, reason: string) => void;

/** The single emb_<fid>_* folder under creative_emb/, or an error naming what was looked for. */
export function findMmFolder(rawDir: string, fid: string): string {
  const root = join(rawDir, 'creative_emb');
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    throw inputError(root, null, `not found (mm_emb_id lists ${fid}; expected ${root}/emb_${fid}_<dim>/; for data without multimodal embeddings, e.g. an imported log, set mm_emb_id: [])`);
  }
  const hits = names.filter((n) => n.startsWith(`emb_${fid}_`) && statSync(join(root, n)).isDirectory()).sort();
  if (hits.length === 0) throw inputError(join(root, `emb_${fid}_*`), null, `not found (mm_emb_id lists ${fid})`);
  if (hits.length > 1) throw inputError(join(root, `emb_${fid}_*`), null, `several folders match: ${hits.join(', ')}`);
  return join(root, hits[0]!);
}

/** The part files of a Spark output folder, in name order (so reruns read them in the same order). */
export function listParts(dir: string): string[] {
  const parts = readdirSync(dir).filter((n) => n.startsWith('part-') && !n.endsWith('.crc')).sort();
  if (parts.length === 0) throw inputError(dir, null, 'no part-* files');
  return parts.map((n) => join(dir, n));
}

/** Reads every part of emb_<fid>_*; later parts win for a creative id seen twice (counted). */
export async function readMmEmbeddings(
  rawDir: string,
  fid: string,
  itemCount: number,
  itemIdxByCid: ReadonlyMap<PickleValue, number>,
  onBadLine: OnBadLine,
): Promise<MmTable> {
  const parts = listParts(findMmFolder(rawDir, fid));
  const stats: MmStats = { parts: parts.length, vectors: 0, lines_without_emb: 0, unknown_cids: 0, duplicate_cids: 0 };
  const has = new Int8Array(itemCount + 1);
  let dim = 0;
  let values = new Float32Array(0);
  for (const file of parts) {
    for await (const { line, value, error } of readJsonLines(file)) {
      if (error !== undefined) {
        onBadLine(file, line, error);
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        onBadLine(file, line, 'expected a JSON object {"anonymous_cid", "emb"}');
        continue;
      }
      const { anonymous_cid: cid, emb } = value as { anonymous_cid?: unknown; emb?: unknown };
      if (typeof cid !== 'number' || !Number.isInteger(cid)) {
        onBadLine(file, line, `anonymous_cid must be an int, got ${JSON.stringify(cid)}`);
        continue;
      }
      if (emb === undefined || emb === null) {
        stats.lines_without_emb++;
        continue;
      }
      if (!Array.isArray(emb) || emb.length === 0) throw inputError(file, line, `emb must be a non-empty array of numbers`);
      if (dim === 0) {
        dim = emb.length;
        values = new Float32Array((itemCount + 1) * dim);
      } else if (emb.length !== dim) {
        throw inputError(file, line, `emb has ${emb.length} values but the first vector of feature ${fid} had ${dim}`);
      }
      const item = itemIdxByCid.get(cid);
      if (item === undefined) {
        stats.unknown_cids++;
        continue;
      }
      if (has[item]) stats.duplicate_cids++;
      else stats.vectors++;
      has[item] = 1;
      const base = item * dim;
      for (let j = 0; j < dim; j++) {
        const x = emb[j];
        if (typeof x !== 'number') throw inputError(file, line, `emb[${j}] must be a number, got ${JSON.stringify(x)}`);
        values[base + j] = x;
      }
    }
  }
  if (dim === 0) throw inputError(parts[0]!, null, `no vectors for feature ${fid} in ${parts.length} part file(s)`);
  return { fid, dim, values, has, stats };
}
