// Resumable training checkpoints (SPEC §6): everything a killed run needs to finish with the same
// metrics as an uninterrupted one — weights, AdamW moments and step, the data cursor, RNG states,
// the memory bank — written atomically as one folder (core/stage/atomic.ts writeDirAtomic):
//   checkpoint.bin   every array's raw little-endian bytes (float32 or int32), concatenated in the
//                    index's order: weights/<name>, adam_m/<name>, adam_v/<name> (names sorted),
//                    then bank/<i>/emb and bank/<i>/ids per memory-bank step, oldest first
//   checkpoint.json  { format, byteLength, sha256 (of checkpoint.bin), cursor, optimizerStep, optimizerSumSq?, rng,
//                    arrays: [{ key, dtype, shape, offset (bytes) }], meta }
// Same state → same bytes (sorted names, no timestamps). loadCheckpoint checks the format, length,
// checksum and every entry's bounds, and reports a partial or corrupt folder as a UserError.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { stableJson, writeDirAtomic } from '../stage/atomic.ts';
import { UserError } from '../stage/errors.ts';
import type { AdamWState } from './adamw.ts';
import type { MemoryBankState } from './memory-bank.ts';

export const CHECKPOINT_FORMAT = 'train-checkpoint-v2'; // v1 ('hstu-train-checkpoint-v1') predates model_type
const BIN = 'checkpoint.bin';
const INDEX = 'checkpoint.json';

/** A tensor's values on the host, row-major. */
export interface HostTensor {
  shape: number[];
  values: Float32Array;
}

/** Where the data loop stands: optimizer steps done, current epoch, micro-batches done in it. */
export interface TrainCursor {
  step: number;
  epoch: number;
  batch: number;
}

/**
 * An array the writer reads only when it reaches it in the file: at TencentGR-1M's 4.8M items the item table and each
 * of its moments is 1.2 GB, so a save holds one of them on the host at a time instead of all three (and their copies).
 */
export interface DeferredArray {
  size: number; // values it will return
  read(): Float32Array;
}

/** What saveCheckpoint writes: a TrainCheckpoint whose weights and moments may each be deferred. */
export interface CheckpointSource extends Omit<TrainCheckpoint, 'weights' | 'optimizer'> {
  weights: Record<string, { shape: number[]; values: Float32Array | DeferredArray }>;
  optimizer: Omit<AdamWState, 'm' | 'v'> & { m: Record<string, Float32Array | DeferredArray>; v: Record<string, Float32Array | DeferredArray> };
}

type SourceValues = Float32Array | Int32Array | DeferredArray;

const lengthOf = (v: SourceValues): number => (v instanceof Float32Array || v instanceof Int32Array ? v.length : v.size);

export interface TrainCheckpoint {
  weights: Record<string, HostTensor>;
  optimizer: AdamWState;
  cursor: TrainCursor;
  rng: Record<string, number[]>; // Rng.getState() of each named generator (shuffle, dropout, negatives, ...)
  bank: MemoryBankState;
  meta: Record<string, unknown>; // JSON-safe extras: resolved params, best validation score so far, ...
}

type DType = 'float32' | 'int32';

interface ArrayEntry {
  key: string;
  dtype: DType;
  shape: number[];
  offset: number; // bytes into checkpoint.bin
}

interface CheckpointIndex {
  format: string;
  byteLength: number;
  sha256: string;
  cursor: TrainCursor;
  optimizerStep: number;
  optimizerSumSq?: Record<string, number>; // AdamWState.sumSq: Σp² of each row-sparse table (absent when none)
  rng: Record<string, number[]>;
  arrays: ArrayEntry[];
  meta: Record<string, unknown>;
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** The named arrays in file order. */
function arraysOf(c: CheckpointSource): { key: string; shape: number[]; values: SourceValues }[] {
  const out: { key: string; shape: number[]; values: SourceValues }[] = [];
  for (const name of Object.keys(c.weights).sort()) out.push({ key: `weights/${name}`, ...c.weights[name]! });
  for (const name of Object.keys(c.optimizer.m).sort()) out.push({ key: `adam_m/${name}`, shape: [lengthOf(c.optimizer.m[name]!)], values: c.optimizer.m[name]! });
  for (const name of Object.keys(c.optimizer.v).sort()) out.push({ key: `adam_v/${name}`, shape: [lengthOf(c.optimizer.v[name]!)], values: c.optimizer.v[name]! });
  c.bank.entries.forEach((e, i) => {
    out.push({ key: `bank/${i}/emb`, shape: [e.ids.length, e.dim], values: e.emb });
    out.push({ key: `bank/${i}/ids`, shape: [e.ids.length], values: e.ids });
  });
  return out;
}

/** A typed array's bytes, as a view (no copy). */
function bytesOf(v: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** The index of a checkpoint, its arrays laid out back to back in file order (sha256 filled in once the bytes are written). */
function layout(c: CheckpointSource): { index: CheckpointIndex; arrays: ReturnType<typeof arraysOf> } {
  const arrays = arraysOf(c);
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const a of arrays) {
    if (sizeOf(a.shape) !== lengthOf(a.values)) throw new Error(`checkpoint: ${a.key} has ${lengthOf(a.values)} values for shape [${a.shape}]`);
    entries.push({ key: a.key, dtype: a.values instanceof Int32Array ? 'int32' : 'float32', shape: a.shape, offset });
    offset += lengthOf(a.values) * 4;
  }
  const index: CheckpointIndex = {
    format: CHECKPOINT_FORMAT, byteLength: offset, sha256: '', cursor: c.cursor, optimizerStep: c.optimizer.step,
    ...(c.optimizer.sumSq !== undefined ? { optimizerSumSq: c.optimizer.sumSq } : {}), rng: c.rng, arrays: entries, meta: c.meta,
  };
  return { index, arrays };
}

/**
 * Writes the checkpoint folder atomically: a reader sees the old folder or the new one, never half. The arrays are
 * streamed into checkpoint.bin one after another and hashed as they go — never joined into one buffer, which at
 * TencentGR-1M's 4.8M items (weights and both moments: 3.43 GiB) would double the memory and sit near Node's 4 GiB
 * Buffer limit — and a deferred array is read only when its turn comes, then dropped.
 */
export async function saveCheckpoint(dir: string, c: CheckpointSource): Promise<void> {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new UserError('checkpoints are little-endian; this host is big-endian');
  const { index, arrays } = layout(c);
  await writeDirAtomic(dir, (tmp) => {
    const hash = createHash('sha256');
    const fd = openSync(join(tmp, BIN), 'w');
    try {
      for (const a of arrays) {
        const values = a.values instanceof Float32Array || a.values instanceof Int32Array ? a.values : a.values.read();
        if (values.length !== lengthOf(a.values)) throw new Error(`checkpoint: ${a.key} read ${values.length} values, its index says ${lengthOf(a.values)}`);
        const bytes = bytesOf(values);
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, Math.min(bytes.length - at, 1 << 30));
        hash.update(bytes);
      }
    } finally {
      closeSync(fd);
    }
    index.sha256 = hash.digest('hex');
    writeFileSync(join(tmp, INDEX), stableJson(index));
  });
}

function readIndex(dir: string): CheckpointIndex {
  const path = join(dir, INDEX);
  if (!existsSync(path)) throw new UserError(`checkpoint ${dir} is incomplete: ${INDEX} is missing`);
  let index: CheckpointIndex;
  try {
    index = JSON.parse(readFileSync(path, 'utf8')) as CheckpointIndex;
  } catch (e) {
    throw new UserError(`checkpoint ${path} is not valid JSON (${(e as Error).message}); the file is partial or corrupt`);
  }
  if (index?.format !== CHECKPOINT_FORMAT) throw new UserError(`checkpoint ${path}: format ${JSON.stringify(index?.format)}, expected ${CHECKPOINT_FORMAT} (set resume: false to start over)`);
  if (!Array.isArray(index.arrays) || typeof index.byteLength !== 'number' || typeof index.sha256 !== 'string') {
    throw new UserError(`checkpoint ${path}: index lacks arrays, byteLength or sha256`);
  }
  return index;
}

/**
 * Reads and validates a checkpoint folder; any damage is a UserError naming the file and the problem. Each array is
 * read straight into its own buffer, in file order, and hashed as it comes (no whole-file buffer).
 */
export function loadCheckpoint(dir: string): TrainCheckpoint {
  const index = readIndex(dir);
  const binPath = join(dir, BIN);
  if (!existsSync(binPath)) throw new UserError(`checkpoint ${dir} is incomplete: ${BIN} is missing`);
  const size = statSync(binPath).size;
  if (size !== index.byteLength) {
    throw new UserError(`checkpoint ${binPath} has ${size} bytes but its index says ${index.byteLength}: the file is truncated or partial`);
  }
  const c: TrainCheckpoint = {
    weights: {}, optimizer: { step: index.optimizerStep, m: {}, v: {}, ...(index.optimizerSumSq !== undefined ? { sumSq: index.optimizerSumSq } : {}) }, cursor: index.cursor, rng: index.rng, bank: { entries: [] }, meta: index.meta,
  };
  const bankIds: Int32Array[] = [];
  const bankEmb: HostTensor[] = [];
  const hash = createHash('sha256');
  const fd = openSync(binPath, 'r');
  try {
    let next = 0; // the arrays tile the file in index order
    for (const e of index.arrays) {
      const length = sizeOf(e.shape) * 4;
      if (e.offset !== next || e.offset + length > size) throw new UserError(`checkpoint ${join(dir, INDEX)}: array ${e.key} lies outside ${BIN} or out of order`);
      next += length;
      const [group, name, part] = splitKey(e.key);
      const values = e.dtype === 'int32' ? new Int32Array(length / 4) : new Float32Array(length / 4);
      const bytes = bytesOf(values);
      for (let at = 0; at < length; ) {
        const n = readSync(fd, bytes, at, Math.min(length - at, 1 << 30), e.offset + at);
        if (n === 0) throw new UserError(`checkpoint ${binPath} ends inside array ${e.key}: the file is truncated or partial`);
        at += n;
      }
      hash.update(bytes);
      if (e.dtype === 'int32' && group === 'bank' && part === 'ids') bankIds[Number(name)] = values as Int32Array;
      else if (e.dtype !== 'float32') throw new UserError(`checkpoint ${join(dir, INDEX)}: array ${e.key} has dtype ${e.dtype}`);
      else if (group === 'weights') c.weights[name] = { shape: e.shape, values: values as Float32Array };
      else if (group === 'adam_m') c.optimizer.m[name] = values as Float32Array;
      else if (group === 'adam_v') c.optimizer.v[name] = values as Float32Array;
      else if (group === 'bank' && part === 'emb') bankEmb[Number(name)] = { shape: e.shape, values: values as Float32Array };
      else throw new UserError(`checkpoint ${join(dir, INDEX)}: unknown array ${e.key}`);
    }
    if (next !== size) throw new UserError(`checkpoint ${join(dir, INDEX)}: its arrays cover ${next} of ${BIN}'s ${size} bytes`);
  } finally {
    closeSync(fd);
  }
  if (hash.digest('hex') !== index.sha256) throw new UserError(`checkpoint ${binPath} is corrupt: its sha256 does not match ${INDEX}`);
  bankEmb.forEach((emb, i) => {
    const ids = bankIds[i];
    if (ids === undefined || emb.shape[0] !== ids.length) throw new UserError(`checkpoint ${join(dir, INDEX)}: memory bank step ${i} has no matching ids`);
    c.bank.entries.push({ ids, emb: emb.values, dim: emb.shape[1]! });
  });
  return c;
}

/** 'weights/blocks.0.w' → ['weights', 'blocks.0.w', '']; 'bank/3/ids' → ['bank', '3', 'ids']. */
function splitKey(key: string): [string, string, string] {
  const slash = key.indexOf('/');
  const group = key.slice(0, slash);
  const rest = key.slice(slash + 1);
  if (group !== 'bank') return [group, rest, ''];
  const [i, part] = rest.split('/');
  return [group, i ?? '', part ?? ''];
}

/** Host copies of the variables' values, for the checkpoint. */
export function readWeights(vars: Record<string, tf.Variable>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const name of Object.keys(vars).sort()) out[name] = { shape: vars[name]!.shape.slice(), values: Float32Array.from(vars[name]!.dataSync()) };
  return out;
}

/**
 * The variables' values as deferred arrays, read by saveCheckpoint one at a time (dataSync's array is written and
 * dropped, never kept or changed, so it needs no copy of its own).
 */
export function deferredWeights(vars: Record<string, tf.Variable>): Record<string, { shape: number[]; values: DeferredArray }> {
  const out: Record<string, { shape: number[]; values: DeferredArray }> = {};
  for (const name of Object.keys(vars).sort()) {
    const v = vars[name]!;
    out[name] = { shape: v.shape.slice(), values: { size: v.size, read: () => v.dataSync() as Float32Array } };
  }
  return out;
}

/** Assigns checkpoint weights to the model's variables; names and shapes must match exactly. */
export function assignCheckpointWeights(vars: Record<string, tf.Variable>, weights: Record<string, HostTensor>): void {
  const missing = Object.keys(vars).filter((n) => weights[n] === undefined);
  const extra = Object.keys(weights).filter((n) => vars[n] === undefined);
  if (missing.length > 0 || extra.length > 0) {
    throw new UserError(`checkpoint does not fit the model: missing ${missing.join(', ') || 'none'}; unknown ${extra.join(', ') || 'none'}`);
  }
  for (const [name, v] of Object.entries(vars)) {
    const w = weights[name]!;
    if (w.shape.join(',') !== v.shape.join(',')) throw new UserError(`checkpoint weight ${name} has shape [${w.shape}], the model has [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(w.values, w.shape, 'float32')));
  }
}
