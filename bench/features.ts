// Throughput of the features stage on one synthetic ingest shard of ~1M events:
// the per-event time features alone, the item-dynamic counting alone, and the whole stage
// (read Arrow, compute, write Arrow + Parquet, manifest). Run: npx tsx bench/features.ts [events]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IngestManifest, Role, eventShardPath, itemTablePath, shardName, userShardPath } from '../core/artifacts/artifacts.ts';
import { flat, makeTable, writeArrowFile } from '../core/artifacts/arrow-io.ts';
import { stableJson } from '../core/stage/atomic.ts';
import { Rng } from '../core/random/rng.ts';
import { buildFeatures } from '../stages/features/build-features.ts';
import { loadCalendar } from '../core/time/calendar.ts';
import { ItemDynamicAccumulator } from '../stages/features/item-dynamic.ts';
import { computeTimeFeatures } from '../core/time/time-features.ts';

const perUser = 50;
const users = Math.ceil(Number(process.argv[2] ?? 1_000_000) / perUser);
const items = 200_000;
const n = users * perUser;
const rng = new Rng(1);

// [n] event columns, users contiguous, sessions minutes apart and days between them
const user = new Int32Array(n), position = new Int32Array(n), item = new Int32Array(n);
const action = new Int8Array(n), ts = new Uint32Array(n), role = new Int8Array(n);
for (let u = 0; u < users; u++) {
  let t = 1_745_000_000 + rng.int(20 * 86400);
  for (let p = 0; p < perUser; p++) {
    const i = u * perUser + p;
    t += rng.next() < 0.15 ? rng.int(2 * 86400) : rng.int(600);
    user[i] = u + 1;
    position[i] = p;
    item[i] = 1 + Math.min(items - 1, Math.floor(items * rng.next() ** 3)); // skewed popularity
    action[i] = rng.next() < 0.1 ? 1 + rng.int(2) : 0;
    ts[i] = t;
    role[i] = p < perUser - 3 ? Role.train : p === perUser - 3 ? Role.valid : p === perUser - 2 ? Role.between : Role.test;
  }
}

function time(label: string, events: number, fn: () => void): void {
  fn(); // warm-up
  const t0 = process.hrtime.bigint();
  fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`${label}: ${events} events in ${s.toFixed(3)} s = ${Math.round(events / s).toLocaleString('en-US')} events/s\n`);
}

const calendar = loadCalendar();
time('time features (201-203, 206-212)', n, () => void computeTimeFeatures(user, ts, calendar));
time('item dynamic counting', n, () => new ItemDynamicAccumulator(items).add(user, item, action, ts, role));

const root = mkdtempSync(join(tmpdir(), 'features-bench-'));
try {
  const ingestDir = join(root, 'ingest');
  const name = shardName(0);
  writeArrowFile(eventShardPath(ingestDir, name), makeTable({
    user: flat(user), position: flat(position), item: flat(item), action: flat(action), ts: flat(ts), role: flat(role),
  }));
  const offsets = new Int32Array(users + 1).map((_, k) => 2 * k);
  writeArrowFile(userShardPath(ingestDir, name), makeTable({
    user: flat(new Int32Array(users).map((_, k) => k + 1)),
    f103: flat(new Int32Array(users).map(() => rng.int(8))),
    f106: { kind: 'list', offsets, values: new Int32Array(2 * users).map(() => 1 + rng.int(20)) },
  }));
  writeArrowFile(itemTablePath(ingestDir), makeTable({
    item: flat(new Int32Array(items + 1).map((_, i) => i)),
    f100: flat(new Int32Array(items + 1).map((_, i) => (i === 0 ? 0 : rng.int(30)))),
    has_f81: flat(new Int8Array(items + 1).map((_, i) => (i > 0 ? 1 : 0))),
  }));
  const manifest: IngestManifest = {
    source: 'bench', users, items, events: n, shards: [{ name, users, events: n }],
    features: { user_sparse: ['103'], user_array: ['106'], item_sparse: ['100'], item_array: [], item_continuous: [], mm: { '81': 32 } },
    vocab: { '100': 30, '103': 8, '106': 21 },
    splits: { train_events: 0, valid_targets: users, test_targets: users, users_without_targets: 0, users_with_one_target: 0 },
    skipped_lines: [],
  };
  writeFileSync(join(ingestDir, 'manifest.json'), stableJson(manifest));
  let run = 0;
  time('whole stage (read, compute, write Arrow + Parquet)', n, () => {
    buildFeatures(ingestDir, join(root, `out${run++}`), calendar);
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
