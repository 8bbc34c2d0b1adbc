// Loader of the fused score-and-count kernel (count-above.cc; core/ops/native/load-addon.ts says when it is
// absent). Without it rankOfGemm counts on the tfjs device instead (the same ranks, slower).
import { loadAddon } from '../../ops/native/load-addon.ts';

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

/** The built kernel, or null (not built, built from another source, or disabled with HSTU_NO_KERNELS=1). */
export function countAboveKernel(): CountAboveKernel | null {
  return loadAddon<CountAboveKernel>(new URL('./count-above.cc', import.meta.url), 'count_above');
}
