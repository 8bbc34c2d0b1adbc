import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDirAtomic, writeFileAtomic, stableJson } from '../../../core/stage/atomic.ts';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'atomic-'));

test('writeFileAtomic writes the bytes and leaves no temp file', () => {
  const dir = fresh();
  writeFileAtomic(join(dir, 'sub', 'a.json'), stableJson({ b: 1 }));
  assert.equal(readFileSync(join(dir, 'sub', 'a.json'), 'utf8'), '{\n  "b": 1\n}\n');
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['a.json']);
});

test('writeDirAtomic replaces the target only on success', async () => {
  const dir = fresh();
  const target = join(dir, 'out');
  await writeDirAtomic(target, (tmp) => writeFileSync(join(tmp, 'x'), 'one'));
  assert.equal(readFileSync(join(target, 'x'), 'utf8'), 'one');
  await assert.rejects(
    writeDirAtomic(target, (tmp) => {
      writeFileSync(join(tmp, 'x'), 'half');
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(readFileSync(join(target, 'x'), 'utf8'), 'one', 'old output untouched');
  assert.deepEqual(readdirSync(dir), ['out'], 'temp dir removed');
});

test('a failed first run leaves no output at all', async () => {
  const dir = fresh();
  await assert.rejects(writeDirAtomic(join(dir, 'out'), () => { throw new Error('bad input'); }), /bad input/);
  assert.equal(existsSync(join(dir, 'out')), false);
  assert.deepEqual(readdirSync(dir), []);
});

test('an output path under a regular file is a clear error', () => {
  const dir = fresh();
  writeFileSync(join(dir, 'file'), '');
  assert.throws(() => writeFileAtomic(join(dir, 'file', 'sub', 'x'), 'x'), /cannot create output directory .*file\/sub: .*file is not a directory/);
});

test('temp outputs of killed runs are removed by the next write; live ones are kept', async () => {
  const dir = fresh();
  const dead = join(dir, '.out.tmp-999999999');
  const live = join(dir, `.out.tmp-${process.ppid}`);
  mkdirSync(dead);
  mkdirSync(live);
  await writeDirAtomic(join(dir, 'out'), (tmp) => writeFileSync(join(tmp, 'x'), 'ok'));
  assert.deepEqual(readdirSync(dir).sort(), ['.out.tmp-' + process.ppid, 'out']);
});
