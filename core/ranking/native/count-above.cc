// Fused score-and-count for exact ranking (issue "TencentGR-1M scale"; the readable reference is rankOf in
// core/ranking/topk.ts, the contract is core/ranking/rank-gemm.ts's header). For each query q and each item i in
// [first, I), the float32 score s = q·i is computed in registers and only compared, never stored:
//   s > hi(q, block)           → i is ranked above q's target: counted;
//   lo(q, block) ≤ s ≤ hi(...) → too close to call in float32 (and not the target): i is re-scored in float64
//                                (rankOf's dot: float32 inputs, float64 products and sum in dimension order) and
//                                counted when it beats the target's float64 score, or ties it at a lower index;
//   s < lo                     → below the target: ignored.
// Then each of q's excluded items (deduplicated; not the target, not below `first`) that beats the target the same
// float64 way is taken back off the count. hi/lo are the target's float64 score ± bound(q)·max‖i‖ over the block,
// rounded outward to float32, exactly as rank-gemm.ts computes them per chunk. The float32 dot product here sums in
// dimension order with FMA; the bound holds for any order, so the counts are exact and do not depend on the
// kernel, the CPU or the threads. (A float64 product of two float32 values is exact, so the re-scoring gives the
// same bits as rankOf's JavaScript, fused multiply-add or not.)
//
// Layout: queries are packed per tile of MR rows as [D][MR], items per panel of NR items as [D][NR] (a block
// of items is packed once and read by every query tile), so the inner loop is MR×NR FMAs per dimension with
// all accumulators in registers (the BLIS micro-kernel shape). x86-64 with AVX2+FMA uses intrinsics; anything
// else uses the portable loop, which the test compares against the same reference.
//
// countAbove(queries: Float32Array [Q×D], D, items: Float32Array [I×D], first, itemNorms: Float64Array [I],
//            targets: Int32Array [Q], targetScore: Float64Array [Q], queryBound: Float64Array [Q],
//            block, threads, portable, excludeOffsets: Int32Array [Q+1], excludeItems: Int32Array)
//   → { above: Int32Array [Q] (rank − 1: the non-excluded items ranked above each target), rescored: number }
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../../ops/native/napi-args.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

constexpr int MR = 6;   // queries per micro-tile
constexpr int NR = 16;  // items per panel (two 8-float vectors)

struct Task {
  const float* queries;
  int64_t Q, D;
  const float* items;
  int64_t first, I;
  const double* itemNorm;
  const int32_t* target;
  const double* targetScore;
  const double* queryBound;
  int64_t block;
  bool portable;
  const int32_t* excludeOffsets;  // [Q+1]
  const int32_t* excludeItems;
};

struct Result {
  std::vector<int32_t> above;  // per query
  int64_t rescored = 0;        // (q, i) pairs re-scored in float64
};

// rankOf's float64 dot product (core/ranking/topk.ts dot): products of float32 values are exact in float64.
double dot64(const Task& t, int64_t q, int64_t i) {
  const float* a = t.queries + q * t.D;
  const float* b = t.items + i * t.D;
  double s = 0;
  for (int64_t d = 0; d < t.D; d++) s += static_cast<double>(a[d]) * static_cast<double>(b[d]);
  return s;
}

// rankOf's order: item i is above q's target when it scores higher, or the same at a lower index.
bool beats(const Task& t, int64_t q, int64_t i) {
  const double s = dot64(t, q, i);
  return s > t.targetScore[q] || (s == t.targetScore[q] && i < t.target[q]);
}

// The smallest float32 ≥ x and the largest float32 ≤ x (rank-gemm.ts's nextUp, both ways).
float roundUp(double x) {
  float f = static_cast<float>(x);
  return static_cast<double>(f) < x ? std::nextafter(f, INFINITY) : f;
}
float roundDown(double x) {
  float f = static_cast<float>(x);
  return static_cast<double>(f) > x ? std::nextafter(f, -INFINITY) : f;
}

// One tile's comparison, shared by both kernels: s [MR][NR] scores of tile rows q0.. and panel items i0...
void countTile(const Task& t, const float* s, int64_t q0, int rows, int64_t i0, int cols, const float* hi,
               const float* lo, Result& out) {
  for (int r = 0; r < rows; r++) {
    const int64_t q = q0 + r;
    int32_t n = 0;
    for (int c = 0; c < cols; c++) {
      const float v = s[r * NR + c];
      if (v > hi[q]) n++;
      else if (v >= lo[q] && i0 + c != t.target[q]) {
        out.rescored++;
        if (beats(t, q, i0 + c)) n++;
      }
    }
    out.above[q] += n;
  }
}

// Portable micro-kernel: s[r][c] = Σ_d A[d][r]·B[d][c], summed in dimension order.
void tilePortable(const float* A, const float* B, int64_t D, float* s) {
  float acc[MR * NR] = {};
  for (int64_t d = 0; d < D; d++) {
    const float* a = A + d * MR;
    const float* b = B + d * NR;
    for (int r = 0; r < MR; r++)
      for (int c = 0; c < NR; c++) acc[r * NR + c] = std::fma(a[r], b[c], acc[r * NR + c]);
  }
  std::memcpy(s, acc, sizeof acc);
}

#if defined(__x86_64__)
// One tile row's comparisons: the lanes surely above the target (s > hi) counted, and whether any lane other than
// the target is undecided (lo ≤ s ≤ hi), on 16-bit masks of the row's two vectors.
__attribute__((target("avx2,fma"), always_inline)) inline void compareRow(
    int r, __m256 v0, __m256 v1, int64_t q0, int rows, int64_t i0, unsigned valid, const float* hi, const float* lo,
    const int32_t* target, int* above, bool& undecided) {
  if (r >= rows) return;
  const int64_t q = q0 + r;
  const __m256 h = _mm256_set1_ps(hi[q]);
  const __m256 l = _mm256_set1_ps(lo[q]);
  const unsigned gt = (static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v0, h, _CMP_GT_OQ))) |
                       static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v1, h, _CMP_GT_OQ))) << 8) & valid;
  const unsigned ge = (static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v0, l, _CMP_GE_OQ))) |
                       static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v1, l, _CMP_GE_OQ))) << 8) & valid;
  above[r] = __builtin_popcount(gt);
  const int64_t t = target[q] - i0;
  // the target itself is always within the bound of its own score: not a reason to look closer
  if ((ge & ~gt) & ~(t >= 0 && t < NR ? 1u << t : 0u)) undecided = true;
}

// AVX2+FMA micro-kernel: 12 accumulators (MR rows × 2 vectors, named: an array indexed after the loop is kept in
// memory by the compiler, which stores every accumulator on every step), then the comparisons on the vectors; a
// tile with an undecided item other than a target goes through countTile's scalar path.
__attribute__((target("avx2,fma"))) void tileAvx2(const Task& t, const float* A, const float* B, int64_t q0, int rows,
                                                  int64_t i0, int cols, const float* hi, const float* lo, Result& out) {
  const int64_t D = t.D;
  const int32_t* target = t.target;
  static_assert(MR == 6 && NR == 16, "the accumulators below are written out for 6 × 16 tiles");
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t d = 0; d < D; d++) {
    const __m256 b0 = _mm256_loadu_ps(B + d * NR);
    const __m256 b1 = _mm256_loadu_ps(B + d * NR + 8);
    const float* a = A + d * MR;
    __m256 x = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(x, b0, c40), c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(x, b0, c50), c51 = _mm256_fmadd_ps(x, b1, c51);
  }
  const unsigned valid = cols >= NR ? 0xFFFFu : (1u << cols) - 1u;
  int above[MR] = {};
  bool undecided = false;
  compareRow(0, c00, c01, q0, rows, i0, valid, hi, lo, target, above, undecided);
  compareRow(1, c10, c11, q0, rows, i0, valid, hi, lo, target, above, undecided);
  compareRow(2, c20, c21, q0, rows, i0, valid, hi, lo, target, above, undecided);
  compareRow(3, c30, c31, q0, rows, i0, valid, hi, lo, target, above, undecided);
  compareRow(4, c40, c41, q0, rows, i0, valid, hi, lo, target, above, undecided);
  compareRow(5, c50, c51, q0, rows, i0, valid, hi, lo, target, above, undecided);
  if (!undecided) {
    for (int r = 0; r < rows; r++) out.above[q0 + r] += above[r];
    return;
  }
  // Rare: an item within the bound of a target's score; the scalar path counts this tile, re-scoring those items.
  alignas(32) float s[MR * NR];
  _mm256_store_ps(s + 0 * NR, c00), _mm256_store_ps(s + 0 * NR + 8, c01);
  _mm256_store_ps(s + 1 * NR, c10), _mm256_store_ps(s + 1 * NR + 8, c11);
  _mm256_store_ps(s + 2 * NR, c20), _mm256_store_ps(s + 2 * NR + 8, c21);
  _mm256_store_ps(s + 3 * NR, c30), _mm256_store_ps(s + 3 * NR + 8, c31);
  _mm256_store_ps(s + 4 * NR, c40), _mm256_store_ps(s + 4 * NR + 8, c41);
  _mm256_store_ps(s + 5 * NR, c50), _mm256_store_ps(s + 5 * NR + 8, c51);
  countTile(t, s, q0, rows, i0, cols, hi, lo, out);
}

bool hasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
bool hasAvx2() { return false; }
#endif

constexpr int64_t SUB = 16;  // panels per sub-block: 256 items × D=64 = 64 KB, kept in L2 while every query tile reads it

// Query tiles [tile0, tile1) against the whole catalogue, block by block (a thread's share: the queries are split,
// never the items, so every block's bound is the one rank-gemm.ts would use and the threads' work is even).
void run(const Task& t, int64_t tile0, int64_t tile1, Result& out) {
  const int64_t D = t.D, Q = t.Q;
  std::vector<float> A((tile1 - tile0) * D * MR, 0.0f);  // [tile][D][MR]
  for (int64_t q = tile0 * MR; q < std::min(Q, tile1 * MR); q++)
    for (int64_t d = 0; d < D; d++) A[(q / MR - tile0) * D * MR + d * MR + q % MR] = t.queries[q * D + d];
  const int64_t maxPanels = (std::min(t.block, t.I - t.first) + NR - 1) / NR;
  std::vector<float> B(std::max<int64_t>(maxPanels, 1) * D * NR);  // [panel][D][NR]
  std::vector<float> hi(Q), lo(Q);
  alignas(32) float s[MR * NR];
  const bool avx2 = !t.portable && hasAvx2();
  const int64_t q0 = tile0 * MR, q1 = std::min(Q, tile1 * MR);
  out.above.assign(Q, 0);
  for (int64_t i0 = t.first; i0 < t.I; i0 += t.block) {
    const int64_t i1 = std::min(i0 + t.block, t.I);
    double maxNorm = 0;
    for (int64_t i = i0; i < i1; i++) maxNorm = std::max(maxNorm, t.itemNorm[i]);
    for (int64_t q = q0; q < q1; q++) {
      const double bound = t.queryBound[q] * maxNorm;
      hi[q] = roundUp(t.targetScore[q] + bound);
      lo[q] = roundDown(t.targetScore[q] - bound);
    }
    const int64_t panels = (i1 - i0 + NR - 1) / NR;
    std::fill(B.begin() + (panels - 1) * D * NR, B.begin() + panels * D * NR, 0.0f);  // the last panel's padding
    for (int64_t i = i0; i < i1; i++) {
      const int64_t p = (i - i0) / NR, c = (i - i0) % NR;
      const float* row = t.items + i * D;
      for (int64_t d = 0; d < D; d++) B[p * D * NR + d * NR + c] = row[d];
    }
    for (int64_t sp = 0; sp < panels; sp += SUB) {
      const int64_t sp1 = std::min(panels, sp + SUB);
      for (int64_t tile = tile0; tile < tile1; tile++) {
        const int rows = static_cast<int>(std::min<int64_t>(MR, Q - tile * MR));
        const float* a = A.data() + (tile - tile0) * D * MR;
        for (int64_t p = sp; p < sp1; p++) {
          const int64_t p0 = i0 + p * NR;
          const int cols = static_cast<int>(std::min<int64_t>(NR, i1 - p0));
          const float* b = B.data() + p * D * NR;
#if defined(__x86_64__)
          if (avx2) {
            tileAvx2(t, a, b, tile * MR, rows, p0, cols, hi.data(), lo.data(), out);
            continue;
          }
#endif
          tilePortable(a, b, D, s);
          countTile(t, s, tile * MR, rows, p0, cols, hi.data(), lo.data(), out);
        }
      }
    }
  }
  // Excluded items never count against the target: those counted above are taken back (each once).
  std::vector<int32_t> list;
  for (int64_t q = q0; q < q1; q++) {
    list.assign(t.excludeItems + t.excludeOffsets[q], t.excludeItems + t.excludeOffsets[q + 1]);
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
    for (const int32_t e : list)
      if (e != t.target[q] && e >= t.first && beats(t, q, e)) out.above[q]--;
  }
}

// ---- N-API glue

constexpr const char* FN = "countAbove";
using napi_args::intArg;
using napi_args::typedArg;

napi_value CountAbove(napi_env env, napi_callback_info info) {
  constexpr size_t ARGS = 13;
  napi_value argv[ARGS];
  if (!napi_args::exactArgs(env, info, argv, ARGS, FN, "13 arguments")) return nullptr;
  Task t{};
  size_t nq, ni, nn, nt, ns, nb, no, ne;
  int64_t threads, portable;
  if (!typedArg(env, argv[0], napi_float32_array, &t.queries, &nq, FN, "queries") || !intArg(env, argv[1], &t.D, FN, "D") ||
      !typedArg(env, argv[2], napi_float32_array, &t.items, &ni, FN, "items") || !intArg(env, argv[3], &t.first, FN, "first") ||
      !typedArg(env, argv[4], napi_float64_array, &t.itemNorm, &nn, FN, "itemNorms") ||
      !typedArg(env, argv[5], napi_int32_array, &t.target, &nt, FN, "targets") ||
      !typedArg(env, argv[6], napi_float64_array, &t.targetScore, &ns, FN, "targetScore") ||
      !typedArg(env, argv[7], napi_float64_array, &t.queryBound, &nb, FN, "queryBound") ||
      !intArg(env, argv[8], &t.block, FN, "block") || !intArg(env, argv[9], &threads, FN, "threads") ||
      !intArg(env, argv[10], &portable, FN, "portable") ||
      !typedArg(env, argv[11], napi_int32_array, &t.excludeOffsets, &no, FN, "excludeOffsets") ||
      !typedArg(env, argv[12], napi_int32_array, &t.excludeItems, &ne, FN, "excludeItems"))
    return nullptr;
  if (t.D <= 0 || nq % t.D != 0 || ni % t.D != 0 || t.block <= 0) {
    napi_throw_range_error(env, nullptr, "countAbove: D must divide queries and items; block must be positive");
    return nullptr;
  }
  t.Q = static_cast<int64_t>(nq / t.D);
  t.I = static_cast<int64_t>(ni / t.D);
  if (nn != static_cast<size_t>(t.I) || nt != static_cast<size_t>(t.Q) || ns != nt || nb != nt || no != nt + 1 ||
      t.first < 0 || t.first > t.I) {
    napi_throw_range_error(env, nullptr, "countAbove: itemNorms, targets, targetScore, queryBound or excludeOffsets has the wrong length");
    return nullptr;
  }
  for (int64_t q = 0; q < t.Q; q++) {
    if (t.target[q] < t.first || t.target[q] >= t.I || t.excludeOffsets[q] < 0 || t.excludeOffsets[q] > t.excludeOffsets[q + 1]) {
      napi_throw_range_error(env, nullptr, "countAbove: a target is not a candidate row, or excludeOffsets is not a prefix sum");
      return nullptr;
    }
  }
  if (t.excludeOffsets[0] != 0 || static_cast<size_t>(t.excludeOffsets[t.Q]) != ne) {
    napi_throw_range_error(env, nullptr, "countAbove: excludeOffsets must run from 0 to excludeItems.length");
    return nullptr;
  }
  for (size_t j = 0; j < ne; j++) {
    if (t.excludeItems[j] < 0 || t.excludeItems[j] >= t.I) {
      napi_throw_range_error(env, nullptr, "countAbove: an excluded item is not an item row");
      return nullptr;
    }
  }
  t.portable = portable != 0;
  // Threads take contiguous runs of query tiles (the item blocks and their bounds are the same for every thread).
  const int64_t tiles = (t.Q + MR - 1) / MR;
  const int64_t T = std::max<int64_t>(1, std::min<int64_t>(threads, tiles));
  std::vector<Result> parts(T);
  std::vector<std::thread> pool;
  for (int64_t k = 0; k < T; k++) {
    const int64_t tile0 = tiles * k / T, tile1 = tiles * (k + 1) / T;
    if (k + 1 == T) run(t, tile0, tile1, parts[k]);
    else pool.emplace_back([&t, &parts, k, tile0, tile1] { run(t, tile0, tile1, parts[k]); });
  }
  for (auto& th : pool) th.join();
  int32_t* above = nullptr;
  napi_value aboveArray = napi_args::newTypedArray(env, napi_int32_array, t.Q, &above);
  if (aboveArray == nullptr) {
    napi_throw_error(env, nullptr, "countAbove: cannot allocate the result");
    return nullptr;
  }
  int64_t rescored = 0;
  for (auto& p : parts) {
    for (int64_t q = 0; q < t.Q && !p.above.empty(); q++) above[q] += p.above[q];
    rescored += p.rescored;
  }
  napi_value result, rescoredValue;
  NAPI_CHECK("countAbove", napi_create_object(env, &result));
  NAPI_CHECK("countAbove", napi_create_double(env, static_cast<double>(rescored), &rescoredValue));
  NAPI_CHECK("countAbove", napi_set_named_property(env, result, "above", aboveArray));
  NAPI_CHECK("countAbove", napi_set_named_property(env, result, "rescored", rescoredValue));
  return result;
}

napi_value Avx2(napi_env env, napi_callback_info) {
  napi_value v;
  napi_get_boolean(env, hasAvx2(), &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "countAbove", NAPI_AUTO_LENGTH, CountAbove, nullptr, &fn);
  napi_set_named_property(env, exports, "countAbove", fn);
  napi_create_function(env, "simd", NAPI_AUTO_LENGTH, Avx2, nullptr, &fn);
  napi_set_named_property(env, exports, "simd", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GEMM_COUNT, Init)
