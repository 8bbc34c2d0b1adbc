// Inverted-dropout multipliers by the counter-based hash of hash.h (the readable reference is keep-mask.ts's
// dropoutMask: the same contract, another random stream): element x of a draw keyed by (seed, rate) is 1/(1 − rate)
// (as float32) when the hash keeps cell x, else 0. test/core/ops/keep-mask-native.test.ts checks the AVX2 and the
// portable loops against each other and the keep rate.
//
// dropoutMultipliers(n, seed, rate) → Float32Array [n]
// simd([on]) → whether the AVX2 loop runs (simd(false): the portable loop, for tests)
#include <node_api.h>

#include <cstdint>
#include <string>

#include "hash.h"
#include "napi-args.h"

namespace {

void multipliersPortable(const hash_dropout::Keys& k, float scale, int64_t n, float* out) {
  for (int64_t x = 0; x < n; x++) out[x] = hash_dropout::kept(k, static_cast<uint32_t>(x)) ? scale : 0.0f;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void multipliersAvx2(const hash_dropout::Keys& k, float scale, int64_t n, float* out) {
  const __m256 kept = _mm256_set1_ps(scale);
  int64_t x = 0;
  for (; x + 8 <= n; x += 8)
    _mm256_storeu_ps(out + x, _mm256_andnot_ps(_mm256_castsi256_ps(hash_dropout::dropped8(k, static_cast<uint32_t>(x))), kept));
  for (; x < n; x++) out[x] = hash_dropout::kept(k, static_cast<uint32_t>(x)) ? scale : 0.0f;
}
const bool kAvx2Supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
const bool kAvx2Supported = false;
#endif
bool simd = kAvx2Supported;

constexpr const char* FN = "dropoutMultipliers";

napi_value Multipliers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CHECK("dropoutMultipliers", napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 3) {
    napi_throw_type_error(env, nullptr, "dropoutMultipliers: expects (n, seed, rate)");
    return nullptr;
  }
  int64_t n;
  double seed, rate;
  if (!napi_args::intArg(env, argv[0], &n, FN, "n") || !napi_args::numberArg(env, argv[1], &seed, FN, "seed") ||
      !napi_args::numberArg(env, argv[2], &rate, FN, "rate"))
    return nullptr;
  if (n < 0 || !(rate > 0 && rate < 1)) {
    napi_throw_range_error(env, nullptr, "dropoutMultipliers: n must be ≥ 0 and rate in (0, 1)");
    return nullptr;
  }
  float* out;
  napi_value result = napi_args::newTypedArray(env, napi_float32_array, n, &out);
  if (result == nullptr) return nullptr;
  const hash_dropout::Keys k = hash_dropout::keys(seed, rate);
  const float scale = static_cast<float>(1.0 / (1.0 - rate));
#if defined(__x86_64__)
  if (simd) {
    multipliersAvx2(k, scale, n, out);
    return result;
  }
#endif
  multipliersPortable(k, scale, n, out);
  return result;
}

napi_value Simd(napi_env env, napi_callback_info info) { return napi_args::simdSwitch(env, info, &simd, kAvx2Supported); }

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "dropoutMultipliers", NAPI_AUTO_LENGTH, Multipliers, nullptr, &fn);
  napi_set_named_property(env, exports, "dropoutMultipliers", fn);
  napi_create_function(env, "simd", NAPI_AUTO_LENGTH, Simd, nullptr, &fn);
  napi_set_named_property(env, exports, "simd", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_KEEP_MASK, Init)
