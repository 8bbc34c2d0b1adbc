// The model's initialisers (SPEC §5 "Init"): truncated normal std 0.02 for
// embeddings and linears, zero biases, LayerNorm γ=1 β=0, FiLM zeros. Values are drawn with the
// project's seeded Rng in JS, so the same seed gives the same weights on every backend.
import { Rng } from '../random/rng.ts';

export const INIT_STD = 0.02;

/** Truncated normal (resampled beyond 2 std), as torch.nn.init.trunc_normal_. */
export function truncatedNormal(rng: Rng, n: number, std = INIT_STD): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = rng.normal();
    while (Math.abs(z) > 2) z = rng.normal();
    out[i] = z * std;
  }
  return out;
}

export function filled(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}
