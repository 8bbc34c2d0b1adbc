// Writes the whole synthetic TAAC folder into `dir` (main.ts makes it atomic):
//   seq.jsonl, seq_offsets.pkl, indexer.pkl, item_feat_dict.json,
//   creative_emb/emb_81_32/part-0000N, creative_emb/emb_82_1024/part-0000N (dim = synth_mm_large_dim),
//   predict_seq.jsonl + predict_set.jsonl (when synth_predict_users > 0), truth.jsonl (the oracle; empty with
//   synth_oracle: false — it scores every item per target, hours at TencentGR-1M's 4.8M items).
// seq.jsonl streams user by user in a seeded shuffled order; no line is kept after it is written.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writePickle } from '../../core/taac/pickle/write.ts';
import type { Progress } from '../../core/stage/progress.ts';
import { Rng } from '../../core/random/rng.ts';
import { TextFile, writeBytes } from '../../core/taac/text-file.ts';
import { mmFolderName, mmPartLines, mmSpecs, MM_PARTS } from './embeddings.ts';
import { buildFeatureIndex, drawItemFeatures, drawUserFeatures, USER_FEATURES } from './features.ts';
import { buildIndexer } from './indexer.ts';
import { candidateOrder, predictUserIds, PREDICT_COLD_SHARE } from './predict.ts';
import { dumpsPy, PyObject, type PyJson } from './py-json.ts';
import { formatCandidateLine, formatItemFeatures, formatUserLine, type LineContext } from './records.ts';
import { generateUserEvents, type UserEvents } from './sequences.ts';
import { describeTarget, targetPositions, type TargetTruth } from './truth.ts';
import { buildWorld, type SynthParams, type World } from './world.ts';

/** Oracle items listed per target in truth.jsonl. */
export const TRUTH_TOP_K = 20;

export interface SynthSummary {
  users: number;
  events: number;
  clicks: number; // action >= 1
  conversions: number;
  items: number;
  predictUsers: number;
  /** training users with fewer than two clicks (the split cannot give them both targets) */
  usersUnderTwoClicks: number;
}

/** Line order of seq.jsonl: training user indices, shuffled (stream `seed/10`), so lines are not in id order. */
export function seqLineOrder(world: World): number[] {
  return new Rng(world.params.seed, 10).shuffle(Array.from({ length: world.users.trainCount }, (_, u) => u));
}

export function writeSyntheticDataset(dir: string, params: SynthParams, progress?: Progress): SynthSummary {
  const world = buildWorld(params);
  const itemFeats = drawItemFeatures(world);
  const userFeats = drawUserFeatures(world);
  const index = buildFeatureIndex(world, itemFeats, userFeats);
  const arrayFids = new Set(USER_FEATURES.filter((s) => s.kind === 'array').map((s) => s.fid));
  const ctx: LineContext = {
    world,
    itemFeatureText: formatItemFeatures(world, itemFeats, index),
    userFeats,
    index,
    isArrayFid: (fid) => arrayFids.has(fid),
  };
  const summary: SynthSummary = {
    users: world.users.trainCount,
    events: 0,
    clicks: 0,
    conversions: 0,
    items: world.items.trainCount,
    predictUsers: world.users.count - world.users.trainCount,
    usersUnderTwoClicks: 0,
  };

  const seq = new TextFile(join(dir, 'seq.jsonl'));
  const truth = new TextFile(join(dir, 'truth.jsonl'));
  const offsets: number[] = [];
  const order = seqLineOrder(world);
  order.forEach((u, line) => {
    const ev = generateUserEvents(world, u);
    offsets.push(seq.bytes);
    seq.write(formatUserLine(ctx, ev, u + 1));
    if (world.params.synth_oracle) truth.write(formatTruthLine(world, ev, u + 1)); // O(items) per target
    countEvents(ev, summary);
    progress?.tick(() => `seq.jsonl ${line + 1}/${order.length} users, ${summary.events} events`);
  });
  seq.close();
  truth.close();

  const predictIds = predictUserIds(world);
  writeBytes(join(dir, 'seq_offsets.pkl'), writePickle(offsets, { protocol: 3 }));
  writeBytes(join(dir, 'indexer.pkl'), writePickle(buildIndexer(world, index, predictIds), { protocol: 4 }));
  writeItemFeatDict(join(dir, 'item_feat_dict.json'), world, ctx.itemFeatureText);
  writeEmbeddings(join(dir, 'creative_emb'), world, progress);
  if (predictIds.length > 0) writePredictFiles(dir, ctx, predictIds);
  return summary;
}


function countEvents(ev: UserEvents, s: SynthSummary): void {
  let clicks = 0;
  for (const a of ev.action) {
    if (a >= 1) clicks++;
    if (a === 2) s.conversions++;
  }
  s.events += ev.length;
  s.clicks += clicks;
  if (clicks < 2) s.usersUnderTwoClicks++;
}

/** `{"reid": {fid: value}, ...}` for every training item in re-id order, as json.dump writes it (no newline). */
function writeItemFeatDict(path: string, world: World, itemFeatureText: string[]): void {
  const file = new TextFile(path);
  const { items } = world;
  file.write('{');
  for (let r = 1; r <= items.trainCount; r++) file.write(`${r > 1 ? ', ' : ''}"${r}": ${itemFeatureText[items.byReid[r]!]!}`);
  file.write('}');
  file.close();
}

function writeEmbeddings(root: string, world: World, progress?: Progress): void {
  for (const spec of mmSpecs(world.params.synth_mm_large_dim)) {
    const folder = join(root, mmFolderName(spec));
    mkdirSync(folder, { recursive: true });
    const parts = Array.from({ length: MM_PARTS }, (_, p) => new TextFile(join(folder, `part-${String(p).padStart(5, '0')}`)));
    let lines = 0;
    for (const { part, line } of mmPartLines(world, spec)) {
      parts[part]!.write(line);
      lines++; // counted here: the tick's message is built only when it prints
      progress?.tick(() => `creative_emb ${spec.fid}: ${lines}/${world.items.trainCount} lines`);
    }
    for (const p of parts) p.close();
  }
}

function writePredictFiles(dir: string, ctx: LineContext, predictIds: readonly (number | string)[]): void {
  const { world } = ctx;
  const seq = new TextFile(join(dir, 'predict_seq.jsonl'));
  predictIds.forEach((id, j) => seq.write(formatUserLine(ctx, generateUserEvents(world, world.users.trainCount + j, PREDICT_COLD_SHARE), id)));
  seq.close();
  const set = new TextFile(join(dir, 'predict_set.jsonl'));
  candidateOrder(world).forEach((i, n) => set.write(formatCandidateLine(world, i, n, ctx.itemFeatureText[i]!)));
  set.close();
}

/** One truth.jsonl line: the oracle's view of the user's validation and test targets (null when absent). */
function formatTruthLine(world: World, ev: UserEvents, userReid: number): string {
  const { valid, test } = targetPositions(ev);
  const describe = (k: number): PyJson => (k < 0 ? null : truthObject(describeTarget(world, ev, k, TRUTH_TOP_K)));
  return dumpsPy(new PyObject([['user_id', userReid], ['valid', describe(valid)], ['test', describe(test)]])) + '\n';
}

function truthObject(t: TargetTruth): PyObject {
  const round = (p: number): number => Number(p.toPrecision(6));
  return new PyObject([
    ['position', t.position],
    ['item_id', t.itemReid],
    ['prob', round(t.prob)],
    ['rank', t.rank],
    ['top', t.top.map(([i, p]) => [i, round(p)])],
  ]);
}
