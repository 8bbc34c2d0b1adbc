// Parquet interop across stages: run synth → ingest → features → negatives (spawned, as dvc runs
// them) on a tiny dataset, then read EVERY Parquet output with pyarrow (.venv). Each Parquet file
// must have the Arrow IPC file it copies, with the same column names and types, the same row count,
// and the same sum of every integer column (list<int> columns summed over their values).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataType, type Data, type Field, type Table } from 'apache-arrow';
import { parse, stringify } from 'yaml';
import { readArrowFile } from '../../core/artifacts/arrow-io.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = join(REPO, '.venv', 'bin', 'python');
const root = mkdtempSync(join(tmpdir(), 'interop-'));
const dirs = { raw: join(root, 'raw'), ingest: join(root, 'ingest'), features: join(root, 'features'), negatives: join(root, 'negatives') };

/** pyarrow's view of one Parquet file (printed by PY below). */
interface ParquetInfo {
  rows: number;
  schema: [string, string][];
  sums: Record<string, string>; // decimal strings: exact past 2^53
}

// Type names both sides agree on: int32, uint32, float32, utf8, list<int32>, fixed_size_list<float32>[32]…
const PY = `
import json, sys
import pyarrow as pa, pyarrow.parquet as pq, pyarrow.compute as pc
def name(t):
    if pa.types.is_integer(t): return ('int' if pa.types.is_signed_integer(t) else 'uint') + str(t.bit_width)
    if pa.types.is_floating(t): return 'float' + str(t.bit_width)
    if pa.types.is_string(t): return 'utf8'
    if pa.types.is_large_string(t): return 'large_utf8'
    if pa.types.is_boolean(t): return 'bool'
    if pa.types.is_fixed_size_list(t): return 'fixed_size_list<%s>[%d]' % (name(t.value_type), t.list_size)
    if pa.types.is_list(t): return 'list<%s>' % name(t.value_type)
    if pa.types.is_large_list(t): return 'large_list<%s>' % name(t.value_type)
    return 'other:' + str(t)
out = {}
for path in sys.argv[1:]:
    t = pq.read_table(path)
    sums = {}
    for f in t.schema:
        col = t.column(f.name)
        if pa.types.is_list(f.type) and pa.types.is_integer(f.type.value_type):
            col = pc.list_flatten(col)
        if pa.types.is_integer(col.type):
            s = pc.sum(col.cast(pa.int64())).as_py()
            sums[f.name] = str(s if s is not None else 0)
    out[path] = {'rows': t.num_rows, 'schema': [[f.name, name(f.type)] for f in t.schema], 'sums': sums}
print(json.dumps(out))
`;

function typeName(t: DataType): string {
  if (DataType.isInt(t)) return `${t.isSigned ? 'int' : 'uint'}${t.bitWidth}`;
  if (DataType.isFloat(t)) return `float${[16, 32, 64][t.precision]}`;
  if (DataType.isUtf8(t)) return 'utf8';
  if (DataType.isLargeUtf8(t)) return 'large_utf8';
  if (DataType.isBool(t)) return 'bool';
  if (DataType.isFixedSizeList(t)) return `fixed_size_list<${typeName(t.children[0]!.type)}>[${t.listSize}]`;
  if (DataType.isList(t)) return `list<${typeName(t.children[0]!.type)}>`;
  return `other:${String(t)}`;
}

/** Exact sum of an integer Data chunk's valid values in [from, to). */
function sumInts(d: Data, from: number, to: number): bigint {
  const v = d.values as ArrayLike<number | bigint>;
  let s = 0n;
  for (let i = from; i < to; i++) if (d.nullCount === 0 || d.getValid(i)) s += BigInt(v[d.offset + i]!);
  return s;
}

/** Integer columns (and list<int> columns, over their values) → exact sums, as pyarrow reports them. */
function arrowSums(table: Table): Record<string, string> {
  const sums: Record<string, string> = {};
  for (const f of table.schema.fields as Field[]) {
    const chunks = table.getChild(f.name)!.data;
    if (DataType.isInt(f.type)) {
      sums[f.name] = String(chunks.reduce((s, d) => s + sumInts(d, 0, d.length), 0n));
    } else if (DataType.isList(f.type) && DataType.isInt(f.type.children[0]!.type)) {
      let s = 0n;
      for (const d of chunks) {
        const offs = d.valueOffsets as Int32Array;
        s += sumInts(d.children[0]!, offs[d.offset]!, offs[d.offset + d.length]!);
      }
      sums[f.name] = String(s);
    }
  }
  return sums;
}

/** The Arrow IPC file a Parquet copy mirrors: parquet/<kind>-NNNNN → <kind>/part-NNNNN.arrow, parquet/<kind> → <kind>/part-00000.arrow, X.parquet → X.arrow. */
function arrowTwin(stageDir: string, rel: string): string {
  const shard = /^parquet\/([a-z]+)-(\d{5})\.parquet$/.exec(rel);
  if (shard) return join(stageDir, shard[1]!, `part-${shard[2]}.arrow`);
  const whole = /^parquet\/([a-z]+)\.parquet$/.exec(rel);
  if (whole) return join(stageDir, whole[1]!, 'part-00000.arrow');
  return join(stageDir, rel.replace(/\.parquet$/, '.arrow'));
}

function filesEnding(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext)).sort();
}

function runStage(stage: string, paths: string[], paramsFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `stages/${stage}/main.ts`, ...paths, '--params', paramsFile], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 120_000,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(stderr) : reject(new Error(`${stage} exited ${status}: ${stderr}`))));
  });
}

before(async () => {
  const params = parse(readFileSync(join(REPO, 'params.yaml'), 'utf8')) as Record<string, unknown>;
  const paramsFile = join(root, 'params.yaml');
  // several shards per stage, so the shard-to-file mapping is exercised
  writeFileSync(paramsFile, stringify({ ...params, synth_users: 30, synth_items: 90, synth_topics: 3, synth_predict_users: 0, synth_mm_large_dim: 8, mm_emb_id: ['81', '82'], shard_users: 12 }));
  await runStage('synth', [dirs.raw], paramsFile);
  await runStage('ingest', [dirs.raw, dirs.ingest], paramsFile);
  await Promise.all([runStage('features', [dirs.ingest, dirs.features], paramsFile), runStage('negatives', [dirs.ingest, dirs.negatives], paramsFile)]);
});

after(() => rmSync(root, { recursive: true, force: true }));

test('every Parquet output reads in pyarrow with the Arrow file\'s schema, row count and integer sums', { timeout: 300_000 }, async (t) => {
  if (!existsSync(PYTHON)) {
    t.skip(`pyarrow venv absent (${PYTHON})`);
    return;
  }
  const pairs: { parquet: string; arrow: string }[] = [];
  for (const stageDir of [dirs.ingest, dirs.features, dirs.negatives]) {
    const parquets = filesEnding(stageDir, '.parquet');
    assert.ok(parquets.length > 0, `${stageDir} has Parquet copies`);
    for (const rel of parquets) pairs.push({ parquet: join(stageDir, rel), arrow: arrowTwin(stageDir, rel) });
    // and the other way: every Arrow file has its Parquet copy
    const twins = new Set(parquets.map((rel) => arrowTwin(stageDir, rel)));
    assert.deepEqual(filesEnding(stageDir, '.arrow').map((rel) => join(stageDir, rel)).filter((a) => !twins.has(a)), [], `${stageDir}: Arrow files without a Parquet copy`);
  }
  assert.ok(pairs.some((p) => /events-00001/.test(p.parquet)), 'ingest wrote several event shards');

  const py = spawnSync(PYTHON, ['-c', PY, ...pairs.map((p) => p.parquet)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(py.status, 0, py.stderr);
  const info = JSON.parse(py.stdout) as Record<string, ParquetInfo>;

  let intColumns = 0;
  for (const { parquet, arrow } of pairs) {
    assert.ok(existsSync(arrow), `${parquet} has its Arrow file ${arrow}`);
    const table = readArrowFile(arrow);
    const pq = info[parquet]!;
    const schema = (table.schema.fields as Field[]).map((f) => [f.name, typeName(f.type)]);
    assert.deepEqual(pq.schema, schema, `${parquet}: column names and types`);
    assert.ok(!schema.some(([, ty]) => ty!.startsWith('other:')), `${arrow}: every type is one the comparison knows`);
    assert.equal(pq.rows, table.numRows, `${parquet}: rows`);
    assert.deepEqual(pq.sums, arrowSums(table), `${parquet}: integer column sums`);
    intColumns += Object.keys(pq.sums).length;
  }
  assert.ok(intColumns > 0);
  t.diagnostic(`${pairs.length} Parquet files, ${intColumns} integer columns compared`);
});
