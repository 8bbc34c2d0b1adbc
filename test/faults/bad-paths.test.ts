// Every stage's main.ts on a bad path: a missing input folder, an output whose parent is a file, an
// output under an immutable folder (chattr +i: we run as root, so chmod would not stop the write) and
// an output under /proc. Each must exit 1 with one `[stage] error: …` line naming the path — no stack
// trace — and leave nothing at the out path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { writeSyntheticDataset } from '../../stages/synth/write.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'fault-paths-'));
const raw = join(root, 'raw');
const ingestDir = join(root, 'ingest');
const paramsFile = join(root, 'params.yaml');
const aFile = join(root, 'a-file'); // a regular file where a folder is expected
const immutable = join(root, 'immutable'); // chattr +i when the filesystem allows it
let immutableOk = false;

type Stage = 'synth' | 'ingest' | 'features' | 'negatives';

interface Run {
  status: number | null;
  stderr: string;
}

function runStage(stage: Stage, paths: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `stages/${stage}/main.ts`, ...paths, '--params', paramsFile], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

/** Exit 1, the last stderr line is the one `[stage] error:` line and names `named`; no trace. */
function assertOneErrorLine(stage: Stage, r: Run, named: string): void {
  assert.equal(r.status, 1, `${stage}: exit status (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, `${stage}: no stack trace`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => l.includes('error'));
  assert.equal(errors.length, 1, `${stage}: one error line in ${JSON.stringify(lines)}`);
  assert.equal(errors[0], lines[lines.length - 1], `${stage}: the error is the last line`);
  assert.ok(errors[0]!.startsWith(`[${stage}] error: `), errors[0]);
  assert.ok(errors[0]!.includes(named), `${stage}: "${errors[0]}" names ${named}`);
}

before(async () => {
  mkdirSync(raw);
  writeSyntheticDataset(raw, {
    seed: 3, synth_users: 8, synth_items: 30, synth_topics: 2, synth_days: 10,
    synth_min_len: 11, synth_max_len: 20, synth_predict_users: 0, synth_mm_large_dim: 8,
    synth_len_power: 0.5, synth_user_profiles: true, synth_all_clicks: false, synth_oracle: true,
  });
  const params = parse(readFileSync(join(REPO, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  writeFileSync(paramsFile, stringify({ ...params, synth_users: 8, synth_items: 30, synth_predict_users: 0, mm_emb_id: ['81'], shard_users: 4 }));
  writeFileSync(aFile, 'not a folder\n');
  mkdirSync(immutable);
  immutableOk = spawnSync('chattr', ['+i', immutable]).status === 0;
  const r = await runStage('ingest', [raw, ingestDir]);
  assert.equal(r.status, 0, r.stderr);
});

after(() => {
  if (immutableOk) spawnSync('chattr', ['-i', immutable]);
  rmSync(root, { recursive: true, force: true });
});

/** Each stage's positional paths with the given input and output. */
function argsFor(stage: Stage, input: string, output: string): string[] {
  return stage === 'synth' ? [output] : [input, output];
}

const INPUT: Record<Stage, () => string> = { synth: () => '', ingest: () => raw, features: () => ingestDir, negatives: () => ingestDir };
const STAGES: Stage[] = ['synth', 'ingest', 'features', 'negatives'];

test('missing input folder: one error line naming it, no output', { timeout: 300_000 }, async () => {
  const missing = join(root, 'no-such-input');
  await Promise.all(
    STAGES.filter((s) => s !== 'synth').map(async (stage) => {
      const out = join(root, `out-missing-${stage}`);
      assertOneErrorLine(stage, await runStage(stage, argsFor(stage, missing, out)), missing);
      assert.equal(existsSync(out), false, `${stage}: no output`);
    }),
  );
});

test('output under a regular file: one error line naming the path, no output', { timeout: 300_000 }, async () => {
  const out = join(aFile, 'out');
  await Promise.all(STAGES.map(async (stage) => assertOneErrorLine(stage, await runStage(stage, argsFor(stage, INPUT[stage](), out)), aFile)));
  assert.equal(readFileSync(aFile, 'utf8'), 'not a folder\n', 'the file is untouched');
});

test('output under an immutable folder (chattr +i): one error line naming the folder, no output', { timeout: 300_000 }, async (t) => {
  if (!immutableOk) {
    t.skip('chattr +i is not available on this filesystem');
    return;
  }
  await Promise.all(
    STAGES.map(async (stage) => {
      const out = join(immutable, `out-${stage}`);
      assertOneErrorLine(stage, await runStage(stage, argsFor(stage, INPUT[stage](), out)), immutable);
      assert.equal(existsSync(out), false, `${stage}: no output`);
    }),
  );
});

// On Node 20, mkdirSync(p, { recursive: true }) loops forever under /proc (mkdir answers ENOENT
// there); core/stage/atomic.ts walks the path itself, so stages fail fast. The short kill timeout keeps a
// regression from costing CI minutes.
test('output under /proc: one error line naming the path', { timeout: 120_000 }, async () => {
  const out = '/proc/no-such-dir/out';
  await Promise.all(
    STAGES.map(async (stage) => assertOneErrorLine(stage, await runStage(stage, argsFor(stage, INPUT[stage](), out), 8_000), '/proc/no-such-dir')),
  );
});
