// Shared by the DVC end-to-end tests: a git repo holding the project's tracked files as they are in the
// working tree (node_modules linked, dvc.lock left out) with params overrides, and a runner for the
// commands they run in it. Not a test file itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from './stage-runner.ts';

export const DVC_BIN = join(ROOT, '.venv/bin/dvc');

/** Params small enough for a whole pipeline run in seconds. */
export const TINY = {
  synth_users: 150, synth_items: 400, synth_topics: 6, synth_predict_users: 20, shard_users: 100,
  maxlen: 20, hidden_units: 16, num_blocks: 1, num_heads: 2, linear_dim: 8, attention_dim: 8, rope_partial_dim: 4,
  batch_size: 32, num_epochs: 1, num_negatives: 64, ckpt_every_steps: 1000,
  // sampled negatives, so that a negatives-stage param (neg_bucket_weights) changes training: the e2e test
  // checks DVC reruns train and evaluate after it (with all_items the model would not change)
  loss_negatives: 'mixed',
};

/** The environment commands run in: the project's venv and node_modules/.bin first on PATH. */
export const runEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${join(ROOT, '.venv/bin')}:${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` });

/** Runs `cmd args` in `cwd` with runEnv(); fails the test on a non-zero exit. */
export function run(cwd: string, cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: runEnv(),
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** The stages `dvc repro` / `dvc exp run` ran, in order, from their output. */
export const stagesRun = (out: string): string[] => [...out.matchAll(/Running stage '([a-z]+)'/g)].map((m) => m[1]!);

export function gitCommit(dir: string, message: string): void {
  run(dir, 'git', ['add', '-A']);
  run(dir, 'git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-qm', message]);
}

/** A committed copy of the project with `params` applied over params.yaml. */
export function copyProject(params: Record<string, unknown>): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'dvc-e2e-')), 'project');
  const files = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
  for (const f of files) {
    if (f === 'dvc.lock' || !existsSync(join(ROOT, f))) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(dir, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const base = parse(readFileSync(join(ROOT, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'params.yaml'), stringify({ ...base, ...params }));
  run(dir, 'git', ['init', '-q']);
  gitCommit(dir, 'baseline');
  return dir;
}
