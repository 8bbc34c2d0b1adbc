// Loader of HSTU's fused attention kernel (attention.cc; core/ops/native/load-addon.ts says when it is absent).
// Without it the block's attention runs as tfjs ops (attention-core.ts), with the same arithmetic.
import { loadAddon } from '../../../../ops/native/load-addon.ts';

/** attention.cc's header has the contract; every array is token-major ([B·N, H·d]) or as stated there. */
export interface AttentionKernel {
  attentionForward(
    q: Float32Array, k: Float32Array, v: Float32Array, dims: Int32Array, visible: Float32Array, rowScale: Float32Array,
    keep: Float32Array, wPos: Float32Array, wTime: Float32Array, timeIdx: Int32Array, ropeCos: Float32Array,
    ropeSin: Float32Array, seed: number, rate: number, threads: number,
  ): Float32Array;
  attentionBackward(
    q: Float32Array, k: Float32Array, v: Float32Array, dims: Int32Array, visible: Float32Array, rowScale: Float32Array,
    keep: Float32Array, wPos: Float32Array, wTime: Float32Array, timeIdx: Int32Array, ropeCos: Float32Array,
    ropeSin: Float32Array, seed: number, rate: number, threads: number, dO: Float32Array,
  ): { dq: Float32Array; dk: Float32Array; dv: Float32Array; dwPos: Float32Array; dwTime: Float32Array };
  /** The {0, 1} [B, H, N, N] attention weights the kernel's hash dropout draws for `seed` (visible cells only). */
  keepWeights(dims: Int32Array, visible: Float32Array, seed: number, rate: number): Float32Array;
  /** Whether the AVX2+FMA kernels run; `on` first asks for them (false: the portable loops, for tests). */
  simd(on?: boolean): boolean;
  /** relative-bias.ts's timeBiasIndices from timeBucketTable's start [65536] and threshold [numBuckets + 2]. */
  timeBuckets(timestamp: Float64Array, B: number, N: number, start: Int32Array, threshold: Float64Array): Int32Array;
}

/** The built kernel, or null (not built, built from another source, or disabled with HSTU_NO_KERNELS=1). */
export function attentionKernel(): AttentionKernel | null {
  return loadAddon<AttentionKernel>(new URL('./attention.cc', import.meta.url), 'hstu_attention');
}
