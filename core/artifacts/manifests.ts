// Reading the stage manifests (core/artifacts/artifacts.ts) back: one reader per manifest, shared by every
// stage that consumes it, with a one-line error naming the file when it is missing or not one.
import { readFileSync } from 'node:fs';
import {
  featuresManifestPath, predictFeaturesManifestPath, predictIngestManifestPath,
  type FeaturesManifest, type IngestManifest, type PredictFeaturesManifest, type PredictIngestManifest,
} from './artifacts.ts';
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

const hasShards = (m: Record<string, unknown>): boolean => Array.isArray(m.shards) && m.shards.every((s) => typeof (s as { name?: unknown } | null)?.name === 'string');

export function readIngestManifest(ingestDir: string): IngestManifest {
  const path = `${ingestDir}/manifest.json`;
  const m = readManifestJson(path, 'ingest');
  const shardsOk = hasShards(m);
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

export function readPredictIngestManifest(dir: string): PredictIngestManifest {
  const path = predictIngestManifestPath(dir);
  const m = readManifestJson(path, 'ingest with a predict output');
  if (!hasShards(m) || !Number.isSafeInteger(m.items) || !('files' in m)) throw new UserError(`${path}: not an ingest predict manifest (needs files, items, shards)`);
  return m as unknown as PredictIngestManifest;
}

export function readPredictFeaturesManifest(dir: string): PredictFeaturesManifest {
  const path = predictFeaturesManifestPath(dir);
  const m = readManifestJson(path, 'features with a predict output');
  if (!hasShards(m) || !Number.isSafeInteger(m.items) || typeof m.predict_files !== 'boolean') throw new UserError(`${path}: not a features predict manifest (needs predict_files, items, shards)`);
  return m as unknown as PredictFeaturesManifest;
}
