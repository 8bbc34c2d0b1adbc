// bench/quality.ts — the quality bench: every model against every dataset, over several seeds, through
// the pipeline's own stages (as dvc.yaml runs them), with the popularity baseline beside each.
//   npx tsx bench/quality.ts --ml100k DIR [--datasets synthetic,ml-100k,sparse] [--models hstu,sasrec]
//                            [--seeds 1,2,3] [--set key=value ...] [--recbole] [--out DIR] [--tag NAME]
// Datasets: `synthetic` (params.yaml's synth data), `sparse` (profiles/sparse.yaml), `ml-100k` (RecBole's
// ml-100k folder given by --ml100k, through the import stage; the bench fetches nothing). Each dataset's
// raw → ingest → features → negatives run once (params at seed 42); train + evaluate run per model and
// seed with `seed` set. `--set` overrides params for every run (ablations); `--recbole` adds RecBole's
// SASRec (bench/peers/recbole_sasrec.py, venv by bench/peers/setup-recbole.sh) on the same raw folders.
// Prints one table (test HR@10, NDCG@10, Score as mean ± sd; best validation Score; steps; train s) and
// writes every run to <out>/quality-<tag>.tsv (default out: bench/out, git-ignored).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

const repo = resolve(new URL('..', import.meta.url).pathname);

interface Args {
  datasets: string[];
  models: string[];
  seeds: number[];
  set: Record<string, unknown>;
  ml100k: string | null;
  recbole: boolean;
  out: string;
  tag: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { datasets: ['synthetic', 'ml-100k', 'sparse'], models: ['hstu', 'sasrec'], seeds: [1, 2, 3], set: {}, ml100k: null, recbole: false, out: join(repo, 'bench/out'), tag: 'default' };
  for (let k = 0; k < argv.length; k++) {
    const flag = argv[k]!;
    const value = (): string => {
      const v = argv[++k];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--datasets') a.datasets = value().split(',');
    else if (flag === '--models') a.models = value().split(',');
    else if (flag === '--seeds') a.seeds = value().split(',').map(Number);
    else if (flag === '--ml100k') a.ml100k = resolve(value());
    else if (flag === '--out') a.out = resolve(value());
    else if (flag === '--tag') a.tag = value();
    else if (flag === '--recbole') a.recbole = true;
    else if (flag === '--set') {
      const [key, ...rest] = value().split('=');
      a.set[key!] = parse(rest.join('='));
    } else throw new Error(`unknown flag ${flag} (see the comment at the top of bench/quality.ts)`);
  }
  if (a.datasets.includes('ml-100k') && a.ml100k === null) throw new Error('ml-100k needs --ml100k DIR (RecBole\'s recbole/dataset_example/ml-100k folder)');
  return a;
}

/** Runs one stage's CLI as dvc.yaml does; returns its wall seconds; throws with its stderr on failure. */
function stage(name: string, args: string[], params: string | null): number {
  const t0 = Date.now();
  const argv = ['--import', 'tsx', join(repo, `stages/${name}/main.ts`), ...args, ...(params ? ['--params', params] : [])];
  const r = spawnSync(process.execPath, argv, { cwd: repo, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${name} failed:\n${r.stderr.split('\n').slice(-15).join('\n')}`);
  return (Date.now() - t0) / 1000;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function paramsFile(file: string, base: string, over: Record<string, unknown>): string {
  const p = parse(readFileSync(join(repo, base), 'utf8')) as Record<string, unknown>;
  writeFileSync(file, stringify({ ...p, ...over }));
  return file;
}

interface Dataset {
  name: string;
  base: string; // params file the dataset starts from
  over: Record<string, unknown>;
  makeRaw: (raw: string, params: string) => void;
}

function datasets(a: Args): Dataset[] {
  const all: Dataset[] = [
    { name: 'synthetic', base: 'params.yaml', over: {}, makeRaw: (raw, p) => void stage('synth', [raw], p) },
    { name: 'sparse', base: 'profiles/sparse.yaml', over: {}, makeRaw: (raw, p) => void stage('synth', [raw], p) },
    {
      name: 'ml-100k',
      base: 'params.yaml',
      over: { mm_emb_id: [] },
      makeRaw: (raw) => void stage('import', [join(a.ml100k ?? '', 'ml-100k.inter'), raw], null),
    },
  ];
  return a.datasets.map((d) => {
    const found = all.find((x) => x.name === d);
    if (!found) throw new Error(`unknown dataset ${d} (synthetic, sparse, ml-100k)`);
    return found;
  });
}

interface EvalMetrics {
  model: { 'hr@10': number; 'ndcg@10': number; score: number };
  popularity: { 'hr@10': number; 'ndcg@10': number; score: number };
}
interface TrainMetrics {
  steps: number;
  best: { score: number; step: number } | null;
}

interface Row {
  dataset: string;
  model: string;
  seed: number | string;
  valid_score: number;
  hr10: number;
  ndcg10: number;
  score: number;
  steps: number;
  train_s: number;
}

function prepare(d: Dataset, dir: string, a: Args): string {
  mkdirSync(dir, { recursive: true });
  const raw = join(dir, 'raw');
  const p = paramsFile(join(dir, 'data-params.yaml'), d.base, { ...d.over, ...a.set, seed: 42, raw_dir: raw });
  rmSync(raw, { recursive: true, force: true });
  d.makeRaw(raw, p);
  for (const [s, args] of [
    ['ingest', [raw, join(dir, 'ingest')]],
    ['features', [join(dir, 'ingest'), join(dir, 'features')]],
    ['negatives', [join(dir, 'ingest'), join(dir, 'negatives')]],
  ] as const) stage(s, [...args], p);
  return raw;
}

function runModel(d: Dataset, dir: string, raw: string, model: string, seed: number, a: Args): { row: Row; pop: Row } {
  const run = join(dir, `${model}-s${seed}`);
  rmSync(run, { recursive: true, force: true });
  mkdirSync(run, { recursive: true });
  const p = paramsFile(join(run, 'params.yaml'), d.base, { ...d.over, ...a.set, seed, model_type: model, raw_dir: raw });
  const trainS = stage('train', [join(dir, 'ingest'), join(dir, 'features'), join(dir, 'negatives'), join(run, 'model'), join(run, 'train.json'), join(run, 'train-report.json'), join(run, 'plots')], p);
  stage('evaluate', [join(dir, 'ingest'), join(dir, 'features'), join(run, 'model'), join(run, 'evaluate.json'), join(run, 'evaluate-report.json'), join(run, 'eplots')], p);
  const t = readJson<TrainMetrics>(join(run, 'train.json'));
  const e = readJson<EvalMetrics>(join(run, 'evaluate.json'));
  const row: Row = { dataset: d.name, model, seed, valid_score: t.best?.score ?? NaN, hr10: e.model['hr@10'], ndcg10: e.model['ndcg@10'], score: e.model.score, steps: t.steps, train_s: trainS };
  const pop: Row = { dataset: d.name, model: 'popularity', seed: '-', valid_score: NaN, hr10: e.popularity['hr@10'], ndcg10: e.popularity['ndcg@10'], score: e.popularity.score, steps: 0, train_s: 0 };
  return { row, pop };
}

function runRecbole(d: Dataset, dir: string, raw: string, a: Args): Row[] {
  const py = join(repo, '.venv-bench/bin/python');
  if (!existsSync(py)) throw new Error('--recbole needs the bench venv: bash bench/peers/setup-recbole.sh');
  const out = join(dir, 'recbole.tsv');
  const r = spawnSync(py, [join(repo, 'bench/peers/recbole_sasrec.py'), raw, '--seeds', a.seeds.join(','), '--out', out], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`recbole_sasrec.py failed on ${d.name}`);
  const [header, ...lines] = readFileSync(out, 'utf8').trim().split('\n');
  const cols = header!.split('\t');
  const get = (cells: string[], name: string): number => Number(cells[cols.indexOf(name)]);
  return lines
    .map((l) => l.split('\t'))
    .filter((c) => /^\d+$/.test(c[cols.indexOf('seed')] ?? ''))
    .map((c) => ({
      dataset: d.name, model: 'recbole-sasrec', seed: get(c, 'seed'), valid_score: 0.31 * get(c, 'valid_HR@10') + 0.69 * get(c, 'valid_NDCG@10'),
      hr10: get(c, 'test_HR@10'), ndcg10: get(c, 'test_NDCG@10'), score: get(c, 'test_Score'), steps: get(c, 'epochs'), train_s: get(c, 'train_s'),
    }));
}

function meanSd(xs: number[], digits = 4): string {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return '–';
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)) : 0;
  return v.length > 1 && sd > 0 ? `${m.toFixed(digits)} ± ${sd.toFixed(digits)}` : m.toFixed(digits);
}

function table(rows: Row[], a: Args): string {
  const lines = ['| dataset | model | seeds | test HR@10 | test NDCG@10 | test Score | best valid Score | steps | train s |', '|---|---|---|---|---|---|---|---|---|'];
  const order = ['popularity', ...a.models, 'recbole-sasrec'];
  for (const d of a.datasets) {
    for (const m of order) {
      const rs = rows.filter((r) => r.dataset === d && r.model === m);
      if (rs.length === 0) continue;
      const seeds = m === 'popularity' ? '–' : String(rs.length);
      const steps = m === 'popularity' ? '–' : meanSd(rs.map((r) => r.steps), 0);
      const secs = m === 'popularity' ? '–' : (rs.reduce((s, r) => s + r.train_s, 0) / rs.length).toFixed(0);
      lines.push(`| ${d} | ${m === 'recbole-sasrec' ? 'RecBole SASRec' : m} | ${seeds} | ${meanSd(rs.map((r) => r.hr10))} | ${meanSd(rs.map((r) => r.ndcg10))} | ${meanSd(rs.map((r) => r.score))} | ${meanSd(rs.map((r) => r.valid_score))} | ${steps} | ${secs} |`);
    }
  }
  return lines.join('\n');
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const work = join(a.out, `quality-${a.tag}`);
  const rows: Row[] = [];
  const tsv = join(a.out, `quality-${a.tag}.tsv`);
  mkdirSync(a.out, { recursive: true });
  const save = (): void => {
    const cols: (keyof Row)[] = ['dataset', 'model', 'seed', 'valid_score', 'hr10', 'ndcg10', 'score', 'steps', 'train_s'];
    writeFileSync(tsv, [cols.join('\t'), ...rows.map((r) => cols.map((c) => String(r[c])).join('\t'))].join('\n') + '\n');
  };
  console.error(`[quality] datasets ${a.datasets.join(', ')}; models ${a.models.join(', ')}; seeds ${a.seeds.join(', ')}; overrides ${JSON.stringify(a.set)}`);
  for (const d of datasets(a)) {
    const dir = join(work, d.name);
    const raw = prepare(d, dir, a);
    let popDone = false;
    for (const model of a.models) {
      for (const seed of a.seeds) {
        const { row, pop } = runModel(d, dir, raw, model, seed, a);
        rows.push(row);
        if (!popDone) rows.push(pop);
        popDone = true;
        save();
        console.error(`[quality] ${d.name} ${model} seed ${seed}: test Score ${row.score.toFixed(4)} (popularity ${pop.score.toFixed(4)}), best valid ${row.valid_score.toFixed(4)}, ${row.steps} steps, ${row.train_s.toFixed(0)} s`);
      }
    }
    if (a.recbole) {
      rows.push(...runRecbole(d, dir, raw, a));
      save();
    }
  }
  console.log(table(rows, a));
  console.log(`\nruns: ${tsv}`);
}

main();
