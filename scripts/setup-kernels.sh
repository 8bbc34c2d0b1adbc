#!/usr/bin/env bash
# Native kernels (core/ranking/native/*.cc): Node-API addons compiled with the system's C++ compiler against the
# Node headers of the running node, into node_modules/.cache/hstu-native/. Rebuilt when a source changes (a hash
# stamp); silent and instant otherwise. Never fails setup: without a compiler or headers it prints one line and
# the pure TypeScript/tfjs paths run instead. HSTU_NO_KERNELS=1 skips the build (and the loaders ignore a built one).
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=node_modules/.cache/hstu-native
SRC=core/ranking/native/count-above.cc
ADDON=$OUT/count_above.node
[ "${HSTU_NO_KERNELS:-}" = 1 ] && exit 0

notice() { echo "[setup] native ranking kernel unavailable: $*; ranking counts on the tfjs device instead" >&2; exit 0; }

# The stamp: the source's hash (line 1, which count-above.ts checks before loading) and this script's (line 2: flags).
stamp=$(sha256sum < "$SRC" | cut -c1-16; sha256sum < "$0" | cut -c1-16)
[ -f "$ADDON" ] && [ "$(cat "$ADDON.stamp" 2>/dev/null)" = "$stamp" ] && exit 0

CXX=${CXX:-$(command -v g++ || command -v clang++ || true)}
[ -n "$CXX" ] || notice "no C++ compiler (g++ or clang++; Debian: apt-get install g++)"
# Node's own headers: next to the node binary (official builds), else the distribution's.
node_inc=$(node -p 'require("path").join(process.execPath, "../../include/node")')
[ -f "$node_inc/node_api.h" ] || node_inc=/usr/include/node
[ -f "$node_inc/node_api.h" ] || notice "node_api.h not found (Node headers; Debian: apt-get install libnode-dev)"

mkdir -p "$OUT" || notice "cannot create $OUT"
tmp=$OUT/count_above.tmp-$$.node
# -O3 for the portable loop; the AVX2+FMA kernel is compiled per function (target attribute) and chosen at run time.
if ! "$CXX" -O3 -Wno-psabi -std=c++17 -shared -fPIC -pthread -I"$node_inc" "$SRC" -o "$tmp" 2> "$OUT/build.log"; then
  rm -f "$tmp"; notice "$CXX failed (see $OUT/build.log)"
fi
node -e 'require(process.argv[1])' "$PWD/$tmp" 2>> "$OUT/build.log" || { rm -f "$tmp"; notice "the built addon does not load (see $OUT/build.log)"; }
mv "$tmp" "$ADDON" && echo "$stamp" > "$ADDON.stamp"
echo "[setup] native ranking kernel built ($ADDON)" >&2
