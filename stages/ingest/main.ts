// stages/ingest/main.ts — TAAC files (raw_dir) → validated, split, sharded Arrow IPC + ZSTD Parquet.
// Reads: <raw-dir>/{seq.jsonl, indexer.pkl, item_feat_dict.json, [seq_offsets.pkl], creative_emb/emb_<fid>_*/,
//        [predict_seq.jsonl, predict_set.jsonl]}.
// Writes: <out-dir>/{manifest.json, events/, users/, items/, parquet/} and, given <predict-out-dir>, the
// predict users, cold creatives and candidates there (layouts in core/artifacts/artifacts.ts), atomically.
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { writeDirAtomic } from '../../core/stage/atomic.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { ingestRaw, readRawIndexer } from './ingest.ts';
import { ingestPredict } from './ingest-predict.ts';

runStage('ingest', async () => {
  const [rawDir, outDir, predictOutDir] = cliPaths('ingest <raw-dir> <out-dir> [<predict-out-dir>]') as [string, string, string?];
  const p = loadParams(['mm_emb_id', 'on_bad_line', 'shard_users', 'target_min_action', 'io_concurrency']);
  const progress = new Progress('ingest');
  const indexer = readRawIndexer(rawDir);
  const m = await writeDirAtomic(outDir, (tmp) => ingestRaw(rawDir, tmp, p, progress, indexer));
  const pm = predictOutDir === undefined ? null : await writeDirAtomic(predictOutDir, (tmp) => ingestPredict(rawDir, tmp, m, indexer, p, progress));
  const s = m.splits;
  const predicted = pm === null ? '' : pm.files === null ? `; no predict files -> ${predictOutDir}`
    : `; predict: ${pm.users} users, ${pm.events} item records, ${pm.candidates} candidates, ${pm.cold_items} cold creatives -> ${predictOutDir}`;
  progress.done(
    `${m.users} users, ${m.events} item records, ${m.items} items in ${m.shards.length} shard(s); ` +
      `targets valid/test ${s.valid_targets}/${s.test_targets}, users with 0/1 target ${s.users_without_targets}/${s.users_with_one_target}; ` +
      `${m.skipped_lines.length} skipped line(s); ${m.items_without_features} used item(s) without features -> ${outDir}${predicted}`,
  );
});
