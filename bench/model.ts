// Benchmark of the sequence model (params.yaml's model_type) at the params.yaml sizes: forward and forward+backward time and
// tokens/s, on wasm and (for a small batch) cpu. Feature schema shaped like TencentGR (13 item
// sparse, 4+4 user sparse/array, 11 time, 10 dynamic, multimodal 81 of dim 32, 58k items).
// Usage: npx tsx bench/model.ts [--backends wasm,cpu] [--reps 5]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { loadParams } from '../core/stage/params.ts';
import { buildModelConfig, type FeatureSchema, type ModelConfig } from '../core/model/config.ts';
import { initModel, lastPosition } from '../core/model/sequence-model.ts';
import { randomBatch, randomTargets } from '../test/helpers/random-batch.ts';

const cat = (fids: string[], vocab: number) => fids.map((fid) => ({ fid, vocab }));
const FEATURES: FeatureSchema = {
  userSparse: cat(['103', '104', '105', '109'], 100),
  userArray: cat(['106', '107', '108', '110'], 100),
  userContinuous: [],
  itemSparse: cat(['100', '101', '102', '111', '112', '114', '115', '116', '117', '118', '119', '120', '121', '122'], 1000),
  itemArray: [],
  itemContinuous: [],
  itemMultimodal: [{ fid: '81', dim: 32 }],
  timeDiscrete: [...cat(['201', '202', '203', '204', '206', '207', '208', '209', '210', '212'], 60), { fid: '211', vocab: 169 }],
  timeContinuous: ['205'],
  dynamicDiscrete: cat(['dyn_expo_tier', 'dyn_ctr_tier', 'dyn_anomaly', 'dyn_hot'], 11),
  dynamicContinuous: ['dyn_log_expo', 'dyn_log_click', 'dyn_log_conv', 'dyn_ctr', 'dyn_log_users', 'dyn_log_days'],
  arrayLen: 4,
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function bench(c: ModelConfig, B: number, reps: number): { fwd: number; fwdBwd: number } {
  const N = c.maxlen + 1;
  const model = initModel(c, 1);
  const w = model.weights;
  const batch = randomBatch(c, 2, B, N, Array.from({ length: B }, (_, i) => Math.max(2, N - (i % 4) * 8)));
  const targets = randomTargets(c, 3, B * 2);
  const forward = () => {
    const s = model.encodeSequences(batch, { training: true, seed: 1 });
    const items = model.encodeTargets(targets);
    return tf.tidy(() => tf.sum(tf.matMul(lastPosition(s), items, false, true)) as tf.Scalar);
  };
  const time = (f: () => void): number[] => {
    const out: number[] = [];
    for (let r = 0; r < reps + 1; r++) {
      const t0 = performance.now();
      f();
      out.push(performance.now() - t0);
    }
    return out.slice(1); // the first run warms up kernels
  };
  const fwd = time(() => tf.tidy(() => void forward().dataSync()));
  const fwdBwd = time(() => {
    const { value, grads } = tf.variableGrads(() => tf.tidy(forward), w.trainable());
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  });
  w.dispose();
  return { fwd: median(fwd), fwdBwd: median(fwdBwd) };
}

const params = loadParams(['model_type', 'sasrec_features', 'maxlen', 'hidden_units', 'num_blocks', 'num_heads', 'linear_dim', 'attention_dim', 'dropout_rate',
  'use_rope', 'rope_theta', 'rope_partial_dim', 'attn_norm', 'load_time_intervals', 'tower_init', 'batch_size']);
const config = buildModelConfig(params, FEATURES, 58735);
const reps = Number(arg('reps', '5'));
for (const backend of arg('backends', 'wasm,cpu').split(',')) {
  await tf.setBackend(backend);
  const B = backend === 'cpu' ? Math.min(8, params.batch_size) : params.batch_size;
  const { fwd, fwdBwd } = bench(config, B, reps);
  const tokens = B * (config.maxlen + 1);
  console.log(`[bench/model] ${config.encoder.type} ${backend} B=${B} N=${config.maxlen + 1} D=${config.hiddenUnits} blocks=${config.numBlocks} heads=${config.numHeads}: ` +
    `forward ${fwd.toFixed(0)} ms (${Math.round(tokens / fwd * 1000)} tokens/s), forward+backward ${fwdBwd.toFixed(0)} ms (${Math.round(tokens / fwdBwd * 1000)} tokens/s)`);
}
