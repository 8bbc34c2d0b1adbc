// Leave-last-out split roles for one user's item records (SASRec convention; SPEC §4 ingest).
// A target is an item record with action >= target_min_action. The test target is the last one,
// the validation target the one before it; training sees only what lies strictly before the
// validation target. A user with fewer than two targets cannot be validated and tested, so all of
// their events stay Role.train (they still teach the model) and the user is counted, not dropped.
import { Role } from '../../core/artifacts/artifacts.ts';

export interface LineSplit {
  /** [N] Role per item record */
  roles: Int8Array;
  /** number of targets found (0, 1 or >= 2 decides how the user is counted) */
  targets: number;
}

/** Roles for a user's item records given their actions [N], in record order. */
export function assignRoles(actions: Int8Array, targetMinAction: number): LineSplit {
  const n = actions.length;
  let test = -1;
  let valid = -1;
  let targets = 0;
  for (let i = n - 1; i >= 0; i--) {
    if (actions[i]! < targetMinAction) continue;
    targets++;
    if (test < 0) test = i;
    else if (valid < 0) valid = i;
  }
  const roles = new Int8Array(n); // Role.train = 0
  if (valid < 0) return { roles, targets };
  for (let i = valid; i < n; i++) {
    roles[i] = i === valid ? Role.valid : i < test ? Role.between : i === test ? Role.test : Role.after;
  }
  return { roles, targets };
}

/** Running split counts for the manifest. */
export interface SplitCounts {
  train_events: number;
  valid_targets: number;
  test_targets: number;
  users_without_targets: number;
  users_with_one_target: number;
}

export function emptySplitCounts(): SplitCounts {
  return { train_events: 0, valid_targets: 0, test_targets: 0, users_without_targets: 0, users_with_one_target: 0 };
}

/** Adds one user's split to `counts` (mutates and returns it). */
export function countSplit(counts: SplitCounts, split: LineSplit): SplitCounts {
  for (const r of split.roles) if (r === Role.train) counts.train_events++;
  if (split.targets === 0) counts.users_without_targets++;
  else if (split.targets === 1) counts.users_with_one_target++;
  else {
    counts.valid_targets++;
    counts.test_targets++;
  }
  return counts;
}
