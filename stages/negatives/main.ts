// stages/negatives/main.ts — count training exposures per item, bucket items by them, write the pools
// and effective bucket weights the trainer's BucketSampler reads (SPEC §4 negatives).
import { cliPaths, runStage } from '../../core/stage/cli.ts';
import { writeDirAtomic } from '../../core/stage/atomic.ts';
import { loadParams } from '../../core/stage/params.ts';
import { Progress } from '../../core/stage/progress.ts';
import { buildNegatives, validateNegativesParams } from './build-negatives.ts';
import { countTrainExposures } from './exposures.ts';
import { readIngestManifest } from '../../core/artifacts/manifests.ts';
import { writeNegatives } from './write-negatives.ts';

runStage('negatives', async () => {
  const [ingestDir, outDir] = cliPaths('negatives <ingest-dir> <out-dir>') as [string, string];
  const p = loadParams(['neg_bucket_bounds', 'neg_bucket_weights']);
  validateNegativesParams(p);
  const progress = new Progress('negatives');
  const manifest = readIngestManifest(ingestDir);
  const { counts, trainEvents } = countTrainExposures(ingestDir, manifest, progress);
  const negatives = buildNegatives(counts, trainEvents, p);
  for (const notice of negatives.manifest.notices) process.stderr.write(`[negatives] ${notice}\n`);
  await writeDirAtomic(outDir, (tmp) => writeNegatives(tmp, negatives.pools, negatives.manifest));
  const m = negatives.manifest;
  progress.done(`${m.items} items from ${m.train_events} train events in ${m.counts.length} buckets [${m.counts.join(', ')}] -> ${outDir}`);
});
