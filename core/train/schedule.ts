// Learning-rate schedule (SPEC §6): linear warmup then a half cosine down to 0, as Hugging Face's
// get_cosine_schedule_with_warmup with num_cycles = 0.5, which the seed uses.

export interface CosineSchedule {
  peak: number; // the `lr` param
  warmup: number; // optimizer steps of linear warmup (see warmupSteps)
  total: number; // optimizer steps in the whole run
}

/**
 * Warmup length: ceil(warmup_ratio · total). Rounding up means any positive ratio gives at least one
 * warmup step (HF takes the count as given; the seed computes it from the ratio).
 */
export function warmupSteps(total: number, warmupRatio: number): number {
  if (!(total >= 0) || !(warmupRatio >= 0 && warmupRatio <= 1)) {
    throw new RangeError(`warmupSteps: need total >= 0 and 0 <= warmup_ratio <= 1, got ${total}, ${warmupRatio}`);
  }
  return Math.ceil(warmupRatio * total);
}

/**
 * The learning rate of optimizer step `step` (0-based: the rate the step-th update uses). As in HF,
 * step 0 of a warmed-up run has lr 0: peak·step/warmup while step < warmup, then
 * peak·0.5·(1 + cos(π·progress)) with progress = (step − warmup)/(total − warmup). Progress is
 * capped at 1 so a step past `total` stays at 0 (HF's curve would rise again there).
 */
export function cosineLr(step: number, s: CosineSchedule): number {
  if (step < s.warmup) return (s.peak * step) / Math.max(1, s.warmup);
  const progress = Math.min(1, (step - s.warmup) / Math.max(1, s.total - s.warmup));
  return s.peak * 0.5 * (1 + Math.cos(Math.PI * progress));
}
