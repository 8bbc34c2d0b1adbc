// Argument and result helpers shared by the Node-API kernels (core/**/native/*.cc). A helper that fails leaves a
// pending JavaScript exception naming the kernel function and the argument; the caller returns nullptr.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace napi_args {

inline void typeError(napi_env env, const char* fn, const char* name, const char* what) {
  napi_throw_type_error(env, nullptr, (std::string(fn) + ": " + name + " " + what).c_str());
}

/** The arguments of a call that takes exactly n of them, into argv[n]; false (a pending TypeError "fn: expects
 *  what") when there are more or fewer. */
inline bool exactArgs(napi_env env, napi_callback_info info, napi_value* argv, size_t n, const char* fn, const char* what) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) {
    napi_throw_error(env, nullptr, (std::string(fn) + ": N-API call failed: napi_get_cb_info").c_str());
    return false;
  }
  if (argc == n) return true;
  napi_throw_type_error(env, nullptr, (std::string(fn) + ": expects " + what).c_str());
  return false;
}

/** A typed array of type `want`: its data and element count. */
template <typename T>
bool typedArg(napi_env env, napi_value v, napi_typedarray_type want, const T** data, size_t* length, const char* fn,
              const char* name) {
  bool is = false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok || type != want) {
    typeError(env, fn, name, "has the wrong array type");
    return false;
  }
  *data = static_cast<const T*>(ptr);
  return true;
}

inline bool intArg(napi_env env, napi_value v, int64_t* out, const char* fn, const char* name) {
  if (napi_get_value_int64(env, v, out) == napi_ok) return true;
  typeError(env, fn, name, "must be a number");
  return false;
}

inline bool numberArg(napi_env env, napi_value v, double* out, const char* fn, const char* name) {
  if (napi_get_value_double(env, v, out) == napi_ok) return true;
  typeError(env, fn, name, "must be a number");
  return false;
}

/** A new zero-filled typed array of `n` elements of T; `data` points at its storage. nullptr when allocation fails. */
template <typename T>
napi_value newTypedArray(napi_env env, napi_typedarray_type type, size_t n, T** data) {
  void* ptr = nullptr;
  napi_value buffer, array;
  if (napi_create_arraybuffer(env, n * sizeof(T), &ptr, &buffer) != napi_ok) return nullptr;
  if (n > 0) std::memset(ptr, 0, n * sizeof(T));
  if (napi_create_typedarray(env, type, n, buffer, 0, &array) != napi_ok) return nullptr;
  *data = static_cast<T*>(ptr);
  return array;
}

/** simd([on]) of a kernel with a SIMD path: `on` first switches *enabled (never on where not `supported`). */
inline napi_value simdSwitch(napi_env env, napi_callback_info info, bool* enabled, bool supported) {
  size_t argc = 1;
  napi_value argv[1], result;
  bool on = false;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok ||
      (argc == 1 && napi_get_value_bool(env, argv[0], &on) != napi_ok)) {
    typeError(env, "simd", "on", "must be a boolean");
    return nullptr;
  }
  if (argc == 1) *enabled = on && supported;
  return napi_get_boolean(env, *enabled, &result) == napi_ok ? result : nullptr;
}

}  // namespace napi_args

/** Returns nullptr from the enclosing N-API callback, with an error naming `fn`, when an N-API call fails. */
#define NAPI_CHECK(fn, call)                                                  \
  do {                                                                        \
    if ((call) != napi_ok) {                                                  \
      napi_throw_error(env, nullptr, fn ": N-API call failed: " #call);       \
      return nullptr;                                                         \
    }                                                                         \
  } while (0)
