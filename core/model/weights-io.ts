// Model weights on disk — a documented, framework-free format:
//   weights.bin   every variable's float32 values, little-endian, concatenated in sorted name order
//   weights.json  { format: 'sequence-model-weights-v2', bytes, sha256, tensors: [{ name, kind, shape, offset }] },
//                 offset in bytes; bytes and sha256 are weights.bin's, checked on every load
//   config.json   the resolved ModelConfig the weights belong to (saved beside them, nanoGPT-style);
//                 its `encoder.type` says which encoder (model_type) they are for
// Readable from Python with numpy.frombuffer(..., '<f4') and the manifest. Folders written before
// model_type existed ('hstu-weights-v1': the same weights, HSTU knobs flat in config.json) still load.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stableJson, writeDirAtomic } from '../stage/atomic.ts';
import { UserError } from '../stage/errors.ts';
import type { ModelConfig } from './config.ts';
import { parseModelConfig } from './config.ts';
import { upgradeHstuV1Config } from './upgrade-v1.ts';
import { ModelWeights, type WeightKind, sizeOf } from './model-weights.ts';

export const WEIGHTS_FORMAT = 'sequence-model-weights-v2';
/** The format before model_type: HSTU only, its knobs flat in config.json. Read, never written. */
export const HSTU_V1_FORMAT = 'hstu-weights-v1';

export interface WeightEntry {
  name: string;
  kind: WeightKind;
  shape: number[];
  offset: number; // bytes into weights.bin
}

export interface WeightsManifest {
  format: string;
  /** weights.bin's length and sha256 (hex); absent in folders written before they were recorded */
  bytes?: number;
  sha256?: string;
  tensors: WeightEntry[];
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The manifest and the little-endian float32 bytes of every variable, in sorted name order. */
export function serializeWeights(w: ModelWeights): { manifest: WeightsManifest; bytes: Uint8Array } {
  const tensors: WeightEntry[] = [];
  let offset = 0;
  for (const name of w.names()) {
    const shape = w.get(name).shape.slice();
    tensors.push({ name, kind: w.kinds.get(name)!, shape, offset });
    offset += sizeOf(shape) * 4;
  }
  const bytes = new Uint8Array(offset);
  const view = new DataView(bytes.buffer);
  for (const e of tensors) {
    const values = w.get(e.name).dataSync() as Float32Array;
    for (let i = 0; i < values.length; i++) view.setFloat32(e.offset + 4 * i, values[i]!, true);
  }
  return { manifest: { format: WEIGHTS_FORMAT, bytes: bytes.byteLength, sha256: sha256(bytes), tensors }, bytes };
}

/** Writes weights.bin, weights.json and config.json into an existing directory (the caller makes it atomic). */
export function writeWeights(dir: string, w: ModelWeights, config: ModelConfig): void {
  const { manifest, bytes } = serializeWeights(w);
  writeFileSync(join(dir, 'weights.bin'), bytes);
  writeFileSync(join(dir, 'weights.json'), stableJson(manifest));
  writeFileSync(join(dir, 'config.json'), stableJson(config));
}

/** Saves the model as its own directory, atomically. */
export async function writeModelDir(dir: string, w: ModelWeights, config: ModelConfig): Promise<void> {
  await writeDirAtomic(dir, (tmp) => writeWeights(tmp, w, config));
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Reads a model directory written by writeWeights (or an hstu-weights-v1 one): its config and fresh variables. */
export function readModelDir(dir: string): { config: ModelConfig; weights: ModelWeights } {
  const manifest = readJson(join(dir, 'weights.json')) as WeightsManifest;
  const rawConfig = readJson(join(dir, 'config.json'));
  const configFile = join(dir, 'config.json');
  let config: ModelConfig;
  if (manifest.format === WEIGHTS_FORMAT) config = parseModelConfig(rawConfig, configFile);
  else if (manifest.format === HSTU_V1_FORMAT) config = parseModelConfig(upgradeHstuV1Config(rawConfig, dir), configFile);
  else {
    throw new UserError(`${dir}/weights.json: format ${JSON.stringify(manifest.format)} is not one this version reads (${WEIGHTS_FORMAT}, or ${HSTU_V1_FORMAT}); retrain with \`dvc repro train\``);
  }
  const buf = readFileSync(join(dir, 'weights.bin'));
  checkIntegrity(dir, manifest, new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const weights = new ModelWeights();
  for (const e of manifest.tensors) {
    const n = sizeOf(e.shape);
    if (e.offset + 4 * n > buf.byteLength) throw new UserError(`${dir}/weights.bin: too short for ${e.name}`);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = view.getFloat32(e.offset + 4 * i, true);
    weights.add(e.name, e.kind, e.shape, values);
  }
  return { config, weights };
}

/** weights.bin must be the bytes weights.json describes: a flipped or truncated file is refused, never loaded. */
function checkIntegrity(dir: string, manifest: WeightsManifest, buf: Uint8Array): void {
  if (manifest.bytes !== undefined && buf.byteLength !== manifest.bytes) {
    throw new UserError(`${dir}: weights.bin does not match weights.json (${buf.byteLength} bytes, expected ${manifest.bytes}); retrain with \`dvc repro train\` or restore the folder`);
  }
  if (manifest.sha256 !== undefined) {
    const actual = sha256(buf);
    if (actual !== manifest.sha256) {
      throw new UserError(`${dir}: weights.bin does not match weights.json (sha256 ${actual}, expected ${manifest.sha256}); retrain with \`dvc repro train\` or restore the folder`);
    }
  }
}

/**
 * Copies saved weights into an existing model (fine-tuning from state_dict_path): every variable
 * must exist on both sides with the same shape, or it fails naming the first mismatch.
 */
export function copyWeights(target: ModelWeights, source: ModelWeights): void {
  const a = target.names();
  const b = source.names();
  const missing = a.find((n) => !source.vars.has(n)) ?? b.find((n) => !target.vars.has(n));
  if (missing !== undefined) throw new UserError(`weights do not match the model: ${missing} is on one side only`);
  for (const name of a) {
    const from = source.get(name);
    const to = target.get(name);
    if (from.shape.join(',') !== to.shape.join(',')) {
      throw new UserError(`weights do not match the model: ${name} is [${from.shape}] saved, [${to.shape}] here`);
    }
    tf.tidy(() => to.assign(from));
  }
}
