// HSTU's pointwise attention core, forward and backward, fused (the readable reference is the attention section of
// block.ts; test/core/model/encoders/hstu/attention-native.test.ts checks this against it). Per sequence b and head
// h, with q, k rotated by RoPE on their first 2·half dims (none when half is 0), for query rows i and keys j ≤ i:
//   z[i,j] = q[b,i,h]·k[b,j,h] + (w_time[t[b,i,j]] + w_pos[i − j])    (w_pos alone without time buckets)
//   A[i,j] = SiLU(z[i,j]) · W[b,h,i,j]                                W: visible, and kept by attention dropout
//   o[b,i,h] = (Σ_j A[i,j] v[b,j,h]) · rowScale[b,i]                   rowScale: 1/n, times 1/(1 − rate) in training
// q, k, v and o stay in the token-major layout the block's projections use ([B·N, H·d]: no head transposes), and the
// [B, H, N, N] scores, weights and masks never exist as tensors: each row is computed, used and dropped, and the
// backward pass recomputes its row (as flash attention does) instead of reading saved ones. Keys j > i and padding
// rows (rowScale 0) are skipped: they contribute nothing and receive no gradient.
//   backward, with g_i = dO[b,i,h] · rowScale[b,i]:
//   dv_j += A[i,j] g_i     dz = (g_i·v_j) · W · SiLU'(z)     dq_i = Σ_j dz k_j     dk_j += dz q_i   (then back through RoPE)
//   dw_pos[i − j] += dz    dw_time[t[b,i,j]] += dz           (summed over b, h in float64, in b order)
// Attention dropout: W comes from `keep` (a {0, 1} [B, H, N, N] array, visible cells only) when one is given, else
// from the counter-based hash of core/ops/native/hash.h over the cells ((b·H + h)·N + i)·N + j, so the backward pass
// regenerates the forward's mask from the seed. Results do not depend on the number of threads: work is split by sequence,
// each sequence is computed in a fixed order, and the bias gradients are reduced over sequences in order.
//
// attentionForward(q, k, v, dims, visible, rowScale, keep, wPos, wTime, timeIdx, ropeCos, ropeSin, seed, rate,
//                  threads) → o
// attentionBackward(the same 15 arguments, dO) → { dq, dk, dv, dwPos, dwTime }
// keepWeights(dims [B, H, N], visible, seed, rate) → W, the {0, 1} [B, H, N, N] weights the hash draws (for tests)
// simd([on]) → whether the AVX2+FMA kernels run (simd(false): the portable loops, for tests)
// timeBuckets(timestamp: Float64Array [B, N], B, N, start, threshold) → Int32Array [B, N, N]: relative-bias.ts's
//   timeBiasIndices from its tables (timeBucketTable: the bucket where each 16-bit double prefix starts, and each
//   bucket's smallest gap)
//   q, k: Float32Array [B·N, H·dqk]; v, o, dO: [B·N, H·dv]; dims: Int32Array [B, H, N, dqk, dv, half];
//   visible: Float32Array [B, N, N] (1 where key j ≤ i is visible to query i); rowScale: Float32Array [B, N];
//   keep: Float32Array [B, H, N, N] or empty (hash dropout when rate > 0, none when rate is 0); wPos: Float32Array
//   [P ≥ N]; wTime: Float32Array [T] or empty (no time bias); timeIdx: Int32Array [B, N, N] in [0, T) or empty;
//   ropeCos, ropeSin: Float32Array [N, half] (rope.ts's ropeTables), empty when half is 0.

#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "../../../../ops/native/hash.h"
#include "../../../../ops/native/napi-args.h"

namespace {

struct Problem {
  int64_t B, H, N, dqk, dv, half, P, T;
  const float *q, *k, *v;           // [B·N, H·d]
  const float* visible;             // [B, N, N]
  const float* rowScale;            // [B, N]
  const float* keep;                // [B, H, N, N] or nullptr
  const float *wPos, *wTime;        // [P], [T] or nullptr
  const int32_t* timeIdx;           // [B, N, N] or nullptr
  const float *ropeCos, *ropeSin;   // [N, half]
  bool hashDropout;
  hash_dropout::Keys keys;
};

/** exp(x) in float32 (Cephes' expf polynomial; relative error ~2e-7), branch-free so loops over it vectorize. */
__attribute__((always_inline)) inline float expf32(float x) {
  x = x < -87.0f ? -87.0f : x;  // ternaries, not std::min/max or floor: those do not inline into the target clones
  x = x > 88.0f ? 88.0f : x;
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest: 1.5·2²³ trick, no libm
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return e * scale;
}

constexpr int64_t MR = 4;   // query rows per block: the products below keep MR rows' accumulators in registers
constexpr int64_t NB = 16;  // keys are processed in whole groups of NB (scratch rows are zero-padded to a multiple)

/** Per-thread buffers for one (b, h), every row stride S = N rounded up to NB: its rotated q, k and its v as rows
 *  (zero past N), k and v transposed ([d, S], zero past N), one block's MR rows of scores, weights, σ, A and
 *  gradients, and the backward pass's g rows and dk, dv accumulators. Zero padding makes the padded keys'
 *  weights, and so their A and dz, zero: the kernels below never need a tail loop. */
struct Scratch {
  int64_t S;
  std::vector<float> q, k, v, kT, vT, dk, dv, g, z, s, w, a, d;
  explicit Scratch(const Problem& p)
      : S((p.N + NB - 1) / NB * NB), q(S * p.dqk), k(S * p.dqk), v(S * p.dv), kT(p.dqk * S), vT(p.dv * S),
        dk(S * p.dqk), dv(S * p.dv), g(MR * p.dv), z(MR * S), s(MR * S), w(MR * S), a(MR * S), d(MR * S) {}
};

// ---- Block kernels over MR query rows at a time (rows [MR, ·] with a row stride of N for scores): a portable loop
// each, and an AVX2+FMA version with the MR rows' accumulators in registers where the CPU has it (and, for
// combine/scatter, the width is 8, 16 or 32). Both sum each output in the same order (they differ in FMA rounding).

/** out[r, j] = Σ_d x[r, d] · yT[d, j] for r < MR, j < L (x: [MR, D], yT: [D, N], out: [MR, N]). */
void scoresPortable(const float* __restrict x, const float* __restrict yT, int64_t D, int64_t N, int64_t L, float* __restrict out) {
  for (int64_t r = 0; r < MR; r++)
    for (int64_t j = 0; j < L; j++) {
      float acc = 0.0f;
      for (int64_t d = 0; d < D; d++) acc += x[r * D + d] * yT[d * N + j];
      out[r * N + j] = acc;
    }
}

/** out[r, :] = Σ_{j < L} c[r, j] · y[j, :] (c: [MR, N], y: [L, D], out: [MR, D]). */
void combinePortable(const float* __restrict c, const float* __restrict y, int64_t D, int64_t N, int64_t L, float* __restrict out) {
  for (int64_t r = 0; r < MR; r++)
    for (int64_t e = 0; e < D; e++) {
      float acc = 0.0f;
      for (int64_t j = 0; j < L; j++) acc += c[r * N + j] * y[j * D + e];
      out[r * D + e] = acc;
    }
}

/** y[j, :] += Σ_r c[r, j] · x[r, :] for j < L (c: [MR, N], x: [MR, D], y: [L, D]). */
void scatterPortable(const float* __restrict c, const float* __restrict x, int64_t D, int64_t N, int64_t L, float* __restrict y) {
  for (int64_t j = 0; j < L; j++)
    for (int64_t e = 0; e < D; e++) {
      float acc = y[j * D + e];
      for (int64_t r = 0; r < MR; r++) acc += c[r * N + j] * x[r * D + e];
      y[j * D + e] = acc;
    }
}

/** σ(z) and a = z·σ(z)·w for n cells. */
void siluPortable(const float* __restrict z, const float* __restrict w, int64_t n, float* __restrict s, float* __restrict a) {
  for (int64_t j = 0; j < n; j++) {
    const float sig = 1.0f / (1.0f + expf32(-z[j]));
    s[j] = sig;
    a[j] = z[j] * sig * w[j];
  }
}

/** d ← d · w · SiLU'(z) = d · w · (σ + z·σ·(1 − σ)) for n cells (d: dA in, dz out). */
void siluBackwardPortable(const float* __restrict z, const float* __restrict s, const float* __restrict w, int64_t n, float* __restrict d) {
  for (int64_t j = 0; j < n; j++) d[j] = d[j] * w[j] * (s[j] + z[j] * s[j] * (1.0f - s[j]));
}

/** w[j] = vis[j] where the hash keeps cell base + j, else 0, for j < L. */
void hashKeepPortable(const Problem& p, uint32_t base, const float* __restrict vis, int64_t L, float* __restrict w) {
  for (int64_t j = 0; j < L; j++) {
    w[j] = hash_dropout::kept(p.keys, base + static_cast<uint32_t>(j)) ? vis[j] : 0.0f;
  }
}

#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 inline __m256 exp8(__m256 x) {  // expf32, eight at a time
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 e = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
}

AVX2 void hashKeepAvx2(const Problem& p, uint32_t base, const float* __restrict vis, int64_t L, float* __restrict w) {
  int64_t j = 0;
  for (; j + 8 <= L; j += 8) {
    const __m256i dropped = hash_dropout::dropped8(p.keys, base + static_cast<uint32_t>(j));
    _mm256_storeu_ps(w + j, _mm256_andnot_ps(_mm256_castsi256_ps(dropped), _mm256_loadu_ps(vis + j)));
  }
  if (j < L) hashKeepPortable(p, base + static_cast<uint32_t>(j), vis + j, L - j, w + j);
}

AVX2 void siluAvx2(const float* __restrict z, const float* __restrict w, int64_t n, float* __restrict s, float* __restrict a) {
  int64_t j = 0;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; j + 8 <= n; j += 8) {
    const __m256 zj = _mm256_loadu_ps(z + j);
    const __m256 sig = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), zj))));
    _mm256_storeu_ps(s + j, sig);
    _mm256_storeu_ps(a + j, _mm256_mul_ps(_mm256_mul_ps(zj, sig), _mm256_loadu_ps(w + j)));
  }
  if (j < n) siluPortable(z + j, w + j, n - j, s + j, a + j);
}

AVX2 void siluBackwardAvx2(const float* __restrict z, const float* __restrict s, const float* __restrict w, int64_t n, float* __restrict d) {
  int64_t j = 0;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; j + 8 <= n; j += 8) {
    const __m256 sj = _mm256_loadu_ps(s + j), zj = _mm256_loadu_ps(z + j);
    const __m256 slope = _mm256_add_ps(sj, _mm256_mul_ps(_mm256_mul_ps(zj, sj), _mm256_sub_ps(one, sj)));
    _mm256_storeu_ps(d + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(d + j), _mm256_loadu_ps(w + j)), slope));
  }
  if (j < n) siluBackwardPortable(z + j, s + j, w + j, n - j, d + j);
}

AVX2 void scoresAvx2(const float* __restrict x, const float* __restrict yT, int64_t D, int64_t N, int64_t L, float* __restrict out) {
  int64_t j = 0;
  for (; j + 16 <= L; j += 16) {  // MR × 16 outputs: eight independent accumulators
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    for (int64_t d = 0; d < D; d++) {
      const __m256 y0 = _mm256_loadu_ps(yT + d * N + j), y1 = _mm256_loadu_ps(yT + d * N + j + 8);
      __m256 xr = _mm256_set1_ps(x[d]);
      c00 = _mm256_fmadd_ps(xr, y0, c00), c01 = _mm256_fmadd_ps(xr, y1, c01);
      xr = _mm256_set1_ps(x[D + d]);
      c10 = _mm256_fmadd_ps(xr, y0, c10), c11 = _mm256_fmadd_ps(xr, y1, c11);
      xr = _mm256_set1_ps(x[2 * D + d]);
      c20 = _mm256_fmadd_ps(xr, y0, c20), c21 = _mm256_fmadd_ps(xr, y1, c21);
      xr = _mm256_set1_ps(x[3 * D + d]);
      c30 = _mm256_fmadd_ps(xr, y0, c30), c31 = _mm256_fmadd_ps(xr, y1, c31);
    }
    _mm256_storeu_ps(out + j, c00), _mm256_storeu_ps(out + j + 8, c01);
    _mm256_storeu_ps(out + N + j, c10), _mm256_storeu_ps(out + N + j + 8, c11);
    _mm256_storeu_ps(out + 2 * N + j, c20), _mm256_storeu_ps(out + 2 * N + j + 8, c21);
    _mm256_storeu_ps(out + 3 * N + j, c30), _mm256_storeu_ps(out + 3 * N + j + 8, c31);
  }
  for (int64_t r = 0; r < MR; r++)  // the last L mod 16 keys
    for (int64_t jj = j; jj < L; jj++) {
      float acc = 0.0f;
      for (int64_t d = 0; d < D; d++) acc += x[r * D + d] * yT[d * N + jj];
      out[r * N + jj] = acc;
    }
}

/** combine for D = 8·C: MR·C accumulators in registers. */
template <int C>
AVX2 void combineAvx2(const float* __restrict c, const float* __restrict y, int64_t N, int64_t L, float* __restrict out) {
  __m256 acc[MR][C];
  for (int r = 0; r < MR; r++)
    for (int k = 0; k < C; k++) acc[r][k] = _mm256_setzero_ps();
  for (int64_t j = 0; j < L; j++) {
    __m256 yj[C];
    for (int k = 0; k < C; k++) yj[k] = _mm256_loadu_ps(y + j * 8 * C + 8 * k);
    for (int r = 0; r < MR; r++) {
      const __m256 crj = _mm256_set1_ps(c[r * N + j]);
      for (int k = 0; k < C; k++) acc[r][k] = _mm256_fmadd_ps(crj, yj[k], acc[r][k]);
    }
  }
  for (int r = 0; r < MR; r++)
    for (int k = 0; k < C; k++) _mm256_storeu_ps(out + r * 8 * C + 8 * k, acc[r][k]);
}

/** scatter for D = 8·C: the MR rows of x in registers. */
template <int C>
AVX2 void scatterAvx2(const float* __restrict c, const float* __restrict x, int64_t N, int64_t L, float* __restrict y) {
  __m256 xv[MR][C];
  for (int r = 0; r < MR; r++)
    for (int k = 0; k < C; k++) xv[r][k] = _mm256_loadu_ps(x + r * 8 * C + 8 * k);
  for (int64_t j = 0; j < L; j++) {
    for (int k = 0; k < C; k++) {
      float* yj = y + j * 8 * C + 8 * k;
      __m256 acc = _mm256_loadu_ps(yj);
      for (int r = 0; r < MR; r++) acc = _mm256_fmadd_ps(_mm256_set1_ps(c[r * N + j]), xv[r][k], acc);
      _mm256_storeu_ps(yj, acc);
    }
  }
}

const bool kAvx2Supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
const bool kAvx2Supported = false;
#endif
bool kAvx2 = kAvx2Supported;  // simd(false) switches to the portable loops (tests compare both with the reference)

void scores(const float* x, const float* yT, int64_t D, int64_t N, int64_t L, float* out) {
#if defined(__x86_64__)
  if (kAvx2) return scoresAvx2(x, yT, D, N, L, out);
#endif
  scoresPortable(x, yT, D, N, L, out);
}

void silu(const float* z, const float* w, int64_t n, float* s, float* a) {
#if defined(__x86_64__)
  if (kAvx2) return siluAvx2(z, w, n, s, a);
#endif
  siluPortable(z, w, n, s, a);
}

void siluBackward(const float* z, const float* s, const float* w, int64_t n, float* d) {
#if defined(__x86_64__)
  if (kAvx2) return siluBackwardAvx2(z, s, w, n, d);
#endif
  siluBackwardPortable(z, s, w, n, d);
}

void hashKeep(const Problem& p, uint32_t base, const float* vis, int64_t L, float* w) {
#if defined(__x86_64__)
  if (kAvx2) return hashKeepAvx2(p, base, vis, L, w);
#endif
  hashKeepPortable(p, base, vis, L, w);
}

void combine(const float* c, const float* y, int64_t D, int64_t N, int64_t L, float* out) {
#if defined(__x86_64__)
  if (kAvx2 && D == 8) return combineAvx2<1>(c, y, N, L, out);
  if (kAvx2 && D == 16) return combineAvx2<2>(c, y, N, L, out);
  if (kAvx2 && D == 32) return combineAvx2<4>(c, y, N, L, out);
#endif
  combinePortable(c, y, D, N, L, out);
}

void scatter(const float* c, const float* x, int64_t D, int64_t N, int64_t L, float* y) {
#if defined(__x86_64__)
  if (kAvx2 && D == 8) return scatterAvx2<1>(c, x, N, L, y);
  if (kAvx2 && D == 16) return scatterAvx2<2>(c, x, N, L, y);
  if (kAvx2 && D == 32) return scatterAvx2<4>(c, x, N, L, y);
#endif
  scatterPortable(c, x, D, N, L, y);
}

/** Row i's weights W[g, i, j] for j < L (L ≥ i + 1): keep, or visible × the hash's decision, or visible; 0 past i. */
void weightRow(const Problem& p, int64_t b, int64_t g, int64_t i, int64_t L, float* __restrict w) {
  const int64_t n = i + 1;
  if (p.keep != nullptr) {
    std::memcpy(w, p.keep + (g * p.N + i) * p.N, n * sizeof(float));
  } else if (!p.hashDropout) {
    std::memcpy(w, p.visible + (b * p.N + i) * p.N, n * sizeof(float));
  } else {
    hashKeep(p, static_cast<uint32_t>((g * p.N + i) * p.N), p.visible + (b * p.N + i) * p.N, n, w);  // the cell index wraps past 2³²
  }
  for (int64_t j = n; j < L; j++) w[j] = 0.0f;
}

/** The relative bias added to row i's scores, in the reference's order: the product, plus (time + position). */
void addBias(const Problem& p, int64_t b, int64_t i, float* __restrict z) {
  if (p.wTime != nullptr) {
    const int32_t* t = p.timeIdx + (b * p.N + i) * p.N;
    for (int64_t j = 0; j <= i; j++) z[j] += p.wTime[t[j]] + p.wPos[i - j];
  } else {
    for (int64_t j = 0; j <= i; j++) z[j] += p.wPos[i - j];
  }
}

/**
 * One block of MR query rows i0.. over the keys j < L (L: i0 + MR rounded up to NB; the scratch is zero past N):
 * z, W, σ and A into the scratch rows. Rows past N or on padding (rowScale 0) get W = 0, so A, and in the backward
 * pass dz, are 0 there and past each row's i.
 */
void attentionBlock(const Problem& p, int64_t b, int64_t g, int64_t i0, int64_t L, Scratch& w) {
  const int64_t N = p.N, S = w.S;
  scores(w.q.data() + i0 * p.dqk, w.kT.data(), p.dqk, S, L, w.z.data());
  for (int64_t r = 0; r < MR; r++) {
    const int64_t i = i0 + r;
    float* wr = w.w.data() + r * S;
    if (i >= N || p.rowScale[b * N + i] == 0.0f) {
      std::fill(wr, wr + L, 0.0f);
      continue;
    }
    addBias(p, b, i, w.z.data() + r * S);
    weightRow(p, b, g, i, L, wr);
  }
  for (int64_t r = 0; r < MR; r++) silu(w.z.data() + r * S, w.w.data() + r * S, L, w.s.data() + r * S, w.a.data() + r * S);
}

/** Head h of sequence b from the token-major x [B·N, H·d] into rows [N, d]. */
void gatherHead(const Problem& p, const float* x, int64_t d, int64_t b, int64_t h, float* rows) {
  for (int64_t i = 0; i < p.N; i++) std::memcpy(rows + i * d, x + ((b * p.N + i) * p.H + h) * d, d * sizeof(float));
}

/** Rows [N, d] back into head h of sequence b of the token-major y [B·N, H·d]. */
void scatterHead(const Problem& p, const float* rows, int64_t d, int64_t b, int64_t h, float* y) {
  for (int64_t i = 0; i < p.N; i++) std::memcpy(y + ((b * p.N + i) * p.H + h) * d, rows + i * d, d * sizeof(float));
}

/** RoPE on row x (position `pos`), rotate-half form on the first 2·half dims, as rope.ts: x⊙C + (x·P)⊙S. With
 *  `inverse`, its transpose (the gradient): dy⊙C + (dy⊙S)·Pᵀ. */
void rope(const Problem& p, int64_t pos, bool inverse, float* x) {
  const int64_t half = p.half;
  const float* c = p.ropeCos + pos * half;
  const float* sn = p.ropeSin + pos * half;
  for (int64_t j = 0; j < half; j++) {
    const float x1 = x[j], x2 = x[j + half];
    if (!inverse) {
      x[j] = x1 * c[j] + -x2 * sn[j];
      x[j + half] = x2 * c[j] + x1 * sn[j];
    } else {
      x[j] = x1 * c[j] + x2 * sn[j];
      x[j + half] = x2 * c[j] + -(x1 * sn[j]);
    }
  }
}

/** xT[d, j] = x[j, d] for j < N (xT: [D, S]; its columns past N stay 0). */
void transpose(const float* x, int64_t N, int64_t D, int64_t S, float* xT) {
  for (int64_t j = 0; j < N; j++)
    for (int64_t d = 0; d < D; d++) xT[d * S + j] = x[j * D + d];
}

/** The head's rotated q, k (and kT) and v into the scratch rows (rows past N stay 0). */
void loadHead(const Problem& p, int64_t b, int64_t h, Scratch& w) {
  gatherHead(p, p.q, p.dqk, b, h, w.q.data());
  gatherHead(p, p.k, p.dqk, b, h, w.k.data());
  gatherHead(p, p.v, p.dv, b, h, w.v.data());
  for (int64_t i = 0; i < p.N && p.half > 0; i++) {
    rope(p, i, false, w.q.data() + i * p.dqk);
    rope(p, i, false, w.k.data() + i * p.dqk);
  }
  transpose(w.k.data(), p.N, p.dqk, w.S, w.kT.data());
}

/** The keys a block of rows from i0 reads: up to its last row, rounded up to NB. */
int64_t blockKeys(int64_t i0) { return (i0 + MR + NB - 1) / NB * NB; }

void forwardPair(const Problem& p, int64_t b, int64_t h, Scratch& w, float* o) {
  const int64_t g = b * p.H + h, N = p.N, dv = p.dv;
  loadHead(p, b, h, w);
  float out[MR * 64];  // dv ≤ 64 (readProblem)
  for (int64_t i0 = 0; i0 < N; i0 += MR) {
    const int64_t L = blockKeys(i0);
    attentionBlock(p, b, g, i0, L, w);
    combine(w.a.data(), w.v.data(), dv, w.S, L, out);
    for (int64_t r = 0; r < MR && i0 + r < N; r++) {
      const float rs = p.rowScale[b * N + i0 + r];
      float* dst = o + ((b * N + i0 + r) * p.H + h) * dv;  // zero-filled: padding rows stay 0
      if (rs != 0.0f)
        for (int64_t e = 0; e < dv; e++) dst[e] = out[r * dv + e] * rs;
    }
  }
}

struct Grads {
  float *dq, *dk, *dv;   // zero-filled, token-major like q, k, v
  double *dPos, *dTime;  // per sequence: [B, P], [B, T]
};

void backwardPair(const Problem& p, int64_t b, int64_t h, const float* dO, Scratch& w, const Grads& gr) {
  const int64_t g = b * p.H + h, N = p.N, dv = p.dv, dqk = p.dqk, S = w.S;
  loadHead(p, b, h, w);
  transpose(w.v.data(), N, dv, S, w.vT.data());
  std::fill(w.dk.begin(), w.dk.end(), 0.0f);
  std::fill(w.dv.begin(), w.dv.end(), 0.0f);
  double* dPos = gr.dPos + b * p.P;
  double* dTime = p.wTime != nullptr ? gr.dTime + b * p.T : nullptr;
  float dq[MR * 64];  // dqk ≤ 64 (readProblem)
  for (int64_t i0 = 0; i0 < N; i0 += MR) {
    const int64_t L = blockKeys(i0);
    for (int64_t r = 0; r < MR; r++) {  // g_i = dO_i · rowScale_i (0 past N)
      const int64_t i = i0 + r;
      const float rs = i < N ? p.rowScale[b * N + i] : 0.0f;
      for (int64_t e = 0; e < dv; e++) w.g[r * dv + e] = rs == 0.0f ? 0.0f : dO[((b * N + i) * p.H + h) * dv + e] * rs;
    }
    attentionBlock(p, b, g, i0, L, w);
    scatter(w.a.data(), w.g.data(), dv, S, L, w.dv.data());  // dv_j += Σ_i A_ij g_i
    scores(w.g.data(), w.vT.data(), dv, S, L, w.d.data());    // dA_ij = g_i · v_j
    for (int64_t r = 0; r < MR; r++) siluBackward(w.z.data() + r * S, w.s.data() + r * S, w.w.data() + r * S, L, w.d.data() + r * S);
    combine(w.d.data(), w.k.data(), dqk, S, L, dq);                      // dq_i = Σ_j dz_ij k_j
    scatter(w.d.data(), w.q.data() + i0 * dqk, dqk, S, L, w.dk.data());  // dk_j += Σ_i dz_ij q_i
    for (int64_t r = 0; r < MR && i0 + r < N; r++) {
      const int64_t i = i0 + r;
      float* dst = gr.dq + ((b * N + i) * p.H + h) * dqk;
      std::memcpy(dst, dq + r * dqk, dqk * sizeof(float));
      if (p.half > 0) rope(p, i, true, dst);
      const float* dz = w.d.data() + r * S;
      for (int64_t j = 0; j <= i; j++) dPos[i - j] += dz[j];
      if (dTime != nullptr) {
        const int32_t* t = p.timeIdx + (b * N + i) * N;
        for (int64_t j = 0; j <= i; j++) dTime[t[j]] += dz[j];
      }
    }
  }
  for (int64_t j = 0; j < N && p.half > 0; j++) rope(p, j, true, w.dk.data() + j * dqk);
  scatterHead(p, w.dk.data(), dqk, b, h, gr.dk);
  scatterHead(p, w.dv.data(), dv, b, h, gr.dv);
}

/** Runs fn(b, scratch) for every sequence b, split into contiguous ranges over up to `threads` threads. */
template <typename Fn>
void forEachSequence(const Problem& p, int64_t threads, Fn fn) {
  const int64_t T = std::max<int64_t>(1, std::min<int64_t>(threads, p.B));
  auto range = [&p, &fn, T](int64_t t) {
    Scratch w(p);
    for (int64_t b = p.B * t / T; b < p.B * (t + 1) / T; b++) fn(b, w);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 0; t + 1 < T; t++) pool.emplace_back(range, t);
  range(T - 1);
  for (auto& th : pool) th.join();
}

// ---- N-API glue

constexpr const char* FWD = "attentionForward";
constexpr const char* BWD = "attentionBackward";

constexpr size_t SHARED_ARGS = 15;

/** Reads the 15 shared arguments into `p`; false (with a pending exception) when one is wrong. */
bool readProblem(napi_env env, const napi_value* argv, const char* fn, Problem& p, int64_t& threads) {
  using namespace napi_args;
  const int32_t* dims;
  size_t nq, nk, nv, nd, nvis, nrs, nkeep, npos, ntime, nidx, ncos, nsin;
  double seed, rate;
  if (!typedArg(env, argv[0], napi_float32_array, &p.q, &nq, fn, "q") ||
      !typedArg(env, argv[1], napi_float32_array, &p.k, &nk, fn, "k") ||
      !typedArg(env, argv[2], napi_float32_array, &p.v, &nv, fn, "v") ||
      !typedArg(env, argv[3], napi_int32_array, &dims, &nd, fn, "dims") ||
      !typedArg(env, argv[4], napi_float32_array, &p.visible, &nvis, fn, "visible") ||
      !typedArg(env, argv[5], napi_float32_array, &p.rowScale, &nrs, fn, "rowScale") ||
      !typedArg(env, argv[6], napi_float32_array, &p.keep, &nkeep, fn, "keep") ||
      !typedArg(env, argv[7], napi_float32_array, &p.wPos, &npos, fn, "wPos") ||
      !typedArg(env, argv[8], napi_float32_array, &p.wTime, &ntime, fn, "wTime") ||
      !typedArg(env, argv[9], napi_int32_array, &p.timeIdx, &nidx, fn, "timeIdx") ||
      !typedArg(env, argv[10], napi_float32_array, &p.ropeCos, &ncos, fn, "ropeCos") ||
      !typedArg(env, argv[11], napi_float32_array, &p.ropeSin, &nsin, fn, "ropeSin") ||
      !numberArg(env, argv[12], &seed, fn, "seed") || !numberArg(env, argv[13], &rate, fn, "rate") ||
      !intArg(env, argv[14], &threads, fn, "threads"))
    return false;
  auto fail = [env, fn](const char* what) {
    napi_throw_range_error(env, nullptr, (std::string(fn) + ": " + what).c_str());
    return false;
  };
  if (nd != 6) return fail("dims must be [B, H, N, dqk, dv, half]");
  p.B = dims[0], p.H = dims[1], p.N = dims[2], p.dqk = dims[3], p.dv = dims[4], p.half = dims[5];
  p.P = npos, p.T = ntime;
  if (p.B <= 0 || p.H <= 0 || p.N <= 0 || p.dqk <= 0 || p.dv <= 0) return fail("every dimension must be positive");
  if (p.half < 0 || 2 * p.half > p.dqk) return fail("half must be in [0, dqk/2]");
  if (p.dqk > 64 || p.dv > 64) return fail("dqk and dv must be at most 64");
  const size_t R = p.B * p.N, N = p.N, H = p.H;
  if (nq != R * H * p.dqk || nk != nq || nv != R * H * p.dv) return fail("q, k or v does not have [B·N, H·d] elements");
  if (nvis != R * N || nrs != R) return fail("visible must be [B, N, N] and rowScale [B, N]");
  if (nkeep != 0 && nkeep != R * H * N) return fail("keep must be empty or [B, H, N, N]");
  if (npos < N) return fail("wPos must have at least N entries (one per distance i − j)");
  if ((ntime == 0) != (nidx == 0) || (nidx != 0 && nidx != R * N))
    return fail("wTime and timeIdx must both be empty, or timeIdx must be [B, N, N]");
  for (size_t x = 0; x < nidx; x++)
    if (p.timeIdx[x] < 0 || static_cast<size_t>(p.timeIdx[x]) >= ntime) return fail("a timeIdx entry is outside wTime");
  if (ncos != N * p.half || nsin != ncos) return fail("ropeCos and ropeSin must be [N, half]");
  if (!(rate >= 0 && rate < 1)) return fail("rate must be in [0, 1)");
  if (nkeep == 0) p.keep = nullptr;
  if (ntime == 0) p.wTime = nullptr, p.timeIdx = nullptr;
  p.hashDropout = p.keep == nullptr && rate > 0;
  p.keys = hash_dropout::keys(seed, rate);
  return true;
}

napi_value Forward(napi_env env, napi_callback_info info) {
  napi_value argv[SHARED_ARGS];
  if (!napi_args::exactArgs(env, info, argv, SHARED_ARGS, FWD, "15 arguments")) return nullptr;
  Problem p;
  int64_t threads;
  if (!readProblem(env, argv, FWD, p, threads)) return nullptr;
  float* o;
  napi_value out = napi_args::newTypedArray(env, napi_float32_array, p.B * p.H * p.N * p.dv, &o);
  if (out == nullptr) return nullptr;
  forEachSequence(p, threads, [&p, o](int64_t b, Scratch& w) {
    for (int64_t h = 0; h < p.H; h++) forwardPair(p, b, h, w, o);
  });
  return out;
}

napi_value Backward(napi_env env, napi_callback_info info) {
  napi_value argv[SHARED_ARGS + 1];
  if (!napi_args::exactArgs(env, info, argv, SHARED_ARGS + 1, BWD, "16 arguments")) return nullptr;
  Problem p;
  int64_t threads;
  if (!readProblem(env, argv, BWD, p, threads)) return nullptr;
  const float* dO;
  size_t nO;
  if (!napi_args::typedArg(env, argv[SHARED_ARGS], napi_float32_array, &dO, &nO, BWD, "dO")) return nullptr;
  if (nO != static_cast<size_t>(p.B * p.H * p.N * p.dv)) {
    napi_throw_range_error(env, nullptr, "attentionBackward: dO must be [B·N, H·dv]");
    return nullptr;
  }
  const int64_t G = p.B * p.H;  // dq, dk, dv: [B·N, H·d] like q, k, v
  Grads gr;
  float *dwPos = nullptr, *dwTime = nullptr;
  napi_value dq = napi_args::newTypedArray(env, napi_float32_array, G * p.N * p.dqk, &gr.dq);
  napi_value dk = napi_args::newTypedArray(env, napi_float32_array, G * p.N * p.dqk, &gr.dk);
  napi_value dv = napi_args::newTypedArray(env, napi_float32_array, G * p.N * p.dv, &gr.dv);
  napi_value pos = napi_args::newTypedArray(env, napi_float32_array, p.P, &dwPos);
  napi_value time = napi_args::newTypedArray(env, napi_float32_array, p.T, &dwTime);
  if (dq == nullptr || dk == nullptr || dv == nullptr || pos == nullptr || time == nullptr) return nullptr;
  std::vector<double> dPos(p.B * p.P, 0.0), dTime(p.B * p.T, 0.0);
  gr.dPos = dPos.data();
  gr.dTime = dTime.data();
  forEachSequence(p, threads, [&p, dO, &gr](int64_t b, Scratch& w) {
    for (int64_t h = 0; h < p.H; h++) backwardPair(p, b, h, dO, w, gr);
  });
  for (int64_t x = 0; x < p.P; x++) {
    double sum = 0;
    for (int64_t b = 0; b < p.B; b++) sum += dPos[b * p.P + x];
    dwPos[x] = static_cast<float>(sum);
  }
  for (int64_t x = 0; x < p.T; x++) {
    double sum = 0;
    for (int64_t b = 0; b < p.B; b++) sum += dTime[b * p.T + x];
    dwTime[x] = static_cast<float>(sum);
  }
  napi_value result;
  NAPI_CHECK("attentionBackward", napi_create_object(env, &result));
  NAPI_CHECK("attentionBackward", napi_set_named_property(env, result, "dq", dq));
  NAPI_CHECK("attentionBackward", napi_set_named_property(env, result, "dk", dk));
  NAPI_CHECK("attentionBackward", napi_set_named_property(env, result, "dv", dv));
  NAPI_CHECK("attentionBackward", napi_set_named_property(env, result, "dwPos", pos));
  NAPI_CHECK("attentionBackward", napi_set_named_property(env, result, "dwTime", time));
  return result;
}

napi_value KeepWeights(napi_env env, napi_callback_info info) {
  constexpr const char* FN = "keepWeights";
  napi_value argv[4];
  if (!napi_args::exactArgs(env, info, argv, 4, FN, "(dims [B, H, N], visible, seed, rate)")) return nullptr;
  const int32_t* dims;
  size_t nd = 0, nvis = 0;
  double seed, rate;
  Problem p{};
  if (!napi_args::typedArg(env, argv[0], napi_int32_array, &dims, &nd, FN, "dims") ||
      !napi_args::typedArg(env, argv[1], napi_float32_array, &p.visible, &nvis, FN, "visible") ||
      !napi_args::numberArg(env, argv[2], &seed, FN, "seed") || !napi_args::numberArg(env, argv[3], &rate, FN, "rate"))
    return nullptr;
  if (nd != 3) {
    napi_throw_range_error(env, nullptr, "keepWeights: dims must be [B, H, N]");
    return nullptr;
  }
  p.B = dims[0], p.H = dims[1], p.N = dims[2];
  if (p.B <= 0 || p.H <= 0 || p.N <= 0 || nvis != static_cast<size_t>(p.B * p.N * p.N) || !(rate > 0 && rate < 1)) {
    napi_throw_range_error(env, nullptr, "keepWeights: visible must be [B, N, N] and rate in (0, 1)");
    return nullptr;
  }
  p.hashDropout = true;
  p.keys = hash_dropout::keys(seed, rate);
  float* w;
  napi_value out = napi_args::newTypedArray(env, napi_float32_array, p.B * p.H * p.N * p.N, &w);
  if (out == nullptr) return nullptr;
  for (int64_t b = 0; b < p.B; b++)
    for (int64_t h = 0; h < p.H; h++)
      for (int64_t i = 0; i < p.N; i++) weightRow(p, b, b * p.H + h, i, p.N, w + ((b * p.H + h) * p.N + i) * p.N);
  return out;
}

/** simd() → whether the AVX2 kernels run; simd(on) first asks for them (on a CPU without AVX2+FMA: never). */
napi_value Simd(napi_env env, napi_callback_info info) { return napi_args::simdSwitch(env, info, &kAvx2, kAvx2Supported); }

napi_value TimeBuckets(napi_env env, napi_callback_info info) {
  constexpr const char* FN = "timeBuckets";
  napi_value argv[5];
  if (!napi_args::exactArgs(env, info, argv, 5, FN, "(timestamp, B, N, start, threshold)")) return nullptr;
  const double *t, *threshold;
  const int32_t* start;
  size_t nt, ns, nthr;
  int64_t B, N;
  if (!napi_args::typedArg(env, argv[0], napi_float64_array, &t, &nt, FN, "timestamp") ||
      !napi_args::intArg(env, argv[1], &B, FN, "B") || !napi_args::intArg(env, argv[2], &N, FN, "N") ||
      !napi_args::typedArg(env, argv[3], napi_int32_array, &start, &ns, FN, "start") ||
      !napi_args::typedArg(env, argv[4], napi_float64_array, &threshold, &nthr, FN, "threshold"))
    return nullptr;
  if (B <= 0 || N <= 0 || nt != static_cast<size_t>(B * N) || ns != (1U << 16) || nthr < 2 || threshold[nthr - 1] != HUGE_VAL) {
    napi_throw_range_error(env, nullptr, "timeBuckets: timestamp must be [B, N], start [65536], threshold end in Infinity");
    return nullptr;
  }
  const int32_t kMax = static_cast<int32_t>(nthr) - 2;  // numBuckets
  for (size_t x = 0; x < ns; x++)
    if (start[x] < 0 || start[x] > kMax) {
      napi_throw_range_error(env, nullptr, "timeBuckets: a start bucket is outside [0, numBuckets]");
      return nullptr;
    }
  int32_t* out;
  napi_value result = napi_args::newTypedArray(env, napi_int32_array, B * N * N, &out);
  if (result == nullptr) return nullptr;
  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < N; i++) {
      const double ti = t[b * N + i];
      int32_t* row = out + (b * N + i) * N;
      for (int64_t j = 0; j <= i; j++) {  // j > i stays 0: masked
        const double a = std::fabs(ti - t[b * N + j]);
        if (!(a >= 1.0)) continue;  // ln(max(|Δt|, 1)) = 0, and NaN → 0
        uint64_t bits;
        std::memcpy(&bits, &a, 8);
        int32_t k = start[bits >> 48];
        while (k < kMax && a >= threshold[k + 1]) k++;  // at most once: a 2^(1/16) interval holds ≤ 1 boundary
        row[j] = k;
      }
    }
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const std::pair<const char*, napi_callback> fns[] = {
      {"attentionForward", Forward}, {"attentionBackward", Backward}, {"keepWeights", KeepWeights}, {"simd", Simd},
      {"timeBuckets", TimeBuckets}};
  for (const auto& [name, cb] : fns) {
    napi_value fn;
    napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
    napi_set_named_property(env, exports, name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_HSTU_ATTENTION, Init)
