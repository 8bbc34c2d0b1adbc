// Stage-level fuzz: the ingest stage (spawned as dvc would run it) on a tiny synthetic raw folder with
// one input file mutated. Each run must either succeed with a complete output, or exit non-zero with
// exactly one `[ingest] error: …` line naming a raw file — no stack trace, no internal error — and
// leave neither the output folder nor its temp folder behind. A run past the time bound is a hang.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { writeSyntheticDataset } from '../../stages/synth/write.ts';
import { describeMutations, fuzzCases, fuzzSeed, mutateCase } from './mutate.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SEED = fuzzSeed(20250604);
const RUN_TIMEOUT_MS = 30_000; // ~1 s normally; generous for a loaded 2-core CI box
const PARALLEL = 2;
/** The raw files ingest reads, each mutated in turn. */
const TARGETS = ['seq.jsonl', 'indexer.pkl', 'seq_offsets.pkl', 'item_feat_dict.json', 'creative_emb/emb_81_32/part-00000'];

let root = '';
let cleanRaw = '';
/** on_bad_line: error (even cases) and skip (odd cases: a bad seq/emb line is counted, not fatal) */
const paramsFiles = { error: '', skip: '' };

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runIngest(raw: string, out: string, paramsFile: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'stages/ingest/main.ts', raw, out, '--params', paramsFile], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stderr }));
  });
}

/** What is wrong with one run's result, or null. */
function judge(run: Run, raw: string, caseDir: string, out: string): string | null {
  if (run.signal !== null) return `killed by ${run.signal} (over ${RUN_TIMEOUT_MS} ms: hang?)`;
  const leftovers = readdirSync(caseDir).filter((n) => n.startsWith('.out.tmp-'));
  if (leftovers.length > 0) return `temp folder left behind: ${leftovers.join(', ')}`;
  if (run.status === 0) {
    if (!existsSync(join(out, 'manifest.json'))) return 'exit 0 without manifest.json';
    return null;
  }
  if (existsSync(out)) return `exit ${run.status} but the output folder exists`;
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  const errors = lines.filter((l) => /error/i.test(l) && !/^\[ingest\] \d+ lines/.test(l));
  if (run.stderr.includes('internal error') || /\n\s+at /.test(run.stderr)) return `stack trace: ${run.stderr.slice(0, 600)}`;
  if (errors.length !== 1 || errors[0] !== lines[lines.length - 1]) return `expected one final error line, got: ${run.stderr.slice(0, 600)}`;
  if (!errors[0]!.startsWith('[ingest] error: ')) return `error line not in the '[ingest] error: …' form: ${errors[0]}`;
  if (!errors[0]!.includes(raw)) return `error line names no raw file: ${errors[0]}`;
  return null;
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'fuzz-ingest-'));
  cleanRaw = join(root, 'raw');
  mkdirSync(cleanRaw);
  writeSyntheticDataset(cleanRaw, {
    seed: 5, synth_users: 10, synth_items: 40, synth_topics: 3, synth_days: 10,
    synth_min_len: 11, synth_max_len: 30, synth_predict_users: 0, synth_mm_large_dim: 8,
    synth_len_power: 0.5, synth_user_profiles: true, synth_all_clicks: false, synth_oracle: true,
  });
  const params = parse(readFileSync(join(REPO, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  for (const mode of ['error', 'skip'] as const) {
    paramsFiles[mode] = join(root, `params-${mode}.yaml`);
    writeFileSync(paramsFiles[mode], stringify({ ...params, mm_emb_id: ['81'], on_bad_line: mode, shard_users: 4, io_concurrency: 2 }));
  }
});

after(() => rmSync(root, { recursive: true, force: true }));

test('ingest on a mutated raw folder: success or one clear error line, never a partial output', { timeout: 600_000 }, async (t) => {
  for (const f of TARGETS) assert.ok(existsSync(join(cleanRaw, f)), `synth wrote ${f}`);
  // the clean folder ingests, so every failure below is the mutation's
  const clean = await runIngest(cleanRaw, join(root, 'clean-out'), paramsFiles.error);
  assert.equal(clean.status, 0, clean.stderr);

  const count = fuzzCases(40);
  const problems: string[] = [];
  let failures = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const target = TARGETS[Math.floor(i / 2) % TARGETS.length]!;
      const caseDir = join(root, `case-${i}`);
      const raw = join(caseDir, 'raw');
      const out = join(caseDir, 'out');
      cpSync(cleanRaw, raw, { recursive: true });
      const { bytes, mutations } = mutateCase(readFileSync(join(raw, target)), SEED, i);
      writeFileSync(join(raw, target), bytes);
      const run = await runIngest(raw, out, i % 2 === 0 ? paramsFiles.error : paramsFiles.skip);
      const bad = judge(run, raw, caseDir, out);
      if (bad !== null) problems.push(`case ${i} (seed ${SEED}) ${target} [${describeMutations(mutations)}]: ${bad}`);
      if (run.status !== 0) failures++;
      if (process.env['FUZZ_DEBUG']) t.diagnostic(`case ${i} ${target}: ${run.stderr.trim().split('\n').pop()}`);
      rmSync(caseDir, { recursive: true, force: true });
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  assert.deepEqual(problems, []);
  assert.ok(failures > 0, 'some mutations are refused (the fuzz is not vacuous)');
  t.diagnostic(`${count} runs (seed ${SEED}): ${count - failures} succeeded, ${failures} refused with one error line`);
});
