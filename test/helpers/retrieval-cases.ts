// Retrieval inputs that break float32 shortcuts: exact ties (small-integer data, duplicate item vectors) and
// near-ties a float32 sum cannot separate, with exclusions. For the exactness tests of rank-gemm and topk-gemm.
import { Rng } from '../../core/random/rng.ts';
import type { ExcludeFn } from '../../core/ranking/topk.ts';

export interface Case { queries: Float32Array; items: Float32Array; D: number; targets: Int32Array; exclude: ExcludeFn }

/** Random data; `integer`: small integers (many exact ties), with some item rows copies of others. */
export function randomCase(seed: number, integer: boolean, Q = 29, I = 211, D = 8): Case {
  const rng = new Rng(seed);
  const draw = (): number => (integer ? rng.int(5) - 2 : rng.normal());
  const queries = Float32Array.from({ length: Q * D }, draw);
  const items = Float32Array.from({ length: I * D }, draw);
  for (let j = 0; j < 30; j++) items.copyWithin((1 + rng.int(I - 1)) * D, (1 + rng.int(I - 1)) * D, (1 + rng.int(I - 1)) * D + D);
  const targets = Int32Array.from({ length: Q }, () => 1 + rng.int(I - 1));
  const lists = Array.from({ length: Q }, (_, q) => Int32Array.from([...Array.from({ length: rng.int(20) }, () => rng.int(I)), ...(q % 3 === 0 ? [targets[q]!] : [])]));
  return { queries, items, D, targets, exclude: (q) => lists[q]! };
}

/**
 * Near-ties: unit-length items that are the target's vector with one coordinate moved by a few float32 ulps,
 * so their exact scores differ from the target's by ~1e-8 while float32 sums cannot tell them apart.
 */
export function nearTieCase(seed: number, Q = 16, I = 300, D = 64): Case {
  const rng = new Rng(seed);
  const unit = (x: Float32Array): Float32Array => {
    const n = Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    return x.map((v) => v / n);
  };
  const queries = new Float32Array(Q * D);
  for (let q = 0; q < Q; q++) queries.set(unit(Float32Array.from({ length: D }, () => rng.normal())), q * D);
  const base = unit(Float32Array.from({ length: D }, () => rng.normal()));
  const items = new Float32Array(I * D);
  const buf = new Float32Array(1);
  for (let i = 1; i < I; i++) {
    const v = base.slice();
    if (i % 4 !== 0) {
      const d = rng.int(D);
      buf[0] = v[d]!;
      const bits = new Int32Array(buf.buffer);
      bits[0]! += rng.int(7) - 3; // a few ulps either way (0 = an exact duplicate)
      v[d] = buf[0]!;
    }
    items.set(v, i * D);
  }
  const targets = Int32Array.from({ length: Q }, () => 1 + rng.int(I - 1));
  return { queries, items, D, targets, exclude: (q) => [targets[q]!, (q * 7) % I, (q * 13) % I] };
}

