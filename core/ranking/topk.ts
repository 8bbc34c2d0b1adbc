// Exact retrieval over the full item table (SPEC §7): top-k lists and the exact rank of each target, by a
// chunked query·itemᵀ product. Cost is O(Q·I·D); memory is bounded by one score block (query block × chunk).
//
// Conventions shared by topK, topKTf and rankOf:
// - item row r is itemIdx r; with skipRow0 (default true) row 0, the padding item, is never a candidate;
// - order: higher score first, ties broken by lower item index, so results are deterministic;
// - exclude(q) lists item rows never to recommend to query q (e.g. its history); repeats are harmless;
// - topK/rankOf sum each dot product in float64 in dimension order, so one (query, item) pair gets the
//   bit-identical score wherever it is computed (this is what makes ties with duplicate vectors exact);
//   topKTf uses the backend's float32 matMul, so near-ties may order differently from topK.
import * as tf from '@tensorflow/tfjs';

export type ExcludeFn = (q: number) => ArrayLike<number>;

export type RetrievalOptions = {
  /** Items scored per block; bounds memory. */
  chunkItems?: number;
  /** Item rows to drop for query q. */
  exclude?: ExcludeFn;
  /** Row 0 is the padding item: never a candidate (default true). */
  skipRow0?: boolean;
};

/** [Q×k] each, best first. Lists shorter than k (too few candidates) are padded with index -1, score -Infinity. */
export type TopKResult = { indices: Int32Array; scores: Float32Array };

const DEFAULT_CHUNK_ITEMS = 4096;
// Queries scored together against one item chunk: the item rows are read once per block, not per query.
const QUERY_BLOCK = 16;

/** Exact top-k items per query, with exclusions. queries [Q×D], items [I×D]. */
export function topK(queries: Float32Array, items: Float32Array, D: number, k: number, opts: RetrievalOptions = {}): TopKResult {
  const { Q, I, chunk, first } = checkInputs(queries, items, D, opts);
  checkK(k);
  const out: TopKResult = { indices: new Int32Array(Q * k), scores: new Float32Array(Q * k) };
  const buf = new Float64Array(QUERY_BLOCK * chunk); // [Qb×C]
  const heaps = new TopKHeaps(QUERY_BLOCK, k);
  for (let q0 = 0; q0 < Q; q0 += QUERY_BLOCK) {
    const q1 = Math.min(q0 + QUERY_BLOCK, Q);
    const excluded = collectExclusions(opts.exclude, q0, q1, I);
    heaps.reset();
    for (let i0 = first; i0 < I; i0 += chunk) {
      const i1 = Math.min(i0 + chunk, I);
      const C = i1 - i0;
      scoreBlock(queries, q0, q1, items, i0, i1, D, buf);
      for (let row = 0; row < q1 - q0; row++) {
        const base = row * C;
        // NaN marks an excluded item in this block (NaN >= floor is false); real scores are never NaN.
        const list = excluded[row]!;
        for (let j = 0; j < list.length; j++) {
          const e = list[j]!;
          if (e >= i0 && e < i1) buf[base + e - i0] = NaN;
        }
        let floor = heaps.floor(row);
        for (let c = 0; c < C; c++) {
          const s = buf[base + c]!;
          if (s >= floor) {
            heaps.offer(row, s, i0 + c);
            floor = heaps.floor(row);
          }
        }
      }
    }
    for (let row = 0; row < q1 - q0; row++) heaps.writeSorted(row, out, (q0 + row) * k);
  }
  return out;
}

/**
 * Exact 1-based rank of targets[q] for each query among all candidate items: 1 + the number of
 * non-excluded items with a strictly greater score or an equal score and a lower index.
 * The target stays rankable even when exclude(q) lists it (SASRec/competition convention: history exclusion
 * never removes the item being predicted), and excluded items never count against it.
 */
export function rankOf(queries: Float32Array, items: Float32Array, D: number, targets: ArrayLike<number>, opts: RetrievalOptions = {}): Int32Array {
  const { Q, I, chunk, first } = checkInputs(queries, items, D, opts);
  checkTargets('rankOf', targets, Q, first, I);
  const ranks = new Int32Array(Q).fill(1);
  const buf = new Float64Array(QUERY_BLOCK * chunk); // [Qb×C]
  const targetScore = new Float64Array(QUERY_BLOCK);
  for (let q0 = 0; q0 < Q; q0 += QUERY_BLOCK) {
    const q1 = Math.min(q0 + QUERY_BLOCK, Q);
    for (let q = q0; q < q1; q++) targetScore[q - q0] = dot(queries, q * D, items, targets[q]! * D, D);
    for (let i0 = first; i0 < I; i0 += chunk) {
      const i1 = Math.min(i0 + chunk, I);
      const C = i1 - i0;
      scoreBlock(queries, q0, q1, items, i0, i1, D, buf);
      for (let row = 0; row < q1 - q0; row++) {
        const t = targets[q0 + row]!;
        const st = targetScore[row]!;
        const base = row * C - i0;
        let beats = 0;
        // Items below the target's index win ties; items above it must score strictly higher.
        const tieEnd = Math.min(i1, t);
        for (let i = i0; i < tieEnd; i++) if (buf[base + i]! >= st) beats++;
        for (let i = Math.max(i0, t + 1); i < i1; i++) if (buf[base + i]! > st) beats++;
        ranks[q0 + row]! += beats;
      }
    }
  }
  if (opts.exclude) subtractExcluded(queries, items, D, targets, opts.exclude, first, ranks);
  return ranks;
}

/**
 * topK on tfjs tensors (any backend): one matMul per item chunk on the backend, selection in JS with the same
 * heaps and tie-break as topK. queries [Q×D], items [I×D]; memory is bounded by Q × chunkItems scores.
 * Selection stays in JS because tf.topk with k ≈ 200 cost ~3× the matMul itself on the tensorflow backend
 * [measured, bench/topk.ts], and its tie order would then depend on the backend.
 */
export async function topKTf(queries: tf.Tensor2D, items: tf.Tensor2D, k: number, opts: RetrievalOptions = {}): Promise<TopKResult> {
  const [Q, D] = queries.shape;
  const [I, Di] = items.shape;
  if (Di !== D) throw new Error(`topKTf: queries have ${D} dims, items ${Di}`);
  checkK(k);
  const chunk = checkChunk(opts.chunkItems);
  const first = opts.skipRow0 === false ? 0 : 1;
  // Sorted per query so membership is a binary search, needed only for scores that would enter the top k.
  const excluded = collectExclusions(opts.exclude, 0, Q, I).map((list) => Int32Array.from(list).sort());
  const heaps = new TopKHeaps(Q, k);
  for (let i0 = first; i0 < I; i0 += chunk) {
    const C = Math.min(chunk, I - i0);
    // Explicit transpose: transposed matMul is slow on wasm (SPEC §9).
    const scores = tf.tidy(() => tf.matMul(queries, tf.transpose(tf.slice(items, [i0, 0], [C, D])))); // [Q×C]
    const values = await scores.data();
    scores.dispose();
    for (let q = 0; q < Q; q++) {
      const list = excluded[q]!;
      const base = q * C;
      let floor = heaps.floor(q);
      for (let c = 0; c < C; c++) {
        const s = values[base + c]!;
        if (s >= floor && (list.length === 0 || !sortedHas(list, i0 + c))) {
          heaps.offer(q, s, i0 + c);
          floor = heaps.floor(q);
        }
      }
    }
  }
  const out: TopKResult = { indices: new Int32Array(Q * k), scores: new Float32Array(Q * k) };
  for (let q = 0; q < Q; q++) heaps.writeSorted(q, out, q * k);
  return out;
}

// ---- internals ----

export function checkInputs(queries: Float32Array, items: Float32Array, D: number, opts: RetrievalOptions) {
  if (!Number.isInteger(D) || D < 1) throw new Error(`D must be a positive integer, got ${D}`);
  if (queries.length % D !== 0) throw new Error(`queries length ${queries.length} is not a multiple of D=${D}`);
  if (items.length % D !== 0) throw new Error(`items length ${items.length} is not a multiple of D=${D}`);
  // A NaN score compares false with everything and would silently rank a target first.
  checkFinite(queries, D, 'queries');
  checkFinite(items, D, 'items');
  return { Q: queries.length / D, I: items.length / D, chunk: checkChunk(opts.chunkItems), first: opts.skipRow0 === false ? 0 : 1 };
}

/** Every target is a candidate item row, one per query. */
export function checkTargets(who: string, targets: ArrayLike<number>, Q: number, first: number, I: number): void {
  if (targets.length !== Q) throw new Error(`${who}: ${targets.length} targets for ${Q} queries`);
  for (let q = 0; q < Q; q++) {
    const t = targets[q]!;
    if (!Number.isInteger(t) || t < first || t >= I) throw new Error(`${who}: target ${t} of query ${q} is not a candidate item row (${first}..${I - 1})`);
  }
}

function checkFinite(x: Float32Array, D: number, what: string): void {
  for (let j = 0; j < x.length; j++) {
    if (!Number.isFinite(x[j]!)) throw new Error(`non-finite value ${x[j]} in ${what} row ${Math.floor(j / D)}`);
  }
}

function checkChunk(chunkItems: number | undefined): number {
  const chunk = chunkItems ?? DEFAULT_CHUNK_ITEMS;
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`chunkItems must be a positive integer, got ${chunk}`);
  return chunk;
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
}

export function collectExclusions(exclude: ExcludeFn | undefined, q0: number, q1: number, I: number): ArrayLike<number>[] {
  const lists: ArrayLike<number>[] = [];
  for (let q = q0; q < q1; q++) {
    const list = exclude ? exclude(q) : [];
    for (let j = 0; j < list.length; j++) {
      const e = list[j]!;
      checkExcludedRow(q, e, I);
    }
    lists.push(list);
  }
  return lists;
}

/** Index of the first entry ≥ x in a sorted list. */
function lowerBound(list: Int32Array, x: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedHas(list: Int32Array, x: number): boolean {
  const j = lowerBound(list, x);
  return j < list.length && list[j] === x;
}

/** Removes from each rank the distinct excluded items (other than the target) that beat the target. */
export function subtractExcluded(queries: Float32Array, items: Float32Array, D: number, targets: ArrayLike<number>, exclude: ExcludeFn, first: number, ranks: Int32Array): void {
  const I = items.length / D;
  const seen = new Int32Array(I); // seen[e] = q + 1 once e was handled for query q: dedupes repeats
  for (let q = 0; q < ranks.length; q++) {
    const t = targets[q]!;
    const st = dot(queries, q * D, items, t * D, D);
    const list = exclude(q);
    for (let j = 0; j < list.length; j++) {
      const e = list[j]!;
      checkExcludedRow(q, e, I);
      if (e === t || e < first || seen[e] === q + 1) continue;
      seen[e] = q + 1;
      const se = dot(queries, q * D, items, e * D, D);
      if (se > st || (se === st && e < t)) ranks[q]!--;
    }
  }
}

/** Throws unless e, listed by exclude(q), is an item row of a table of I rows (every ranking checks the same way). */
export function checkExcludedRow(q: number, e: number, I: number): void {
  if (!Number.isInteger(e) || e < 0 || e >= I) throw new Error(`exclude(${q}) lists ${e}, not an item row (0..${I - 1})`);
}

/** The one dot product; scoreBlock sums in the same order, so both give bit-identical scores. */
export function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += a[ao + d]! * b[bo + d]!;
  return s;
}

/** out[(q-q0)·C + (i-i0)] = queries[q]·items[i] for q in [q0,q1), i in [i0,i1), C = i1-i0. */
function scoreBlock(queries: Float32Array, q0: number, q1: number, items: Float32Array, i0: number, i1: number, D: number, out: Float64Array): void {
  const C = i1 - i0;
  const qTiles = q0 + ((q1 - q0) & ~3);
  const iTiles = i0 + ((i1 - i0) & ~1);
  for (let i = i0; i < iTiles; i += 2) {
    for (let q = q0; q < qTiles; q += 4) scoreTile4x2(queries, q * D, items, i * D, D, out, (q - q0) * C + (i - i0), C);
  }
  // Edges that do not fill a 4×2 tile.
  for (let q = q0; q < q1; q++) {
    const row = (q - q0) * C - i0;
    if (q >= qTiles) for (let i = i0; i < iTiles; i++) out[row + i] = dot(queries, q * D, items, i * D, D);
    for (let i = iTiles; i < i1; i++) out[row + i] = dot(queries, q * D, items, i * D, D);
  }
}

/**
 * Four queries × two items: each loaded value feeds several products (about 4× the throughput of one
 * dot at a time, measured). Every sum still runs d = 0..D-1 exactly like dot().
 */
function scoreTile4x2(queries: Float32Array, qo: number, items: Float32Array, io: number, D: number, out: Float64Array, o: number, C: number): void {
  const a = qo;
  const b = a + D;
  const c = b + D;
  const e = c + D;
  const jo = io + D;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (let d = 0; d < D; d++) {
    const x = items[io + d]!;
    const y = items[jo + d]!;
    const qa = queries[a + d]!;
    const qb = queries[b + d]!;
    const qc = queries[c + d]!;
    const qe = queries[e + d]!;
    s0 += qa * x;
    s1 += qb * x;
    s2 += qc * x;
    s3 += qe * x;
    t0 += qa * y;
    t1 += qb * y;
    t2 += qc * y;
    t3 += qe * y;
  }
  out[o] = s0;
  out[o + C] = s1;
  out[o + 2 * C] = s2;
  out[o + 3 * C] = s3;
  out[o + 1] = t0;
  out[o + C + 1] = t1;
  out[o + 2 * C + 1] = t2;
  out[o + 3 * C + 1] = t3;
}

/**
 * One bounded min-heap per query row, rooted at the worst kept entry (lowest score, then highest index),
 * so an offered item costs one comparison unless it enters the top k.
 */
export class TopKHeaps {
  private readonly score: Float64Array; // [R×k]
  private readonly index: Int32Array; // [R×k]
  private readonly size: Int32Array; // [R]

  constructor(rows: number, private readonly k: number) {
    this.score = new Float64Array(rows * k);
    this.index = new Int32Array(rows * k);
    this.size = new Int32Array(rows);
  }

  reset(): void {
    this.size.fill(0);
  }

  /** Scores below this cannot enter row's top k: -Infinity until the heap is full, then the worst kept score. */
  floor(row: number): number {
    return this.size[row]! < this.k ? -Infinity : this.score[row * this.k]!;
  }

  offer(row: number, s: number, idx: number): void {
    const base = row * this.k;
    const n = this.size[row]!;
    if (n < this.k) {
      this.size[row] = n + 1;
      this.siftUp(base, n, s, idx);
    } else if (s > this.score[base]! || (s === this.score[base]! && idx < this.index[base]!)) {
      this.siftDown(base, n, s, idx);
    }
  }

  /** Writes row's entries best first at out[offset..offset+k), padding with -1 / -Infinity. */
  writeSorted(row: number, out: TopKResult, offset: number): void {
    const base = row * this.k;
    const n = this.size[row]!;
    const order = Array.from({ length: n }, (_, j) => base + j);
    order.sort((x, y) => this.score[y]! - this.score[x]! || this.index[x]! - this.index[y]!);
    for (let j = 0; j < this.k; j++) {
      out.indices[offset + j] = j < n ? this.index[order[j]!]! : -1;
      out.scores[offset + j] = j < n ? this.score[order[j]!]! : -Infinity;
    }
  }

  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  private siftUp(base: number, pos: number, s: number, idx: number): void {
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      if (!this.worse(s, idx, this.score[base + parent]!, this.index[base + parent]!)) break;
      this.score[base + pos] = this.score[base + parent]!;
      this.index[base + pos] = this.index[base + parent]!;
      pos = parent;
    }
    this.score[base + pos] = s;
    this.index[base + pos] = idx;
  }

  /** Replaces the root with (s, idx) and restores the heap of size n. */
  private siftDown(base: number, n: number, s: number, idx: number): void {
    let pos = 0;
    for (;;) {
      let child = 2 * pos + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.worse(this.score[base + right]!, this.index[base + right]!, this.score[base + child]!, this.index[base + child]!)) child = right;
      if (!this.worse(this.score[base + child]!, this.index[base + child]!, s, idx)) break;
      this.score[base + pos] = this.score[base + child]!;
      this.index[base + pos] = this.index[base + child]!;
      pos = child;
    }
    this.score[base + pos] = s;
    this.index[base + pos] = idx;
  }
}
