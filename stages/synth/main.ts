// stages/synth/main.ts — the embedded default dataset: a seeded synthetic TAAC-format folder
// (seq.jsonl, indexer.pkl, seq_offsets.pkl, item_feat_dict.json, creative_emb/, predict files, truth.jsonl).
import { writeDirAtomic } from '../../core/stage/atomic.ts';
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { checkSynthParams } from './world.ts';
import { writeSyntheticDataset } from './write.ts';

runStage('synth', async () => {
  const [outDir] = cliPaths('synth <out-dir>');
  const params = loadParams([
    'seed',
    'synth_users',
    'synth_items',
    'synth_topics',
    'synth_days',
    'synth_min_len',
    'synth_max_len',
    'synth_predict_users',
    'synth_mm_large_dim',
    'synth_len_power',
    'synth_user_profiles',
    'synth_all_clicks',
    'synth_oracle',
  ]);
  checkSynthParams(params);
  const progress = new Progress('synth');
  const s = await writeDirAtomic(outDir!, (tmp) => writeSyntheticDataset(tmp, params, progress));
  const clickPct = ((100 * s.clicks) / s.events).toFixed(1);
  progress.done(
    `${s.users} users, ${s.events} events (${clickPct}% clicks, ${s.conversions} conversions), ${s.items} items, ` +
      `${s.predictUsers} predict users, ${s.usersUnderTwoClicks} users under 2 clicks -> ${outDir}`,
  );
});
