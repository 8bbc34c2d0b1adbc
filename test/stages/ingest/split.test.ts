import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Role } from '../../../core/artifacts/artifacts.ts';
import { assignRoles, countSplit, emptySplitCounts } from '../../../stages/ingest/split.ts';

test('test target = last action>=min, valid = the one before, train strictly before valid', () => {
  //                                   0  1  2  3  4  5  6
  const { roles, targets } = assignRoles(Int8Array.from([0, 1, 0, 2, 0, 1, 0]), 1);
  assert.equal(targets, 3);
  assert.deepEqual([...roles], [Role.train, Role.train, Role.train, Role.valid, Role.between, Role.test, Role.after]);
});

test('adjacent targets leave no between events; target_min_action=2 counts only conversions', () => {
  assert.deepEqual([...assignRoles(Int8Array.from([0, 1, 1]), 1).roles], [Role.train, Role.valid, Role.test]);
  const conv = assignRoles(Int8Array.from([2, 1, 0, 2, 1]), 2);
  assert.equal(conv.targets, 2);
  assert.deepEqual([...conv.roles], [Role.valid, Role.between, Role.between, Role.test, Role.after]);
});

test('users with 0 or 1 target keep every event in train and are counted', () => {
  const none = assignRoles(Int8Array.from([0, 0, 0]), 1);
  const one = assignRoles(Int8Array.from([0, 1, 0]), 1);
  assert.ok(none.roles.every((r) => r === Role.train) && one.roles.every((r) => r === Role.train));
  const c = countSplit(countSplit(countSplit(emptySplitCounts(), none), one), assignRoles(Int8Array.from([1, 0, 1]), 1));
  assert.deepEqual(c, { train_events: 6, valid_targets: 1, test_targets: 1, users_without_targets: 1, users_with_one_target: 1 });
});
