// The model's FeatureSchema (core/model/config.ts) from what ingest and features discovered: which
// feature ids each branch carries, in which order, and their vocab sizes. Every split's batches and
// the saved model config use this one schema, so train and evaluate lay tensors out identically.
import type { FeaturesManifest, IngestManifest } from '../artifacts/artifacts.ts';
import { readFeaturesManifest, readIngestManifest } from '../artifacts/manifests.ts';
import { UserError } from '../stage/errors.ts';
import type { CategoricalFeature, FeatureSchema } from '../model/config.ts';

/** 205 is the one continuous time feature (computed per cut with 204). */
export const TIME_CONTINUOUS_FID = '205';
/** 204 is stored per cut, not per event: its column in timeDiscrete is filled by the batch builder. */
export const TIME_NEXT_GAP_FID = '204';
/** Array features keep at most this many values (the data's longest list, when shorter). */
export const MAX_ARRAY_LEN = 32;

/** Both manifests, checked to describe the same data. */
export interface Manifests {
  ingest: IngestManifest;
  features: FeaturesManifest;
}

export function readManifests(ingestDir: string, featuresDir: string): Manifests {
  const ingest = readIngestManifest(ingestDir);
  const features = readFeaturesManifest(featuresDir);
  if (features.items !== ingest.items || features.events !== ingest.events) {
    throw new UserError(`${featuresDir} was built from other data than ${ingestDir} (items ${features.items} vs ${ingest.items}, events ${features.events} vs ${ingest.events})`);
  }
  return { ingest, features };
}

function categorical(fids: string[], vocab: Record<string, number>, where: string): CategoricalFeature[] {
  return fids.map((fid) => {
    const v = vocab[fid];
    if (!Number.isSafeInteger(v) || v! < 1) throw new UserError(`${where}: no vocab size for feature ${fid}`);
    return { fid, vocab: v! };
  });
}

const byNumericId = (a: string, b: string): number => Number(a) - Number(b) || a.localeCompare(b);

/** The schema for the model; `arrayLen` from observedArrayLen (or a saved config). */
export function buildFeatureSchema(m: Manifests, arrayLen: number): FeatureSchema {
  const layout = m.ingest.features;
  const f = m.features;
  const where = 'features manifest';
  const timeFids = Object.keys(f.time_vocab).filter((fid) => fid !== TIME_CONTINUOUS_FID).sort(byNumericId);
  const dynamicDiscrete = f.dynamic.filter((name) => name in f.dynamic_vocab);
  return {
    userSparse: categorical(layout.user_sparse, f.vocab, where),
    userArray: categorical(layout.user_array, f.vocab, where),
    userContinuous: [],
    itemSparse: categorical(layout.item_sparse, f.vocab, where),
    itemArray: categorical(layout.item_array, f.vocab, where),
    itemContinuous: [...layout.item_continuous],
    itemMultimodal: Object.keys(layout.mm).sort(byNumericId).map((fid) => ({ fid, dim: layout.mm[fid]! })),
    timeDiscrete: categorical(timeFids, f.time_vocab, where),
    timeContinuous: [TIME_CONTINUOUS_FID],
    dynamicDiscrete: categorical(dynamicDiscrete, f.dynamic_vocab, where),
    dynamicContinuous: f.dynamic.filter((name) => !(name in f.dynamic_vocab)),
    arrayLen,
  };
}

/** Longest array-feature list among users and items, clamped to [1, MAX_ARRAY_LEN]. */
export function clampArrayLen(longest: number): number {
  return Math.max(1, Math.min(MAX_ARRAY_LEN, longest));
}
