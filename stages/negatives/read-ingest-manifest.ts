// The ingest manifest, with the fields this stage relies on checked.
import { readFileSync } from 'node:fs';
import type { IngestManifest } from '../../core/artifacts.ts';
import { UserError } from '../../core/errors.ts';

export function readIngestManifest(ingestDir: string): IngestManifest {
  const path = `${ingestDir}/manifest.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read ingest manifest (${(e as Error).message.split('\n')[0]})`);
  }
  const m = raw as Partial<IngestManifest>;
  if (!Number.isSafeInteger(m.items) || (m.items as number) < 0) throw new UserError(`${path}: 'items' must be a non-negative integer`);
  if (!Array.isArray(m.shards) || !m.shards.every((s) => typeof s?.name === 'string')) throw new UserError(`${path}: 'shards' must list {name}`);
  return m as IngestManifest;
}
