import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../../../core/stage/progress.ts';

test('tick prints nothing before the first interval has passed, then at most once per interval; done prints one summary line', async () => {
  const lines: string[] = [];
  const p = new Progress('demo', 60_000, (l) => lines.push(l));
  let described = 0;
  for (let i = 0; i < 1000; i++) p.tick(() => `step ${++described}`);
  assert.equal(lines.length, 0, 'short work: no progress line before the summary');
  assert.equal(described, 0, 'describe is not called when throttled');
  p.done('42 things');
  assert.match(lines[0]!, /^\[demo\] 42 things in \d+\.\ds$/);
  const fast: string[] = [];
  const q = new Progress('demo', 20, (l) => fast.push(l));
  q.tick(() => 'too early');
  await new Promise((r) => setTimeout(r, 30));
  for (let i = 0; i < 1000; i++) q.tick(() => `step ${i}`);
  assert.deepEqual(fast.length, 1, 'one line once the interval has passed, then throttled again');
  assert.match(fast[0]!, /^\[demo\] step 0 \(\d+s\)$/);
});
