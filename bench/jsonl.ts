// Throughput of readJsonLines on a synthetic TAAC-like seq.jsonl (~100 MB, written once to /tmp).
// Usage: node --import tsx bench/jsonl.ts [megabytes=100] [chunk-bytes]
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Rng } from '../core/random/rng.ts';
import { readJsonLines } from '../core/taac/jsonl.ts';

const ITEM_FIDS = ['112', '117', '118', '119', '120', '100', '101', '102', '122', '114', '116', '121', '111'];

/** One user line shaped like the real seq_line0.jsonl: 11..100 item records, the user record last. */
function makeLine(rng: Rng, userId: number): string {
  const n = 11 + rng.int(90);
  let ts = 1_745_000_000 + rng.int(1_000_000);
  const records: unknown[] = [];
  for (let k = 0; k < n; k++) {
    const feats: Record<string, number> = {};
    for (const fid of ITEM_FIDS) feats[fid] = 1 + rng.int(60_000);
    ts += rng.int(3600);
    records.push([userId, 1 + rng.int(58_734), null, feats, rng.next() < 0.9 ? 0 : 1, ts]);
  }
  const profile = { '103': 1 + rng.int(50), '106': [1 + rng.int(9)], '109': 1 + rng.int(3), '105': 1 + rng.int(7), '104': 1 + rng.int(3) };
  records.push([userId, null, profile, null, null, ts + 100_000]);
  return JSON.stringify(records).replaceAll(',', ', ').replaceAll(':', ': ') + '\n'; // Python json.dumps spacing
}

async function ensureFile(path: string, bytes: number): Promise<void> {
  if (existsSync(path) && statSync(path).size >= bytes) return;
  const rng = new Rng(7);
  const out = createWriteStream(path);
  let written = 0;
  for (let u = 1; written < bytes; u++) {
    const line = makeLine(rng, u);
    written += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 100);
  const chunkBytes = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  const path = join(tmpdir(), `taac-bench-${megabytes}mb.jsonl`);
  await ensureFile(path, megabytes * 1e6);
  const size = statSync(path).size;
  for (let run = 1; run <= 3; run++) {
    const t0 = performance.now();
    let lines = 0;
    let records = 0;
    for await (const l of readJsonLines(path, { chunkBytes })) {
      if (l.error !== undefined) throw new Error(`line ${l.line}: ${l.error}`);
      lines++;
      records += (l.value as unknown[]).length;
    }
    const s = (performance.now() - t0) / 1000;
    console.log(
      `[bench/jsonl] run ${run}: ${(size / 1e6).toFixed(1)} MB, ${lines} lines, ${records} records in ${s.toFixed(2)} s` +
        ` -> ${(size / 1e6 / s).toFixed(0)} MB/s, ${(lines / s).toFixed(0)} lines/s`,
    );
  }
}

await main();
