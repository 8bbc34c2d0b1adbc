// Random inputs in the SequenceBatch / TargetItems layouts, for tests and benchmarks: seeded,
// left-padded, user token first, ascending timestamps. Not training data.
import { Rng } from '../../core/random/rng.ts';
import type { ModelConfig } from '../../core/model/config.ts';
import type { SequenceBatch, TargetItems } from '../../core/model/inputs.ts';
import { TOKEN_ITEM, TOKEN_USER } from '../../core/model/inputs.ts';

function ints(rng: Rng, n: number, vocab: number, allowZero = true): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = allowZero ? rng.int(vocab) : 1 + rng.int(vocab - 1);
  return out;
}

function floats(rng: Rng, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

/** Interleaves per-field random indices into a row-major [R, F] array. */
function fieldInts(rng: Rng, rows: number, vocabs: number[], block = 1): Int32Array {
  const out = new Int32Array(rows * vocabs.length * block);
  for (let r = 0; r < rows; r++) {
    vocabs.forEach((v, f) => {
      for (let k = 0; k < block; k++) out[(r * vocabs.length + f) * block + k] = rng.int(v);
    });
  }
  return out;
}

/** The item feature columns of `rows` random items (history tokens or targets), drawn in one order for both. */
function itemFeatures(rng: Rng, rows: number, f: ModelConfig['features']): Pick<TargetItems, 'itemSparse' | 'itemArray' | 'itemContinuous' | 'itemMultimodal'> {
  return {
    itemSparse: fieldInts(rng, rows, f.itemSparse.map((x) => x.vocab)),
    itemArray: fieldInts(rng, rows, f.itemArray.map((x) => x.vocab), f.arrayLen),
    itemContinuous: floats(rng, rows * f.itemContinuous.length),
    itemMultimodal: f.itemMultimodal.map((m) => floats(rng, rows * m.dim)),
  };
}

/** B random sequences of N tokens with the given real lengths (user token + items), left-padded. */
export function randomBatch(c: ModelConfig, seed: number, B: number, N: number, lengths?: number[]): SequenceBatch {
  const rng = new Rng(seed);
  const f = c.features;
  const BN = B * N;
  const tokenType = new Int32Array(BN);
  const timestamp = new Float64Array(BN);
  for (let b = 0; b < B; b++) {
    const len = lengths?.[b] ?? 2 + rng.int(N - 1); // real tokens incl. the user token
    let t = 1.7e9 + rng.int(1e6);
    for (let i = N - len; i < N; i++) {
      tokenType[b * N + i] = i === N - len ? TOKEN_USER : TOKEN_ITEM;
      t += rng.int(200000);
      timestamp[b * N + i] = t;
    }
  }
  const itemIdx = ints(rng, BN, c.itemVocab, false);
  for (let i = 0; i < BN; i++) if (tokenType[i] !== TOKEN_ITEM) itemIdx[i] = 0;
  return {
    batchSize: B, seqLen: N, tokenType, itemIdx,
    action: ints(rng, BN, c.numActions), filmAction: ints(rng, BN, c.numActions), timestamp,
    ...itemFeatures(rng, BN, f),
    timeDiscrete: fieldInts(rng, BN, f.timeDiscrete.map((x) => x.vocab)),
    timeContinuous: floats(rng, BN * f.timeContinuous.length),
    userSparse: fieldInts(rng, B, f.userSparse.map((x) => x.vocab)),
    userArray: fieldInts(rng, B, f.userArray.map((x) => x.vocab), f.arrayLen),
    userContinuous: floats(rng, B * f.userContinuous.length),
  };
}

export function randomTargets(c: ModelConfig, seed: number, M: number): TargetItems {
  const rng = new Rng(seed);
  const f = c.features;
  return {
    count: M,
    itemIdx: ints(rng, M, c.itemVocab, false),
    ...itemFeatures(rng, M, f),
    dynamicDiscrete: fieldInts(rng, M, f.dynamicDiscrete.map((x) => x.vocab)),
    dynamicContinuous: floats(rng, M * f.dynamicContinuous.length),
  };
}
