// Multimodal vectors: topic centroid + item noise, so an item's embedding says what topic it is in
// even when the item itself is rare. Written as Spark JSON-lines parts like creative_emb/emb_<fid>_<dim>/.
import { Rng } from '../../core/random/rng.ts';
import { formatFloat } from './py-json.ts';
import type { World } from './world.ts';

export interface MmSpec {
  fid: string;
  /** the dimension the vectors really have */
  dim: number;
  /** the dimension the folder name claims (the real data's names do not match their vectors) */
  folderDim: number;
  /** share of items with a line at all */
  coverage: number;
  stream: number;
}

/** The two multimodal ids synth writes: 81 (dim 32) and one large id whose folder name lies. */
export function mmSpecs(largeDim: number): MmSpec[] {
  return [
    { fid: '81', dim: 32, folderDim: 32, coverage: 0.97, stream: 6 },
    { fid: '82', dim: largeDim, folderDim: 1024, coverage: 0.95, stream: 7 },
  ];
}

export const MM_PARTS = 2;
/** share of lines written without an "emb" field (the real parts have some) */
const MISSING_EMB = 0.01;
const ITEM_NOISE = 0.6;

export function mmFolderName(spec: MmSpec): string {
  return `emb_${spec.fid}_${spec.folderDim}`;
}

/**
 * Yields each part's lines: items (training and cold) in a seeded order, covered ones only,
 * split into MM_PARTS consecutive parts. Vectors are centroid[topic] + noise, 6 significant digits.
 */
export function* mmPartLines(world: World, spec: MmSpec): Generator<{ part: number; line: string }> {
  const rng = new Rng(world.params.seed, spec.stream);
  const { items, topics } = world;
  const centroid = Array.from({ length: topics.count }, () => Float64Array.from({ length: spec.dim }, () => rng.normal()));
  const order = rng.shuffle(Array.from({ length: items.count }, (_, i) => i));
  const perPart = Math.ceil(order.length / MM_PARTS);
  const parts: string[] = new Array(spec.dim);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (rng.next() >= spec.coverage) continue;
    const cid = items.rawId[i]!;
    const part = Math.floor(k / perPart);
    if (rng.next() < MISSING_EMB) {
      yield { part, line: `{"anonymous_cid":${cid}}\n` };
      continue;
    }
    const c = centroid[items.topic[i]!]!;
    for (let d = 0; d < spec.dim; d++) parts[d] = formatFloat(c[d]! + ITEM_NOISE * rng.normal());
    yield { part, line: `{"anonymous_cid":${cid},"emb":[${parts.join(',')}]}\n` };
  }
}
