// neg_bucket_bounds, read by the negatives stage (item pools by training exposures) and by evaluate (its
// target-popularity segments): strictly ascending integers ≥ 0 (an unseen item has count 0), few enough for
// the pools' int8 bucket column.
import { UserError } from '../stage/errors.ts';

const MAX_BOUNDS = 126;

export function validateBounds(bounds: readonly number[]): void {
  if (bounds.length > MAX_BOUNDS) throw new UserError(`params: 'neg_bucket_bounds' has ${bounds.length} bounds; at most ${MAX_BOUNDS}`);
  bounds.forEach((b, i) => {
    if (!Number.isSafeInteger(b) || b < 0) throw new UserError(`params: 'neg_bucket_bounds' must hold integers >= 0, got ${b} at index ${i}`);
    if (i > 0 && b <= bounds[i - 1]!) {
      throw new UserError(`params: 'neg_bucket_bounds' must be strictly ascending, got ${bounds[i - 1]} then ${b} at index ${i}`);
    }
  });
}
