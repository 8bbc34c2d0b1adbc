// Reading the stage manifests (core/artifacts/artifacts.ts) back: one reader per manifest, shared by every
// stage that consumes it, with a one-line error naming the file when it is missing or not one.
import { readFileSync } from 'node:fs';
import { featuresManifestPath, type FeaturesManifest, type IngestManifest } from './artifacts.ts';
import { UserError } from '../stage/errors.ts';

function readManifestJson(path: string, producer: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const what = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `not found (run ${producer} first)` : `invalid JSON (${(e as Error).message.split('\n')[0]})`;
    throw new UserError(`${path}: ${what}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${path}: not a ${producer} manifest (not an object)`);
  return raw as Record<string, unknown>;
}

export function readIngestManifest(ingestDir: string): IngestManifest {
  const path = `${ingestDir}/manifest.json`;
  const m = readManifestJson(path, 'ingest');
  const shardsOk = Array.isArray(m.shards) && m.shards.every((s) => typeof (s as { name?: unknown } | null)?.name === 'string');
  const itemsOk = Number.isSafeInteger(m.items) && (m.items as number) >= 0;
  if (!shardsOk || !itemsOk || m.features === null || typeof m.features !== 'object') {
    throw new UserError(`${path}: not an ingest manifest (needs items >= 0, shards with names, features)`);
  }
  return m as unknown as IngestManifest;
}

export function readFeaturesManifest(featuresDir: string): FeaturesManifest {
  const path = featuresManifestPath(featuresDir);
  const m = readManifestJson(path, 'features');
  if (typeof m.defaults !== 'object' || typeof m.vocab !== 'object' || !Array.isArray(m.dynamic)) {
    throw new UserError(`${path}: not a features manifest (needs defaults, vocab, dynamic)`);
  }
  return m as unknown as FeaturesManifest;
}
