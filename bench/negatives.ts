// Draw throughput of BucketSampler: `npx tsx bench/negatives.ts [items] [draws]`.
// Buckets sized like a Zipf catalogue (most items rarely exposed), seed weights, with and without exclusion.
import { BucketSampler } from '../core/train/negative-sampler.ts';
import { Rng } from '../core/random/rng.ts';

const items = Number(process.argv[2] ?? 1_000_000);
const draws = Number(process.argv[3] ?? 10_000_000);
const shares = [0.55, 0.2, 0.15, 0.04, 0.05, 0.01];
const sizes = shares.map((s) => Math.max(1, Math.round(s * items)));
let next = 1;
const pools = sizes.map((n) => Int32Array.from({ length: n }, () => next++));
const sampler = BucketSampler.fromPools(pools, [0.251, 0.265, 0.274, 0.068, 0.113, 0.029]);
const batch = new Int32Array(512); // num_negatives per step
const excluded = new Set(Array.from({ length: 1024 }, (_, i) => 1 + i * 97)); // ~a batch of positives

function measure(label: string, exclude?: Set<number>): void {
  const rng = new Rng(1);
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let done = 0; done < draws; done += batch.length) {
    sampler.drawInto(batch, rng, exclude);
    checksum += batch[0]!;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`${label}: ${(draws / seconds / 1e6).toFixed(1)}M draws/s (${draws} draws, ${items} items, checksum ${checksum})`);
}

measure('no exclusion');
measure('exclude 1024 ids (Set)', excluded);
