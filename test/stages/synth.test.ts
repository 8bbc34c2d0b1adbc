import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { PyDefaultDict, PyDict } from '../../core/taac/pickle/values.ts';
import { readPickle } from '../../core/taac/pickle/read.ts';
import { dumpsPy, formatFloat, PyObject } from '../../stages/synth/py-json.ts';
import { generateUserEvents } from '../../stages/synth/sequences.ts';
import { targetDistribution, topIndices } from '../../stages/synth/truth.ts';
import { buildWorld, type SynthParams } from '../../stages/synth/world.ts';
import { writeSyntheticDataset } from '../../stages/synth/write.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SMALL = {
  seed: 7,
  synth_users: 60,
  synth_items: 300,
  synth_topics: 6,
  synth_days: 24,
  synth_min_len: 11,
  synth_max_len: 100,
  synth_predict_users: 12,
  synth_mm_large_dim: 16,
  synth_len_power: 0.5,
  synth_user_profiles: true,
  synth_all_clicks: false, synth_oracle: true,
} satisfies SynthParams;

let tmp = '';
let out = ''; // written by main.ts (spawned)

function writeParams(overrides: Record<string, unknown>): string {
  const all = { ...(parse(readFileSync(join(REPO, 'params.yaml'), 'utf8')) as Record<string, unknown>), ...overrides };
  const file = join(tmp, `params-${Object.values(overrides).join('-')}.yaml`);
  writeFileSync(file, stringify(all));
  return file;
}

function runMain(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', 'stages/synth/main.ts', ...args], { cwd: REPO, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

type Rec = [number | string, number | null, Record<string, unknown> | null, Record<string, unknown> | null, number | null, number];

/** Byte-exact comparison (latin1 maps each byte to one char). */
function sameBytes(a: string, b: string): boolean {
  return readFileSync(a, 'latin1') === readFileSync(b, 'latin1');
}

function readLines(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), `${file} ends with a newline`);
  return text.slice(0, -1).split('\n');
}

function dict(v: unknown, what: string): PyDict {
  assert.ok(v instanceof PyDict, `${what} is a dict`);
  return v;
}

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'synth-test-'));
  out = join(tmp, 'main-out');
  const r = runMain([out, '--params', writeParams(SMALL)]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[synth\] 60 users, \d+ events .* 300 items, .*-> .*main-out in [\d.]+s/);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

test('writes every file of the TAAC layout and leaves no temp folder', () => {
  assert.deepEqual(listFiles(out), [
    'creative_emb/emb_81_32/part-00000',
    'creative_emb/emb_81_32/part-00001',
    'creative_emb/emb_82_1024/part-00000',
    'creative_emb/emb_82_1024/part-00001',
    'indexer.pkl',
    'item_feat_dict.json',
    'predict_seq.jsonl',
    'predict_set.jsonl',
    'seq.jsonl',
    'seq_offsets.pkl',
    'truth.jsonl',
  ]);
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.tmp-')), []);
});

test('same seed gives byte-identical files (main vs the pure writer); another seed differs', () => {
  const again = join(tmp, 'again');
  const other = join(tmp, 'other');
  for (const d of [again, other]) rmSync(d, { recursive: true, force: true });
  mkdirSync(again);
  mkdirSync(other);
  writeSyntheticDataset(again, SMALL);
  writeSyntheticDataset(other, { ...SMALL, seed: 8 });
  for (const f of listFiles(out)) {
    assert.ok(sameBytes(join(out, f), join(again, f)), `${f} identical on rerun`);
  }
  for (const f of ['seq.jsonl', 'indexer.pkl', 'creative_emb/emb_81_32/part-00000']) {
    assert.ok(!sameBytes(join(out, f), join(other, f)), `${f} differs for another seed`);
  }
});

test('synth_oracle: false writes every file the same except an empty truth.jsonl', () => {
  const noOracle = join(tmp, 'no-oracle');
  rmSync(noOracle, { recursive: true, force: true });
  mkdirSync(noOracle);
  writeSyntheticDataset(noOracle, { ...SMALL, synth_oracle: false });
  assert.deepEqual(listFiles(noOracle), listFiles(out));
  for (const f of listFiles(out)) {
    if (f === 'truth.jsonl') assert.equal(readFileSync(join(noOracle, f)).length, 0, 'truth.jsonl is empty');
    else assert.ok(sameBytes(join(out, f), join(noOracle, f)), `${f} unchanged without the oracle`);
  }
});

test('the default shape is pinned: every file hashes as before the sparse-profile switches (synth_len_power etc.)', () => {
  const h = createHash('sha256');
  for (const f of listFiles(out)) h.update(`${f}\0`).update(new Uint8Array(readFileSync(join(out, f)))).update('\0');
  assert.equal(h.digest('hex'), '8ce6f997a9e1acb37f1e58b4891f820d2a052b131331ff7d1f4fadfbbca5d9a5');
});

test('seq_offsets.pkl holds each line start, by line index', () => {
  const bytes = readFileSync(join(out, 'seq.jsonl'));
  const offsets = readPickle(readFileSync(join(out, 'seq_offsets.pkl')), 'seq_offsets.pkl');
  assert.ok(Array.isArray(offsets));
  assert.equal(readFileSync(join(out, 'seq_offsets.pkl'))[1], 3, 'protocol 3');
  assert.equal(offsets.length, readLines(join(out, 'seq.jsonl')).length);
  assert.equal(offsets[0], 0);
  for (const o of offsets.slice(1)) assert.equal(bytes[(o as number) - 1], 0x0a, `byte before ${String(o)} is a newline`);
});

test('seq.jsonl lines: Python-json spacing, ascending time, 11..100 items, profile record rules, shuffled users', () => {
  const lines = readLines(join(out, 'seq.jsonl'));
  assert.equal(lines.length, SMALL.synth_users);
  const users: number[] = [];
  const placements = new Set<string>();
  for (const [n, line] of lines.entries()) {
    // Python's separators: every ',' and ':' outside strings is followed by one space (no strings with either here).
    assert.doesNotMatch(line, /[,:](?! )/, `line ${n} spacing`);
    const recs = JSON.parse(line) as Rec[];
    const items = recs.filter((r) => r[1] !== null);
    const profiles = recs.flatMap((r, k) => (r[1] === null ? [k] : []));
    assert.ok(items.length >= SMALL.synth_min_len && items.length <= SMALL.synth_max_len, `line ${n}: ${items.length} items`);
    assert.ok(profiles.length <= 1);
    placements.add(profiles.length === 0 ? 'none' : profiles[0] === 0 ? 'first' : profiles[0] === recs.length - 1 ? 'last' : 'middle');
    for (let k = 1; k < recs.length; k++) assert.ok(recs[k]![5] >= recs[k - 1]![5], `line ${n} ascends at ${k}`);
    for (const r of items) {
      assert.equal(r[2], null);
      assert.ok(r[3] !== null && typeof r[3] === 'object');
      assert.ok(r[4] === 0 || r[4] === 1 || r[4] === 2);
    }
    for (const k of profiles) assert.deepEqual([recs[k]![3], recs[k]![4]], [null, null]);
    assert.ok(recs.every((r) => r[0] === recs[0]![0]), 'one user per line');
    users.push(recs[0]![0] as number);
  }
  assert.ok(!placements.has('middle'));
  assert.ok(placements.has('last'));
  assert.deepEqual([...users].sort((a, b) => a - b), Array.from({ length: SMALL.synth_users }, (_, i) => i + 1));
  assert.notDeepEqual(users, [...users].sort((a, b) => a - b), 'lines are not in user-id order');
  // Integer-like keys keep Python's insertion order (JSON.stringify would sort them).
  assert.match(lines[0]!, /\{"112": \d+, "117"/);
});

test('indexer.pkl is the real shape and covers every id used in seq.jsonl', () => {
  const bytes = readFileSync(join(out, 'indexer.pkl'));
  assert.equal(bytes[1], 4, 'protocol 4');
  const idx = dict(readPickle(bytes, 'indexer.pkl'), 'indexer');
  assert.deepEqual([...idx.keys()], ['f', 'i', 'u', 'a']);
  const f = idx.get('f');
  assert.ok(f instanceof PyDefaultDict && f.factory === 'dict', "'f' is defaultdict(dict)");
  const i = dict(idx.get('i'), "'i'");
  const u = dict(idx.get('u'), "'u'");
  assert.deepEqual([...dict(idx.get('a'), "'a'").entries()], [[1, 1], [0, 2]]);
  assert.deepEqual([...i.values()].sort((a, b) => (a as number) - (b as number)), Array.from({ length: SMALL.synth_items }, (_, k) => k + 1));
  for (const k of i.keys()) assert.ok(typeof k === 'number' && k > 2 ** 31, 'raw creative ids are large ints');
  for (const k of u.keys()) assert.match(String(k), /^user_\d{8}$/);
  const userIds = new Set(u.values());
  const vocab = new Map([...f].map(([fid, m]) => [fid as string, dict(m, `f[${String(fid)}]`).size]));
  assert.ok(!vocab.has('113'));
  for (const line of readLines(join(out, 'seq.jsonl'))) {
    for (const r of JSON.parse(line) as Rec[]) {
      assert.ok(userIds.has(r[0] as number));
      if (r[1] !== null) assert.ok((r[1] as number) >= 1 && (r[1] as number) <= i.size);
      for (const [fid, v] of Object.entries(r[3] ?? r[2] ?? {})) {
        for (const x of Array.isArray(v) ? v : [v]) assert.ok(x >= 1 && x <= vocab.get(fid)!, `fid ${fid} value ${x}`);
      }
    }
  }
});

test('item_feat_dict.json has every item, with the features seq.jsonl shows for it', () => {
  const dictText = readFileSync(join(out, 'item_feat_dict.json'), 'utf8');
  const feats = JSON.parse(dictText) as Record<string, Record<string, number>>;
  assert.deepEqual(Object.keys(feats).map(Number).sort((a, b) => a - b), Array.from({ length: SMALL.synth_items }, (_, k) => k + 1));
  let checked = 0;
  for (const line of readLines(join(out, 'seq.jsonl'))) {
    for (const r of JSON.parse(line) as Rec[]) {
      if (r[1] === null) continue;
      assert.deepEqual(r[3], feats[String(r[1])]);
      checked++;
    }
  }
  assert.ok(checked > 0);
  assert.ok(Object.values(feats).every((v) => !('113' in v)));
});

test('creative_emb: Spark JSON lines, dims from the vector (82 lies in its folder name), some lines without emb', () => {
  const idx = dict(readPickle(readFileSync(join(out, 'indexer.pkl'))), 'indexer');
  const known = new Set(dict(idx.get('i'), "'i'").keys());
  const candidates = new Set(readLines(join(out, 'predict_set.jsonl')).map((l) => (JSON.parse(l) as { creative_id: number }).creative_id));
  let missing = 0;
  for (const [folder, dim] of [['emb_81_32', 32], ['emb_82_1024', SMALL.synth_mm_large_dim]] as const) {
    const cids = new Set<number>();
    for (const part of ['part-00000', 'part-00001']) {
      for (const line of readLines(join(out, 'creative_emb', folder, part))) {
        const o = JSON.parse(line) as { anonymous_cid: number; emb?: number[] };
        assert.ok(known.has(o.anonymous_cid) || candidates.has(o.anonymous_cid), `${o.anonymous_cid} is a known or candidate creative`);
        assert.ok(!cids.has(o.anonymous_cid), 'one line per creative');
        cids.add(o.anonymous_cid);
        if (o.emb === undefined) missing++;
        else assert.equal(o.emb.length, dim, `${folder} vector length`);
      }
    }
    assert.ok(cids.size > 0.9 * SMALL.synth_items && cids.size < candidates.size, `${folder}: most but not all items`);
  }
  assert.ok(missing >= 1, 'a few lines lack emb');
});

test('predict files: re-id and raw-string users, cold creatives with string features, a full candidate set', () => {
  const idx = dict(readPickle(readFileSync(join(out, 'indexer.pkl'))), 'indexer');
  const u = dict(idx.get('u'), "'u'");
  const i = dict(idx.get('i'), "'i'");
  const userReids = new Set(u.values());
  const lines = readLines(join(out, 'predict_seq.jsonl'));
  assert.equal(lines.length, SMALL.synth_predict_users);
  let stringUsers = 0;
  let coldRecords = 0;
  for (const line of lines) {
    const recs = JSON.parse(line) as Rec[];
    const uid = recs[0]![0];
    if (typeof uid === 'string') {
      stringUsers++;
      assert.match(uid, /^user_\d{8}$/);
      assert.ok(!u.has(uid), 'raw-string predict users are unknown to the indexer');
    } else assert.ok(userReids.has(uid) && uid > SMALL.synth_users, 'numeric predict users are mapped, after the training users');
    for (const r of recs) {
      if (r[1] === null || r[1] <= SMALL.synth_items) continue;
      coldRecords++;
      assert.ok(!i.has(r[1]), 'cold creative is not in the indexer');
      assert.ok(Object.values(r[3]!).some((v) => typeof v === 'string'), 'cold creative has an unseen (string) value');
    }
  }
  assert.ok(stringUsers >= 1 && stringUsers < lines.length, `${stringUsers} raw-string users`);
  assert.ok(coldRecords >= 1, 'some cold creatives');
  const set = readLines(join(out, 'predict_set.jsonl')).map((l) => JSON.parse(l) as { creative_id: number; retrieval_id: number; features: object });
  assert.deepEqual(set.map((c) => c.retrieval_id), Array.from({ length: set.length }, (_, k) => k));
  const ids = new Set(set.map((c) => c.creative_id));
  assert.equal(ids.size, set.length);
  for (const k of i.keys()) assert.ok(ids.has(k as number), 'every known item is a candidate');
});

test('truth.jsonl: one line per user; targets are the last two clicks, with the oracle rank of the real item', () => {
  const byUser = new Map<number, Rec[]>();
  for (const l of readLines(join(out, 'seq.jsonl'))) {
    const recs = (JSON.parse(l) as Rec[]).filter((r) => r[1] !== null);
    byUser.set(recs[0]![0] as number, recs);
  }
  const truth = readLines(join(out, 'truth.jsonl')).map((l) => JSON.parse(l) as { user_id: number; valid: Target | null; test: Target | null });
  type Target = { position: number; item_id: number; rank: number; prob: number; top: [number, number][] };
  assert.equal(truth.length, byUser.size);
  let inTop = 0;
  let targets = 0;
  for (const t of truth) {
    const recs = byUser.get(t.user_id)!;
    const clicks = recs.flatMap((r, k) => ((r[4] as number) >= 1 ? [k] : []));
    assert.equal(t.test?.position ?? -1, clicks.at(-1) ?? -1);
    assert.equal(t.valid?.position ?? -1, clicks.at(-2) ?? -1);
    for (const target of [t.valid, t.test]) {
      if (!target) continue;
      targets++;
      assert.equal(target.item_id, recs[target.position]![1]);
      assert.equal(target.top.length, 20);
      for (let k = 1; k < 20; k++) assert.ok(target.top[k]![1] <= target.top[k - 1]![1]);
      if (target.rank <= 20) inTop++;
    }
  }
  // The oracle must be far better than chance (20 of 300 items ≈ 7%).
  assert.ok(inTop / targets > 0.3, `oracle top-20 hit rate ${(inTop / targets).toFixed(2)}`);
});

test('planted structure: topics persist from item to item far above chance, clicks near 10%, most users have two', () => {
  const world = buildWorld({ ...SMALL, synth_users: 300, synth_items: 600, synth_topics: 8, synth_predict_users: 0 });
  const topicCount = new Float64Array(8);
  let same = 0;
  let pairs = 0;
  let events = 0;
  let clicks = 0;
  let underTwo = 0;
  for (let u = 0; u < world.users.trainCount; u++) {
    const ev = generateUserEvents(world, u);
    let userClicks = 0;
    for (let k = 0; k < ev.length; k++) {
      const t = world.items.topic[ev.item[k]!]!;
      topicCount[t]!++;
      if (k > 0) {
        pairs++;
        if (t === world.items.topic[ev.item[k - 1]!]) same++;
      }
      if (ev.action[k]! >= 1) userClicks++;
    }
    events += ev.length;
    clicks += userClicks;
    if (userClicks < 2) underTwo++;
  }
  const chance = topicCount.reduce((s, c) => s + (c / events) ** 2, 0);
  assert.ok(same / pairs > 2 * chance, `same-topic rate ${(same / pairs).toFixed(2)} vs chance ${chance.toFixed(2)}`);
  assert.ok(clicks / events > 0.05 && clicks / events < 0.2, `click rate ${(clicks / events).toFixed(3)}`);
  assert.ok(underTwo >= 1 && underTwo < 0.1 * world.users.trainCount, `${underTwo} users under two clicks`);
});

test('oracle distribution sums to 1 and topIndices matches a full sort', () => {
  const world = buildWorld(SMALL);
  const ev = generateUserEvents(world, 3);
  const p = targetDistribution(world, ev, ev.length - 1);
  assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-9);
  const sorted = Array.from(p.keys()).sort((a, b) => p[b]! - p[a]! || a - b);
  assert.deepEqual(topIndices(p, 20), sorted.slice(0, 20));
});

test('py-json matches Python json.dumps spacing and key order; floats print at 6 significant digits', () => {
  assert.equal(dumpsPy([1, null, new PyObject([['112', 3], ['100', [1, 2]]]), 'user_00000001']), '[1, null, {"112": 3, "100": [1, 2]}, "user_00000001"]');
  assert.equal(formatFloat(0.123456789), '0.123457');
  assert.equal(formatFloat(-0.0000001234567), '-1.23457e-7');
  assert.equal(formatFloat(-0), '0');
});

test('--help prints usage; bad params fail with a one-line message naming the key', () => {
  const help = runMain(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: .*synth.* <out-dir>/);
  const bad = runMain([join(tmp, 'bad'), '--params', writeParams({ ...SMALL, synth_users: -1 })]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /synth_users/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const lens = runMain([join(tmp, 'bad'), '--params', writeParams({ ...SMALL, synth_min_len: 50, synth_max_len: 20 })]);
  assert.notEqual(lens.status, 0);
  assert.match(lens.stderr, /synth_min_len.*synth_max_len/);
  assert.ok(!existsSync(join(tmp, 'bad')), 'nothing written on a params error');
});
