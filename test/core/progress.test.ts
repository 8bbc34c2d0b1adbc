import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../../core/progress.ts';

test('tick prints at most once per interval; done prints one summary line', () => {
  const lines: string[] = [];
  const p = new Progress('demo', 60_000, (l) => lines.push(l));
  let described = 0;
  for (let i = 0; i < 1000; i++) p.tick(() => `step ${++described}`);
  assert.equal(lines.length, 1, 'one line within the interval');
  assert.equal(described, 1, 'describe is not called when throttled');
  assert.match(lines[0]!, /^\[demo\] step 1 \(\d+s\)$/);
  p.done('42 things');
  assert.match(lines[1]!, /^\[demo\] 42 things in \d+\.\ds$/);
});
