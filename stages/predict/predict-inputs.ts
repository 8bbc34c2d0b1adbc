// The four folders competition inference reads, checked to describe one ingest run: the training users'
// ingest and features folders (the catalogue, the feature defaults) and the predict users' (ingest's and
// features' predict outputs). A folder from another run would pair item rows or events wrongly, so a
// mismatch stops the stage naming the folders and what to rerun.
import type { PredictFeaturesManifest, PredictIngestManifest } from '../../core/artifacts/artifacts.ts';
import { readPredictFeaturesManifest, readPredictIngestManifest } from '../../core/artifacts/manifests.ts';
import { UserError } from '../../core/stage/errors.ts';
import { type Manifests, readManifests } from '../../core/sequences/feature-schema.ts';

export interface PredictDirs {
  ingestDir: string;
  featuresDir: string;
  predictIngestDir: string;
  predictFeaturesDir: string;
}

export interface PredictManifests {
  train: Manifests;
  ingest: PredictIngestManifest;
  features: PredictFeaturesManifest;
}

const sameShards = (a: PredictIngestManifest['shards'], b: PredictIngestManifest['shards']): boolean =>
  a.length === b.length && a.every((s, i) => s.name === b[i]!.name && s.events === b[i]!.events);

export function readPredictManifests(d: PredictDirs): PredictManifests {
  const train = readManifests(d.ingestDir, d.featuresDir);
  const ingest = readPredictIngestManifest(d.predictIngestDir);
  const features = readPredictFeaturesManifest(d.predictFeaturesDir);
  if (ingest.items !== train.ingest.items) {
    throw new UserError(`${d.predictIngestDir} was ingested against ${ingest.items} catalogue items, ${d.ingestDir} has ${train.ingest.items}: run ingest again`);
  }
  if (features.predict_files !== (ingest.files !== null) || features.cold_items !== ingest.cold_items || !sameShards(features.shards, ingest.shards)) {
    throw new UserError(`${d.predictFeaturesDir} was built from another ingest predict folder than ${d.predictIngestDir}: run features again`);
  }
  return { train, ingest, features };
}
