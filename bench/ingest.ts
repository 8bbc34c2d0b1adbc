// bench/ingest.ts — ingest throughput (item records/s) and peak RSS on synthetic TAAC data at
// several sizes, beside DuckDB (read_json_objects → one row per item record → ZSTD Parquet) on the
// same seq.jsonl. Each run is a child process under /usr/bin/time -v, which reports its max RSS.
//   npx tsx bench/ingest.ts [users ...]          (default: 10000 100000)
//   DUCKDB_PYTHON=/tmp/duckvenv/bin/python       a python with the duckdb wheel (skipped if absent)
// Data is cached under $BENCH_DIR (default /tmp/bench-ingest); synth runs only when missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const benchDir = process.env.BENCH_DIR ?? '/tmp/bench-ingest';
const duckPython = process.env.DUCKDB_PYTHON ?? '/tmp/duckvenv/bin/python';
const sizes = process.argv.slice(2).map(Number);
if (sizes.length === 0) sizes.push(10_000, 100_000);

interface Timed {
  seconds: number;
  maxRssMb: number;
  stdout: string;
}

/** Runs argv under /usr/bin/time -v; throws with the child's stderr on failure. */
function timed(argv: string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  if (!rss || !wall) throw new Error(`no /usr/bin/time -v figures in:\n${r.stderr}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { seconds, maxRssMb: Number(rss[1]) / 1024, stdout: r.stdout };
}

/** params.yaml with the bench's sizes (synth_* and mm_emb_id), written beside the data. */
function writeParams(dir: string, users: number): string {
  const set: Record<string, string> = {
    synth_users: String(users),
    synth_items: String(users * 2),
    synth_predict_users: '0',
    mm_emb_id: "['81']",
    shard_users: '20000',
  };
  let yaml = readFileSync(join(repo, 'params.yaml'), 'utf8');
  for (const [k, v] of Object.entries(set)) yaml = yaml.replace(new RegExp(`^${k}: .*$`, 'm'), `${k}: ${v}`);
  const file = join(dir, 'params.yaml');
  writeFileSync(file, yaml);
  return file;
}

const DUCK_SQL = `
import sys, duckdb
src, dst = sys.argv[1], sys.argv[2]
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
con.execute(f"""
COPY (
  SELECT CAST(r->>0 AS INTEGER) AS "user", CAST(r->>1 AS INTEGER) AS item,
         CAST(r->>4 AS TINYINT) AS action, CAST(r->>5 AS UINTEGER) AS ts
  FROM (SELECT unnest(json_transform(json, '["JSON"]')) AS r
        FROM read_json_objects('{src}', format='newline_delimited'))
  WHERE r->>1 IS NOT NULL
) TO '{dst}' (FORMAT parquet, COMPRESSION zstd)""")
print(con.execute(f"SELECT count(*) FROM '{dst}'").fetchone()[0])
`;

const rows: string[] = [];
for (const users of sizes) {
  const dir = join(benchDir, String(users));
  mkdirSync(dir, { recursive: true });
  const params = writeParams(dir, users);
  const raw = join(dir, 'raw');
  if (!existsSync(join(raw, 'seq.jsonl'))) {
    process.stderr.write(`[bench] synth ${users} users -> ${raw}\n`);
    timed([process.execPath, '--import', 'tsx', 'stages/synth/main.ts', raw, '--params', params]);
  }
  const mb = statSync(join(raw, 'seq.jsonl')).size / 1e6;
  const out = join(dir, 'ingested');
  const ing = timed([process.execPath, '--import', 'tsx', 'stages/ingest/main.ts', raw, out, '--params', params]);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { events: number; shards: unknown[] };
  rows.push(
    `ingest  ${users} users, ${manifest.events} item records, seq.jsonl ${mb.toFixed(0)} MB, ${manifest.shards.length} shard(s): ` +
      `${ing.seconds.toFixed(1)} s, ${Math.round(manifest.events / ing.seconds)} item records/s, ${(mb / ing.seconds).toFixed(1)} MB/s, peak RSS ${ing.maxRssMb.toFixed(0)} MB`,
  );
  if (existsSync(duckPython)) {
    const duck = timed([duckPython, '-c', DUCK_SQL, join(raw, 'seq.jsonl'), join(dir, 'duckdb-events.parquet')]);
    const n = Number(/(\d+)\s*$/.exec(duck.stdout)?.[1]); // the count is the last line (DuckDB may print a progress bar first)
    rows.push(`duckdb  ${users} users, ${n} item records: ${duck.seconds.toFixed(1)} s, ${Math.round(n / duck.seconds)} item records/s, peak RSS ${duck.maxRssMb.toFixed(0)} MB (events only, no validation/split; all cores)`);
  } else rows.push(`duckdb  skipped: ${duckPython} absent (python -m venv /tmp/duckvenv && /tmp/duckvenv/bin/pip install duckdb)`);
  process.stderr.write(rows.slice(-2).join('\n') + '\n');
}
process.stdout.write(rows.join('\n') + '\n');
