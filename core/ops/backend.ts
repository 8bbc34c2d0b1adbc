// Compute backend selection (SPEC §9): the model uses plain `tf.*` ops, so one model runs on native
// TensorFlow, wasm or pure JS; `auto` takes the fastest that loads and says why it skipped the others.
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../stage/errors.ts';
import type { Params } from '../stage/params.ts';

export type BackendName = Params['backend']; // 'auto' | 'tensorflow' | 'wasm' | 'cpu', as params.yaml's loader types it
export type LoadedBackend = Exclude<BackendName, 'auto'>;

/** Fastest first; `auto` walks this list. */
const AUTO_ORDER: readonly LoadedBackend[] = ['tensorflow', 'wasm', 'cpu'];

// Variable specifiers keep `tsc` clean where the optional packages are absent (npm dropped them).
const TFJS_NODE = '@tensorflow/tfjs-node';
const TFJS_NODE_GPU = '@tensorflow/tfjs-node-gpu';
const SETUP_HINT = 'run `bash scripts/setup-native.sh`';
// Only with an NVIDIA driver loaded is the GPU build worth trying (it needs CUDA 11.2 + cuDNN 8.1).
const NVIDIA_DRIVER = '/proc/driver/nvidia/version';

/** Registers the 'tensorflow' backend by importing tfjs-node(-gpu), which shares @tensorflow/tfjs's engine. */
async function registerTensorflow(): Promise<void> {
  // libtensorflow reads these once, when it loads. oneDNN runs the small batched matmuls on both cores
  // (~20% faster steps); level 2 hides its per-op info lines. A value the user set wins.
  process.env['TF_ENABLE_ONEDNN_OPTS'] ??= '1';
  process.env['TF_CPP_MIN_LOG_LEVEL'] ??= '2';
  if (existsSync(NVIDIA_DRIVER)) {
    try {
      await import(TFJS_NODE_GPU);
      return;
    } catch {
      // No usable GPU build: the CPU package below registers the same backend name.
    }
  }
  try {
    await import(TFJS_NODE);
  } catch (err) {
    throw new Error(explainNativeFailure(err));
  }
}

/** One line on why tfjs-node did not load, instead of its multi-line message. */
function explainNativeFailure(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = String(e.message ?? err);
  if (e.code === 'ERR_MODULE_NOT_FOUND' && message.includes(TFJS_NODE)) {
    return `${TFJS_NODE} is not installed (${SETUP_HINT})`;
  }
  if (message.includes('tfjs_binding.node')) return `its native addon is not built (${SETUP_HINT})`;
  return `${message.split('\n')[0]!.slice(0, 200)} (${SETUP_HINT})`;
}

async function registerBackend(name: LoadedBackend): Promise<void> {
  switch (name) {
    case 'tensorflow':
      return registerTensorflow();
    case 'wasm':
      // Its Node build finds the .wasm binaries beside itself; SIMD on, threads off under Node.
      await import('@tensorflow/tfjs-backend-wasm');
      return;
    case 'cpu':
      return; // bundled with @tensorflow/tfjs
    default: {
      const unknown: never = name;
      throw new Error(`unknown backend ${String(unknown)}`);
    }
  }
}

/** Registers and activates one backend; throws with a one-line reason when it cannot. */
async function activateBackend(name: LoadedBackend): Promise<void> {
  await registerBackend(name);
  // setBackend resolves false (after a console warning) when the backend's initialiser fails.
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed to initialise it`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`tfjs reports backend '${tf.getBackend()}' after selecting it`);
}

/**
 * Selects the tfjs backend for this process and returns the one in use. `auto` tries tensorflow, wasm,
 * cpu in turn and logs one line naming the choice and why faster ones were skipped; an explicit name
 * that cannot load is a UserError carrying the reason.
 */
export async function initBackend(
  name: BackendName,
  log: (s: string) => void = () => {},
): Promise<LoadedBackend> {
  if (name !== 'auto') {
    try {
      await activateBackend(name);
    } catch (err) {
      throw new UserError(`backend '${name}' is unavailable: ${(err as Error).message}`);
    }
    log(`[backend] ${name} (requested)`);
    return name;
  }
  const skipped: string[] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      await activateBackend(candidate);
    } catch (err) {
      skipped.push(`${candidate}: ${(err as Error).message}`);
      continue;
    }
    log(`[backend] ${candidate} (auto${skipped.length > 0 ? `; skipped ${skipped.join('; ')}` : ''})`);
    return candidate;
  }
  throw new UserError(`no tfjs backend could be initialised: ${skipped.join('; ')}`);
}
