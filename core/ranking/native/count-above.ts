// Loader of the fused score-and-count kernel (count-above.cc), built by scripts/setup-kernels.sh into
// node_modules/.cache/hstu-native/. Optional like the native TensorFlow backend: where it is not built (no C++
// compiler), was built from another version of count-above.cc, or HSTU_NO_KERNELS=1, countAboveKernel() is null
// and rankOfGemm counts on the tfjs device instead (the same ranks, slower).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CountAboveKernel {
  /** true when the AVX2+FMA micro-kernel runs on this CPU (else the portable loop) */
  simd(): boolean;
  /** See count-above.cc's header for the contract: per query, the non-excluded items ranked above its target. */
  countAbove(
    queries: Float32Array, D: number, items: Float32Array, first: number, itemNorms: Float64Array, targets: Int32Array,
    targetScore: Float64Array, queryBound: Float64Array, block: number, threads: number, portable: number,
    excludeOffsets: Int32Array, excludeItems: Int32Array,
  ): { above: Int32Array; rescored: number };
}

const SOURCE = new URL('./count-above.cc', import.meta.url);
/** Where setup-kernels.sh writes the addon, with `<addon>.stamp` (first line: the source's hash). */
const KERNEL_PATH = join(fileURLToPath(new URL('../../..', import.meta.url)), 'node_modules/.cache/hstu-native/count_above.node');

let loaded: CountAboveKernel | null | undefined;

/** The first 16 hex digits of count-above.cc's sha256: what setup-kernels.sh stamps a build with. */
function kernelSourceHash(): string {
  return createHash('sha256').update(readFileSync(SOURCE, 'utf8')).digest('hex').slice(0, 16);
}

/** The built kernel, or null (not built, built from another source, or disabled with HSTU_NO_KERNELS=1). */
export function countAboveKernel(): CountAboveKernel | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.HSTU_NO_KERNELS === '1' || !existsSync(KERNEL_PATH) || !existsSync(`${KERNEL_PATH}.stamp`)) return loaded;
  if (readFileSync(`${KERNEL_PATH}.stamp`, 'utf8').split('\n')[0] !== kernelSourceHash()) return loaded; // stale: rerun setup
  try {
    loaded = createRequire(import.meta.url)(KERNEL_PATH) as CountAboveKernel;
  } catch {
    // an addon that does not load (another Node ABI, a broken build): the device path ranks instead
  }
  return loaded;
}
