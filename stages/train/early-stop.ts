// Early stopping on the validation Score (SPEC §6, early_stop_patience): training stops after
// `patience` validations in a row without improvement; patience 0 never stops. An improvement is a
// Score strictly above the best so far: a tie is not one (nor is NaN), the same rule that picks best/.
// Everything here is a function of the Scores so far, which the validation log (saved in every
// checkpoint) holds, so a resumed run reconstructs the patience count instead of storing it.

/** Whether `score` beats the best so far (null: nothing validated yet). Ties do not. */
export function improves(score: number, best: number | null): boolean {
  return best === null ? !Number.isNaN(score) : score > best;
}

/** Validations since the best one (0 right after an improvement; all of them when none improved). */
export function validationsSinceBest(scores: readonly number[]): number {
  let best: number | null = null;
  let since = 0;
  for (const s of scores) {
    if (improves(s, best)) {
      best = s;
      since = 0;
    } else {
      since++;
    }
  }
  return since;
}

/** Whether training should stop after these validations, with this patience (0 = never). */
export function shouldStop(scores: readonly number[], patience: number): boolean {
  return patience > 0 && validationsSinceBest(scores) >= patience;
}
