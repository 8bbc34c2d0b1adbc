// The speed race of SPEC §9: one full HSTU training step (forward + backward + AdamW) on wasm, native
// TensorFlow and the PyTorch CPU peer (bench/peers/hstu_step.py), at the peer's shapes: B=64
// sequences of N=100 tokens, D=64, 2 blocks × 4 heads (dqk = dv = 16), a 50k×64 item table, 512
// sampled negatives shared by the batch, InfoNCE at T=0.05 with accidental hits masked, AdamW.
// Ours runs the real model and loss code (encodeSequencesAndTargets, streamedInfoNce,
// AdamW.step) with ids-only tokens (no side features: the peer has none), field width 64 so the
// item table is 50k×64 like the peer's. Each backend runs in its own child process (libtensorflow
// reads TF_ENABLE_ONEDNN_OPTS once, at load). Prints one table of medians; nothing is written.
// Run: npx tsx bench/train-step.ts [--backends wasm,tensorflow,torch] [--steps 10] [--warmup 3] [--repeats 1]
//      [--items 50000[,4800000]]  (item table sizes, each measured in the same run; default 50000)
//      [--updates dense,sparse]   (our embedding updates per row: embedding_updates dense = AdamW over every row,
//      sparse = lazy AdamW on the rows a step read (stages/train/embedding-updates.ts auto rule); the PyTorch
//      peer runs its dense AdamW and its sparse alternative, nn.Embedding(sparse=True) + SparseAdam, beside them)
//      (also: tensorflow-noonednn = TF_ENABLE_ONEDNN_OPTS=0,
//      torch-1thread = OMP_NUM_THREADS=1; the ratio column uses the fastest torch row)
//      npx tsx bench/train-step.ts --child tensorflow --profile   (per-phase timing of one backend)
//      npx tsx bench/train-step.ts --child tensorflow --kernels   (tf.profile: kernel time by op over one step;
//      add --shapes to split each op by output shape, --top N for more rows, --sequence for every kernel in
//      order; raw TF ops called through tfjs-node's backend (core/ops/native.ts) are not listed)
//      RACE_OVERRIDE='{"dropoutRate":0}' npx tsx bench/train-step.ts --child tensorflow   (ablations: ModelConfig
//      fields merged into ours; the PyTorch peer does not read it)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type BackendName, initBackend } from '../core/ops/backend.ts';
import { parseParam } from '../core/stage/params.ts';
import type { ModelConfig } from '../core/model/config.ts';
import { validateModelConfig } from '../core/model/config.ts';
import { TOKEN_PAD } from '../core/model/inputs.ts';
import { gatherRows } from '../core/ops/fast-ops.ts';
import { initModel } from '../core/model/sequence-model.ts';
import type { ModelWeights } from '../core/model/model-weights.ts';
import { randomBatch, randomTargets } from '../test/helpers/random-batch.ts';
import { Rng } from '../core/random/rng.ts';
import { AdamW, decayFromKinds } from '../core/train/adamw.ts';
import { modelGrads } from '../core/train/model-grads.ts';
import { isRowSparse } from '../core/train/row-tape.ts';
import { rowSparseTables } from '../stages/train/embedding-updates.ts';
import { type InfoNceParams, streamedInfoNce } from '../core/train/infonce.ts';

const B = 64;
const N = 100; // tokens per sequence: the user token + 99 items (the peer: 100 items)
const DEFAULT_ITEMS = 50_000;
const NEGATIVES = 512;
const LR = 2e-3;
const WEIGHT_DECAY = 0.01;
const CLIP = 20; // the early clip threshold: never reached here, but the norm is still computed (one sync)
const LOSS: InfoNceParams = { temperature: 0.05, margin_click: 0, margin_conv: 0, chunk: 1024 };
const NO_FEATURES = {
  userSparse: [], userArray: [], userContinuous: [], itemSparse: [], itemArray: [], itemContinuous: [], itemMultimodal: [],
  timeDiscrete: [], timeContinuous: [], dynamicDiscrete: [], dynamicContinuous: [], arrayLen: 1,
};

/** The race's model at `items` items. */
export function raceConfig(items: number): ModelConfig {
  return validateModelConfig({
  itemVocab: items + 1, maxlen: N - 1, hiddenUnits: 64, numBlocks: 2, numHeads: 4, dropoutRate: 0.2, loadTimeIntervals: true,
  fieldDim: 64, towerInit: 'trunc_normal', numActions: 3, features: NO_FEATURES,
  encoder: { type: 'hstu', linearDim: 16, attentionDim: 16, useRope: true, ropeTheta: 10000, ropePartialDim: 8, attnNorm: 'padded', timeBuckets: 128 },
  ...JSON.parse(process.env['RACE_OVERRIDE'] ?? '{}'),
  });
}

interface Result {
  backend: string;
  msPerStep: number[]; // medians, one per repeat
  detail: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The peer's batch shape: a quarter of the sequences half-length (left-padded), the rest full. */
function raceLengths(): number[] {
  return Array.from({ length: B }, (_, b) => (b < B / 4 ? N / 2 : N));
}

/** Every real position has a positive (the next item; random after the last), as in the peer. */
function positivesOf(itemIdx: Int32Array, tokenType: Int32Array, rng: Rng, items: number): { at: Int32Array; ids: Int32Array } {
  const at: number[] = [];
  const ids: number[] = [];
  for (let s = 0; s < B; s++) {
    for (let t = 0; t < N; t++) {
      if (tokenType[s * N + t] === TOKEN_PAD) continue;
      at.push(s * N + t);
      ids.push(t + 1 < N ? itemIdx[s * N + t + 1]! : 1 + rng.int(items));
    }
  }
  return { at: Int32Array.from(at), ids: Int32Array.from(ids) };
}

interface PhaseTimes { forward: number; backward: number; optimizer: number }

interface RaceStep {
  /** One training step; with `profile`, also a separate forward pass and syncs between phases. */
  step(profile: boolean): { ms: number; phases: PhaseTimes | null; loss: number };
  dispose(): void;
}

/** The model, optimizer and a fixed batch on the current backend; each step draws fresh negatives. */
function makeRaceStep(items: number, updates: 'dense' | 'sparse'): RaceStep {
  const c = raceConfig(items);
  const model = initModel(c, 1);
  const w: ModelWeights = model.weights;
  const names = w.names();
  const rowSparse = rowSparseTables(w, updates === 'sparse' ? 'auto' : 'dense', 'sampled');
  const optimizer = new AdamW(Object.fromEntries(names.map((n) => [n, w.get(n)])), { weightDecay: WEIGHT_DECAY, decays: decayFromKinds(w.kinds), rowSparse });
  const batch = randomBatch(c, 2, B, N, raceLengths());
  const rng = new Rng(3);
  const { at, ids: positiveIds } = positivesOf(batch.itemIdx, batch.tokenType, rng, items);
  const M = at.length;
  const weights = new Float32Array(M).fill(1);
  const actions = new Int32Array(M);
  let stepCount = 0;
  const step = (profile: boolean) => {
    const seed = stepCount++;
    const negativeIds = Int32Array.from({ length: NEGATIVES }, () => 1 + rng.int(items));
    const targets = randomTargets(c, 4, M + NEGATIVES);
    targets.itemIdx.set(positiveIds);
    targets.itemIdx.set(negativeIds, M);
    const lossOf = (): tf.Scalar => {
      const encoded = model.encodeSequencesAndTargets(batch, targets, { training: true, seed }); // as stages/train/batch-loss.ts
      const states = tf.reshape(encoded.states, [B * N, c.hiddenUnits]); // [B·N, D]
      const query = gatherRows(states, tf.tensor1d(at, 'int32')) as tf.Tensor2D; // [M, D]
      const items = encoded.items; // [M + K, D]
      const positive = tf.slice(items, [0, 0], [M, c.hiddenUnits]) as tf.Tensor2D;
      const negative = tf.slice(items, [M, 0], [NEGATIVES, c.hiddenUnits]) as tf.Tensor2D;
      const bank = { emb: negative, ids: negativeIds, detached: false };
      return streamedInfoNce({ query, positive, positiveIds, positiveActions: actions, weights, banks: [bank] }, LOSS);
    };
    const tStart = performance.now();
    if (profile) tf.tidy(() => void lossOf().dataSync()); // forward alone (its own pass: the tape is not kept)
    const t0 = performance.now();
    const { value, grads } = modelGrads(w, lossOf, optimizer.rowTape());
    const loss = value.dataSync()[0]!;
    if (profile) for (const g of Object.values(grads)) (isRowSparse(g) ? g.rows : g).dataSync(); // wait for every gradient kernel
    const tGrad = performance.now();
    optimizer.step(grads, LR, CLIP);
    if (profile) names.filter((n) => !rowSparse.includes(n)).forEach((n) => w.get(n).dataSync());
    const t1 = performance.now();
    tf.dispose([value, Object.values(grads)]);
    if (!Number.isFinite(loss)) throw new Error(`non-finite loss at step ${seed}`);
    const phases = profile ? { forward: t0 - tStart, backward: tGrad - t0 - (t0 - tStart), optimizer: t1 - tGrad } : null;
    return { ms: t1 - t0, phases, loss };
  };
  return { step, dispose: () => { optimizer.dispose(); w.dispose(); } };
}

/** Runs warmup + measured steps on the current backend; returns per-step ms (and, if asked, phases). */
function runSteps(race: RaceStep, warmup: number, steps: number, profile: boolean): { ms: number[]; phases: PhaseTimes[]; loss: number } {
  const ms: number[] = [];
  const phases: PhaseTimes[] = [];
  let loss = NaN;
  for (let i = 0; i < warmup + steps; i++) {
    const r = race.step(profile);
    loss = r.loss;
    if (i < warmup) continue;
    ms.push(r.ms);
    if (r.phases !== null) phases.push(r.phases);
  }
  race.dispose();
  return { ms, phases, loss };
}

/** Kernel time by op over one step (tf.profile), the top `top` kernels. */
async function kernelProfile(race: RaceStep, top: number, byShape: boolean): Promise<string> {
  for (let i = 0; i < 2; i++) race.step(false);
  const info = await tf.profile(() => void race.step(false));
  race.dispose();
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const key = byShape ? `${k.name} [${k.outputShapes.map((s) => s?.join('×') ?? '?').join(', ')}]` : k.name;
    const a = byName.get(key) ?? { ms: 0, calls: 0 };
    a.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    a.calls++;
    byName.set(key, a);
  }
  if (process.argv.includes('--sequence')) process.stderr.write(`${info.kernels.map((k) => `${k.name}[${k.outputShapes.map((x) => x?.join('×')).join(',')}]`).join('\n')}\n`);
  const rows = [...byName.entries()].sort((x, y) => y[1].ms - x[1].ms);
  const total = rows.reduce((s, [, a]) => s + a.ms, 0);
  return [`kernels: ${info.kernels.length} calls, ${total.toFixed(0)} ms kernel time`,
    ...rows.slice(0, top).map(([n, a]) => `  ${n.padEnd(byShape ? 44 : 28)} ${a.ms.toFixed(1).padStart(8)} ms ${String(a.calls).padStart(5)} calls`)].join('\n');
}

/** Child mode: one backend in this process; prints one JSON line. */
async function runChild(requested: BackendName): Promise<void> {
  const backend = await initBackend(requested);
  const warmup = Number(arg('warmup', '3'));
  const steps = Number(arg('steps', '10'));
  const profile = process.argv.includes('--profile');
  const items = Number(arg('items', String(DEFAULT_ITEMS)));
  const updates = parseParam('embedding_updates', arg('updates', 'dense'), '--updates');
  if (updates === 'auto') throw new Error('--updates: dense or sparse');
  if (process.argv.includes('--kernels')) {
    process.stderr.write(`${await kernelProfile(makeRaceStep(items, updates), Number(arg('top', '30')), process.argv.includes('--shapes'))}\n`);
    return;
  }
  const numTensors = tf.memory().numTensors;
  const race = makeRaceStep(items, updates);
  const cpu0 = process.cpuUsage();
  const r = runSteps(race, warmup, steps, profile);
  const cpu = process.cpuUsage(cpu0); // µs over warmup + measured steps: steadier than wall time on a loaded machine
  const leaked = tf.memory().numTensors - numTensors;
  const perStep = (us: number): string => (us / 1000 / (warmup + steps)).toFixed(0);
  let detail = `loss ${r.loss.toFixed(3)}, ${leaked} tensors left, CPU/step user ${perStep(cpu.user)} + sys ${perStep(cpu.system)} ms, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`;
  if (profile) {
    const f = median(r.phases.map((x) => x.forward));
    const b = median(r.phases.map((x) => x.backward));
    const o = median(r.phases.map((x) => x.optimizer));
    detail += `; forward ${f.toFixed(0)} ms, backward (fwd+bwd − fwd) ${b.toFixed(0)} ms, optimizer ${o.toFixed(0)} ms`;
  }
  const onednn = backend === 'tensorflow' ? `, TF_ENABLE_ONEDNN_OPTS=${process.env['TF_ENABLE_ONEDNN_OPTS']}` : '';
  process.stdout.write(`${JSON.stringify({ backend: `${backend}${onednn}, ${updates} updates`, msPerStep: [median(r.ms)], detail })}\n`);
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

function runChildProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd: REPO, env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

function measureTfjs(backend: string, warmup: number, steps: number, extra: string[] = [], env?: NodeJS.ProcessEnv): Result {
  const out = runChildProcess(process.execPath, ['--import', 'tsx', `${HERE}train-step.ts`, '--child', backend,
    '--warmup', String(warmup), '--steps', String(steps), ...extra], env);
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

function measureTorch(items: number, sparse: boolean, warmup: number, steps: number, env?: NodeJS.ProcessEnv): Result {
  const python = `${REPO}.venv/bin/python`;
  if (!existsSync(python)) throw new Error('no .venv/bin/python (run bash bench/peers/setup.sh)');
  const out = runChildProcess(python, [`${HERE}peers/hstu_step.py`, '--batch', String(B), '--seq-len', String(N), '--items', String(items),
    '--negatives', String(NEGATIVES), '--warmup', String(warmup), '--steps', String(steps), '--json', ...(sparse ? ['--sparse'] : [])], env);
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

function loadAverage(): string {
  return runChildProcess('cat', ['/proc/loadavg']).split(' ').slice(0, 3).join(' ');
}

async function main(): Promise<void> {
  const child = arg('child', '');
  if (child !== '') return runChild(parseParam('backend', child, '--child'));
  const backends = arg('backends', 'wasm,tensorflow,torch').split(',');
  const warmup = Number(arg('warmup', '3'));
  const steps = Number(arg('steps', '10'));
  const repeats = Number(arg('repeats', '1'));
  const sizes = arg('items', String(DEFAULT_ITEMS)).split(',').map(Number);
  const updates = arg('updates', 'dense,sparse').split(',');
  const log = (s: string): void => { process.stdout.write(`${s}\n`); };
  log(`[bench/train-step] B=${B} N=${N} D=64, 2 blocks × 4 heads (dqk=dv=16), items ${sizes.join(' and ')} (×64 table), ${NEGATIVES} negatives, InfoNCE + AdamW; ` +
    `warmup ${warmup}, ${steps} measured steps (wasm 1 + 3), ${repeats} repeat(s)`);
  if (process.env['RACE_OVERRIDE']) log(`[bench/train-step] RACE_OVERRIDE=${process.env['RACE_OVERRIDE']} changes our model only, not the PyTorch peer's: the ratios compare different models`);
  const results = new Map<string, Result>(); // by "items · backend"
  const loads: string[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const items of sizes) {
      for (const name of backends) {
        // ours once per update mode; torch's dense AdamW and its sparse alternative (nn.Embedding(sparse=True) + SparseAdam)
        for (const mode of updates) {
          if (name === 'wasm' && mode === 'sparse' && items > DEFAULT_ITEMS) continue; // tensor rows copy the table: minutes a step
          loads.push(loadAverage());
          let res: Result;
          try {
            const sparse = mode === 'sparse';
            if (name === 'torch') res = measureTorch(items, sparse, warmup, steps);
            // One OpenMP thread: on a loaded 2-core machine torch's 2 spinning threads slow it ~15× [measured].
            else if (name === 'torch-1thread') res = measureTorch(items, sparse, warmup, steps, { ...process.env, OMP_NUM_THREADS: '1' });
            else {
              const extra = ['--items', String(items), '--updates', mode];
              if (name === 'tensorflow-noonednn') res = measureTfjs('tensorflow', warmup, steps, extra, { ...process.env, TF_ENABLE_ONEDNN_OPTS: '0' });
              else res = measureTfjs(name, name === 'wasm' ? 1 : warmup, name === 'wasm' ? Math.min(steps, 3) : steps, extra); // wasm: ~4 s/step
            }
          } catch (err) {
            process.stderr.write(`[bench/train-step] ${name} ${mode} at ${items} items: ${(err as Error).message}\n`);
            continue;
          }
          const key = `${items}\t${res.backend}`;
          const prev = results.get(key);
          results.set(key, prev === undefined ? res : { ...res, msPerStep: [...prev.msPerStep, ...res.msPerStep] });
        }
      }
    }
  }
  const tokens = B * N;
  log(`load average before each run: ${loads.join(' / ')}`);
  log(`${'items'.padStart(8)} ${'backend'.padEnd(56)} ${'ms/step'.padStart(8)} ${'tokens/s'.padStart(9)} ${'vs torch'.padStart(8)} ${`vs ${sizes[0]}`.padStart(9)}  per-repeat medians; detail`);
  const msOf = (key: string): number => median(results.get(key)!.msPerStep);
  for (const [key, r] of results) {
    const [items] = key.split('\t');
    const ms = median(r.msPerStep);
    // the fastest torch configuration at the same size is the yardstick
    const torchRows = [...results.entries()].filter(([k, x]) => k.startsWith(`${items}\t`) && x.backend.startsWith('torch')).map(([k]) => msOf(k));
    const torchMs = torchRows.length === 0 ? NaN : Math.min(...torchRows);
    const base = results.has(`${sizes[0]}\t${r.backend}`) ? msOf(`${sizes[0]}\t${r.backend}`) : NaN;
    log(`${items!.padStart(8)} ${r.backend.padEnd(56)} ${ms.toFixed(0).padStart(8)} ${Math.round(tokens / ms * 1000).toString().padStart(9)} ${(torchMs / ms).toFixed(2).padStart(7)}× ${(ms / base).toFixed(2).padStart(8)}×  ` +
      `[${r.msPerStep.map((x) => x.toFixed(0)).join(', ')}]; ${r.detail}`);
  }
}

// main only when run, not when another bench imports raceConfig
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
