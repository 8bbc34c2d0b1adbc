// A stage killed (SIGKILL) mid-write never leaves a partial output at its out path — the only path
// DVC caches. Synth (default params: ~2 s of writing, ~50 MB) is killed at several points after
// its temp folder appears; the out path must then be absent (first run) or byte-identical to the
// previous complete run. The temp folder `.<name>.tmp-<pid>` of a killed run may remain: DVC never
// caches it (outs are exact paths), and the test checks that nothing else is left beside the out.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'fault-kill-'));
const out = join(root, 'synthetic');
/** ms after the temp folder appears; the last ones land in the rename or after it */
const KILL_AFTER_MS = [0, 150, 500, 1000];

after(() => rmSync(root, { recursive: true, force: true }));

/** npx → tsx → node: run in its own process group so SIGKILL reaches the writer, not just npx. */
function startSynth(): ChildProcess {
  return spawn('npx', ['tsx', 'stages/synth/main.ts', out], { cwd: REPO, detached: true, stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

function tempFolders(): string[] {
  return readdirSync(root).filter((n) => /^\.synthetic\.tmp-\d+$/.test(n));
}

/** Path → sha256 of every file under dir: equal digests mean an identical folder. */
function digest(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort();
  return new Map(files.map((f) => [f, createHash('sha256').update(readFileSync(join(dir, f)) as Uint8Array).digest('hex')]));
}

/** Starts synth, waits for its temp folder (a new one), waits `delayMs` more, kills the process group. */
async function killMidWrite(delayMs: number): Promise<{ signal: NodeJS.Signals | null; code: number | null }> {
  const before = new Set(tempFolders());
  const child = startSynth();
  const done = exited(child);
  const deadline = Date.now() + 60_000;
  while (!tempFolders().some((n) => !before.has(n)) && child.exitCode === null && Date.now() < deadline) await sleep(10);
  await sleep(delayMs);
  try {
    process.kill(-child.pid!, 'SIGKILL'); // the group we started (npx and its children)
  } catch {
    // already exited: the run completed before the kill landed
  }
  return done;
}

function assertNoPartialOutput(complete: Map<string, string> | null, label: string): void {
  if (!existsSync(out)) return; // absent is fine: nothing for DVC to cache
  assert.ok(complete !== null, `${label}: out path exists after a killed first run`);
  assert.deepEqual(digest(out), complete, `${label}: out path is not the previous complete version`);
}

test('synth killed mid-write leaves no partial out path (first run, then over a complete version)', { timeout: 300_000 }, async (t) => {
  // first run, killed while writing: nothing may appear at the out path
  const first = await killMidWrite(KILL_AFTER_MS[1]!);
  assert.equal(first.signal, 'SIGKILL', 'the run was killed before it finished (raise synth sizes if it is too fast)');
  assertNoPartialOutput(null, 'first run');

  // a complete run to compare against
  const full = startSynth();
  assert.deepEqual(await exited(full), { code: 0, signal: null });
  const complete = digest(out);
  assert.ok(complete.has('seq.jsonl') && complete.has('indexer.pkl'));

  let killedMidWrite = 0;
  for (const delay of KILL_AFTER_MS) {
    const r = await killMidWrite(delay);
    if (r.signal === 'SIGKILL') killedMidWrite++;
    assertNoPartialOutput(complete, `killed ${delay} ms into the write`);
  }
  assert.ok(killedMidWrite >= 2, 'at least two reruns were killed mid-write');

  // what a kill leaves beside the out path: only `.synthetic.tmp-<pid>` folders, never another name
  const beside = readdirSync(root).filter((n) => n !== 'synthetic');
  assert.deepEqual(beside.filter((n) => !/^\.synthetic\.tmp-\d+$/.test(n)), []);
  t.diagnostic(`${killedMidWrite}/${KILL_AFTER_MS.length} reruns killed mid-write; ${beside.length} temp folder(s) left beside the out path`);
});
