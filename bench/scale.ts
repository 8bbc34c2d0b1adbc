// bench/scale.ts — does the pipeline hold at scale in bounded memory (SPEC §4: "memory is bounded by a
// shard, not by the dataset")? Runs synth → ingest → features → negatives → train (one epoch) [→ evaluate, predict]
// with profiles/scale-100k.yaml at several user counts (items and shard size fixed by the profile, so
// only the number of users changes) and prints each stage's wall time and peak RSS, plus the RSS ratio
// of the largest size to the smallest, and each size's validation Scores (best and last: more data must not
// make the model worse, nor training collapse late). Each stage is a child `node --import tsx stages/<name>/main.ts`
// under /usr/bin/time -v (GNU time; `apt-get install time` if missing), whose max RSS is the figure.
//   npx tsx bench/scale.ts [users ...]     (default: 10000 100000; the 100k train epoch takes ~15+ min)
//   SCALE_STAGES=synth,ingest,...          stages to run (default: all but evaluate and predict; add them by name)
//   BENCH_DIR=/tmp/bench-scale             where the data goes (one folder per size, overwritten)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';

const repo = new URL('..', import.meta.url).pathname;
const benchDir = process.env.BENCH_DIR ?? '/tmp/bench-scale';
const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(10_000, 100_000);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 10)) throw new Error(`sizes must be user counts >= 10, got ${process.argv.slice(2).join(' ')}`);
const allStages = ['synth', 'ingest', 'features', 'negatives', 'train', 'evaluate', 'predict'] as const;
type Stage = (typeof allStages)[number];
const stages = (process.env.SCALE_STAGES?.split(',') ?? allStages.filter((s) => s !== 'evaluate' && s !== 'predict')) as Stage[];
for (const s of stages) if (!allStages.includes(s)) throw new Error(`unknown stage '${s}' in SCALE_STAGES`);
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time (GNU time) is missing: apt-get install time');

interface Timed {
  seconds: number;
  maxRssMb: number;
  summary: string; // the stage's last stderr line (its one summary line)
}

/** Runs argv under /usr/bin/time -v, its stderr streamed to a log file; throws with the log's tail on failure. */
function timed(argv: string[], logFile: string): Timed {
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { cwd: repo, encoding: 'utf8', maxBuffer: 256 << 20 });
  writeFileSync(logFile, r.stderr);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (log ${logFile}):\n${r.stderr.slice(-4000)}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  if (!rss || !wall) throw new Error(`no /usr/bin/time -v figures in ${logFile}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const summary = r.stderr.split('\n').filter((l) => /^\[\w+\] /.test(l)).at(-1) ?? '';
  return { seconds, maxRssMb: Number(rss[1]) / 1024, summary };
}

/** profiles/scale-100k.yaml with synth_users set to `users`, written into `dir`. */
function writeParams(dir: string, users: number): string {
  const profile = parse(readFileSync(join(repo, 'profiles/scale-100k.yaml'), 'utf8')) as Record<string, unknown>;
  profile.synth_users = users;
  const file = join(dir, 'params.yaml');
  writeFileSync(file, stringify(profile));
  return file;
}

/** Each stage's positional paths, as in dvc.yaml's cmd with data/ → dir. */
function stagePaths(stage: Stage, dir: string): string[] {
  const d = (p: string): string => join(dir, p);
  switch (stage) {
    case 'synth': return [d('raw')];
    case 'ingest': return [d('raw'), d('ingest'), d('ingest-predict')];
    case 'features': return [d('ingest'), d('features'), d('ingest-predict'), d('features-predict')];
    case 'negatives': return [d('ingest'), d('negatives')];
    case 'train': return [d('ingest'), d('features'), d('negatives'), d('models/model'), d('metrics/train.json'), d('reports/train.json'), d('plots/train')];
    case 'evaluate': return [d('ingest'), d('features'), d('models/model'), d('metrics/evaluate.json'), d('reports/evaluate.json'), d('plots/evaluate')];
    case 'predict': return [d('ingest'), d('features'), d('ingest-predict'), d('features-predict'), d('models/model'), d('predict')];
    default: {
      const never: never = stage;
      return never;
    }
  }
}

const results = new Map<string, Timed>(); // `${stage}@${users}`
const row = (cells: (string | number)[]): string => cells.map((c, i) => String(c).padStart(i === 0 ? 10 : 12)).join(' ');
for (const users of sizes) {
  const dir = join(benchDir, `u${users}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const params = writeParams(dir, users);
  for (const stage of stages) {
    const argv = [process.execPath, '--import', 'tsx', `stages/${stage}/main.ts`, ...stagePaths(stage, dir), '--params', params];
    const t = timed(argv, join(dir, `${stage}.log`));
    results.set(`${stage}@${users}`, t);
    process.stdout.write(`${row([stage, users, t.seconds.toFixed(1), t.maxRssMb.toFixed(0)])}   ${t.summary}\n`);
  }
}

/** The validation Scores of a size's training (plots/train/valid.tsv): best (and its step) and last. */
function validationSummary(dir: string): string | null {
  const file = join(dir, 'plots/train/valid.tsv');
  if (!existsSync(file)) return null;
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = header!.split('\t');
  const [stepCol, scoreCol] = [cols.indexOf('step'), cols.indexOf('score')];
  const evals = rows.map((l) => l.split('\t')).map((v) => ({ step: Number(v[stepCol]), score: Number(v[scoreCol]) }));
  if (evals.length === 0) return null;
  const best = evals.reduce((a, b) => (b.score > a.score ? b : a));
  const last = evals.at(-1)!;
  return `${evals.length} validations: best Score ${best.score.toFixed(4)} at step ${best.step}, last ${last.score.toFixed(4)} at step ${last.step} (${((100 * last.score) / best.score).toFixed(1)}% of the best)`;
}

if (stages.includes('train')) {
  process.stdout.write('\n');
  for (const users of sizes) process.stdout.write(`validation at ${users} users: ${validationSummary(join(benchDir, `u${users}`)) ?? 'none'}\n`);
}

const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
process.stdout.write(`\n${row(['stage', ...sizes.flatMap((u) => [`${u} wall s`, `${u} RSS MB`]), `RSS ${large}/${small}`])}\n`);
for (const stage of stages) {
  const cells = sizes.flatMap((u) => {
    const t = results.get(`${stage}@${u}`)!;
    return [t.seconds.toFixed(1), t.maxRssMb.toFixed(0)];
  });
  const ratio = results.get(`${stage}@${large}`)!.maxRssMb / results.get(`${stage}@${small}`)!.maxRssMb;
  process.stdout.write(`${row([stage, ...cells, ratio.toFixed(2)])}\n`);
}
