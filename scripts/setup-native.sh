#!/usr/bin/env bash
# Native TensorFlow backend (SPEC §9): builds @tensorflow/tfjs-node's addon against the libtensorflow
# shipped in PyPI's tensorflow-cpu wheel, because tfjs-node's own install downloads libtensorflow 2.9.1
# from a host this network cannot reach. Idempotent: silent and instant once the addon loads.
# Never fails setup: on any problem it prints one line and exits 0, and `backend: auto` uses wasm.
# HSTU_NO_NATIVE=1 skips it (to exercise the wasm fallback).
set -uo pipefail
cd "$(dirname "$0")/.."

TF_WHEEL_VERSION=2.21.0
PKG=node_modules/@tensorflow/tfjs-node
MARKER=$PKG/deps/lib/libtensorflow.so.2.9.1   # the name install.js checks before downloading
CACHE=node_modules/.cache/hstu-native
WHEELS=.venv/wheels                           # outside node_modules: survives `npm ci`
# Headers the binding includes (directly or transitively), as laid out under tensorflow/include/ in the wheel.
HEADERS=(
  tensorflow/c/c_api.h tensorflow/c/c_api_macros.h tensorflow/c/tf_attrtype.h tensorflow/c/tf_buffer.h
  tensorflow/c/tf_datatype.h tensorflow/c/tf_status.h tensorflow/c/tf_tensor.h tensorflow/c/tf_tstring.h
  tensorflow/c/eager/c_api.h
  tensorflow/core/platform/ctstring.h tensorflow/core/platform/ctstring_internal.h
  tsl/platform/ctstring.h tsl/platform/ctstring_internal.h
  xla/tsl/c/tsl_status.h
)

fallback() { echo "[setup] native TensorFlow backend unavailable: $*; falling back to wasm" >&2; exit 0; }

if [ "${HSTU_NO_NATIVE:-}" = 1 ]; then
  echo "[setup] native TensorFlow backend skipped (HSTU_NO_NATIVE=1); backend auto will use wasm" >&2
  exit 0
fi

addon_loads() {
  local addon
  addon=$(ls "$PKG"/lib/napi-v*/tfjs_binding.node 2>/dev/null | head -1)
  [ -n "$addon" ] && [ -e "$MARKER" ] && node -e 'require(process.argv[1])' "$PWD/$addon" 2>/dev/null
}
addon_loads && exit 0

command -v flock > /dev/null || fallback "flock not found"
mkdir -p "$CACHE" || fallback "cannot create $CACHE"
# Another setup (a parallel `npm test`) may be building it right now: wait for it, then recheck.
exec 9> "$CACHE/lock"
flock 9
addon_loads && exit 0

start=$SECONDS
LOG=$CACHE/build.log
: > "$LOG"
echo "[setup] building the native TensorFlow backend from the tensorflow-cpu==$TF_WHEEL_VERSION wheel (~20 s, once)" >&2

# 1. The package itself: a scripted install dropped it (its download failed); skipping scripts keeps it.
if [ ! -f "$PKG/package.json" ]; then
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error >> "$LOG" 2>&1 \
    || fallback "npm install --ignore-scripts failed (see $LOG)"
  [ -f "$PKG/package.json" ] || fallback "@tensorflow/tfjs-node is not in package.json's optionalDependencies"
fi

# 2. The wheel (pip resolves it from the local index here, from PyPI elsewhere).
wheel=$(ls "$WHEELS"/tensorflow_cpu-"$TF_WHEEL_VERSION"-*.whl 2>/dev/null | head -1)
if [ -z "$wheel" ]; then
  pip=.venv/bin/pip; [ -x "$pip" ] || pip="python3 -m pip"
  $pip download -q --no-deps "tensorflow-cpu==$TF_WHEEL_VERSION" -d "$WHEELS" >> "$LOG" 2>&1 \
    || fallback "pip download tensorflow-cpu==$TF_WHEEL_VERSION failed (see $LOG)"
  wheel=$(ls "$WHEELS"/tensorflow_cpu-"$TF_WHEEL_VERSION"-*.whl 2>/dev/null | head -1)
  [ -n "$wheel" ] || fallback "pip download left no tensorflow_cpu wheel in $WHEELS"
fi

# 3. Unpack into a staging dir, check the C API is there, then swap it in as deps/.
stage=$PKG/deps.staging
trap 'rm -rf "$stage"' EXIT
rm -rf "$stage" && mkdir -p "$stage/lib" "$stage/include" || fallback "cannot write $stage"
unzip -q -o "$wheel" tensorflow/libtensorflow_cc.so.2 tensorflow/libtensorflow_framework.so.2 \
  "${HEADERS[@]/#/tensorflow/include/}" -d "$stage/wheel" >> "$LOG" 2>&1 \
  || fallback "the wheel lacks the TensorFlow C libraries or headers (see $LOG)"
mv "$stage"/wheel/tensorflow/lib*.so.2 "$stage/lib/" && mv "$stage"/wheel/tensorflow/include/* "$stage/include/" \
  || fallback "cannot stage the wheel's files"
rm -rf "$stage/wheel"

command -v nm > /dev/null || fallback "nm (binutils) not found"
# Every TF_/TFE_ function the binding calls must be exported by one of the two libraries.
needed=$(grep -ohE '\bTFE?_[A-Z][A-Za-z]+\(' "$PKG"/binding/*.cc "$PKG"/binding/*.h | tr -d '(' \
  | grep -vE '^TFE?_Auto' | sort -u)
exported=$(nm -D --defined-only "$stage/lib/libtensorflow_cc.so.2" "$stage/lib/libtensorflow_framework.so.2" \
  | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u)
missing=$(comm -23 <(echo "$needed") <(echo "$exported") | tr '\n' ' ')
[ -z "$missing" ] || fallback "libtensorflow_cc.so.2 lacks C API symbols: $missing"

# The wheel's debug sections are ~200 MB of the 815; the addon does not need them.
if command -v strip > /dev/null; then strip --strip-unneeded "$stage"/lib/*.so.2 >> "$LOG" 2>&1; fi

ln -s libtensorflow_cc.so.2 "$stage/lib/libtensorflow.so"
ln -s libtensorflow_cc.so.2 "$stage/lib/libtensorflow.so.2"
ln -s libtensorflow_cc.so.2 "$stage/lib/libtensorflow.so.2.9.1"
ln -s libtensorflow_framework.so.2 "$stage/lib/libtensorflow_framework.so"
rm -rf "$PKG/deps" && mv "$stage" "$PKG/deps" || fallback "cannot move $stage to $PKG/deps"

# 4. Compile the addon. install.js sees the marker, skips its download, and node-pre-gyp falls back to
# node-gyp against the local Node headers (npm's nodedir). Its prebuilt-addon fetch fails fast offline.
npm rebuild @tensorflow/tfjs-node --loglevel=error >> "$LOG" 2>&1 || fallback "npm rebuild @tensorflow/tfjs-node failed (see $LOG)"
addon_loads || fallback "the built addon does not load (see $LOG)"
echo "[setup] native TensorFlow backend built in $((SECONDS - start)) s ($(du -sh "$PKG/deps/lib" | cut -f1) in $PKG/deps/lib)" >&2
