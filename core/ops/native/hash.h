// Counter-based dropout decisions shared by the native kernels: in a draw keyed by (seed, rate), cell x is kept when
// mix32(mix32(x ^ key1) + key2) ≥ rate·2³², mix32 being the lowbias32 integer hash. Any cell's decision is computed
// from its index alone, so a backward pass regenerates the forward's mask instead of storing it, and threads or
// vector lanes need no shared stream. Cells are 32-bit counters (they wrap past 2³² cells).
#pragma once

#include <algorithm>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hash_dropout {

__attribute__((always_inline)) inline uint32_t mix32(uint32_t x) {  // a bijective 32-bit integer hash (lowbias32)
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

struct Keys {
  uint32_t key1, key2, threshold;
};

/** The keys of a draw: `seed` as a 32-bit integer, `rate` in [0, 1). */
inline Keys keys(double seed, double rate) {
  const uint32_t s = static_cast<uint32_t>(static_cast<int64_t>(seed));
  return {mix32(s ^ 0x243f6a88U), mix32(s + 0x85a308d3U), static_cast<uint32_t>(std::min(rate * 4294967296.0, 4294967295.0))};
}

__attribute__((always_inline)) inline bool kept(const Keys& k, uint32_t cell) {
  return mix32(mix32(cell ^ k.key1) + k.key2) >= k.threshold;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"), always_inline)) inline __m256i mix8(__m256i x) {  // mix32, eight at a time
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(0x7feb352d));
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(static_cast<int32_t>(0x846ca68bU)));
  return _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
}

/** All-ones lanes where cells first … first + 7 are dropped (kept() false), zero where they are kept. */
__attribute__((target("avx2,fma"), always_inline)) inline __m256i dropped8(const Keys& k, uint32_t first) {
  const __m256i cell = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(first)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i h = mix8(_mm256_add_epi32(mix8(_mm256_xor_si256(cell, _mm256_set1_epi32(static_cast<int32_t>(k.key1)))),
                                          _mm256_set1_epi32(static_cast<int32_t>(k.key2))));
  const __m256i flip = _mm256_set1_epi32(static_cast<int32_t>(0x80000000U));  // unsigned order via signed compare
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(k.threshold ^ 0x80000000U)), _mm256_xor_si256(h, flip));
}
#endif

}  // namespace hash_dropout
