// bench/import.ts — import throughput (rows/s) on a generated CSV, beside ingest's (item records/s) on
// the folder import wrote. Each run is a child process (the stage's CLI, as dvc runs it) under
// /usr/bin/time -v, which reports wall time and max RSS.
//   npx tsx bench/import.ts [rows]        (default: 1000000 rows; ~50k users, ~100k items, Zipf items)
// The CSV is cached under $BENCH_DIR (default /tmp/bench-import) and made only when missing.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const benchDir = process.env.BENCH_DIR ?? '/tmp/bench-import';
const rows = Number(process.argv[2] ?? 1_000_000);

function timed(argv: string[]): { seconds: number; maxRssMb: number } {
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  if (!rss || !wall) throw new Error(`no /usr/bin/time -v figures in:\n${r.stderr}`);
  return { seconds: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]), maxRssMb: Number(rss[1]) / 1024 };
}

/** user_id,item_id,rating,timestamp rows in a shuffled-ish order (users interleaved), seeded. */
function writeCsv(file: string, n: number): void {
  const users = Math.max(1, Math.round(n / 20));
  const items = Math.max(1, Math.round(n / 10));
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const fd = openSync(file, 'w');
  const chunk: string[] = ['user_id,item_id,rating,timestamp\n'];
  for (let k = 0; k < n; k++) {
    const u = Math.floor(rand() * users);
    const i = Math.floor(items * rand() ** 3); // a popularity tail
    chunk.push(`${u},${i},${1 + Math.floor(rand() * 5)},${1_600_000_000 + Math.floor(rand() * 3e7)}\n`);
    if (chunk.length >= 100_000) writeSync(fd, chunk.splice(0).join(''));
  }
  writeSync(fd, chunk.join(''));
  closeSync(fd);
}

mkdirSync(benchDir, { recursive: true });
const csv = join(benchDir, `ratings-${rows}.csv`);
if (!existsSync(csv)) writeCsv(csv, rows);
const raw = join(benchDir, `raw-${rows}`);
const ingestOut = join(benchDir, `ingest-${rows}`);
const params = join(benchDir, 'params.yaml');
writeFileSync(params, readFileSync(join(repo, 'params.yaml'), 'utf8').replace(/^mm_emb_id: .*$/m, 'mm_emb_id: []'));

const imp = timed(['npx', 'tsx', 'stages/import/main.ts', csv, raw]);
const summary = JSON.parse(readFileSync(join(raw, 'import.json'), 'utf8')) as { rows: number; users: number; items: number; events: number };
const ing = timed(['npx', 'tsx', 'stages/ingest/main.ts', raw, ingestOut, '--params', params]);
const mb = (f: string): string => (statSync(f).size / 2 ** 20).toFixed(0);
console.log(`CSV ${csv}: ${summary.rows} rows (${mb(csv)} MB) -> ${summary.users} users, ${summary.items} items; seq.jsonl ${mb(join(raw, 'seq.jsonl'))} MB`);
console.log('| stage | wall s | rows/s | max RSS MB |');
console.log('|---|---|---|---|');
console.log(`| import (CSV → TAAC folder) | ${imp.seconds.toFixed(1)} | ${Math.round(summary.rows / imp.seconds).toLocaleString('en')} | ${imp.maxRssMb.toFixed(0)} |`);
console.log(`| ingest (TAAC folder → Arrow/Parquet) | ${ing.seconds.toFixed(1)} | ${Math.round(summary.events / ing.seconds).toLocaleString('en')} | ${ing.maxRssMb.toFixed(0)} |`);
