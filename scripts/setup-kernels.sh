#!/usr/bin/env bash
# Native kernels (core/**/native/*.cc): Node-API addons compiled with the system's C++ compiler against the Node
# headers of the running node, into node_modules/.cache/hstu-native/. Each is rebuilt when its source or a shared
# header changes (a hash stamp); silent and instant otherwise. Never fails setup: without a compiler or headers it
# prints one line and the pure TypeScript/tfjs paths run instead. HSTU_NO_KERNELS=1 skips the build (and the
# loaders, core/ops/native/load-addon.ts, ignore a built one).
set -uo pipefail
cd "$(dirname "$0")/.."

OUT=node_modules/.cache/hstu-native
HEADERS=(core/ops/native/napi-args.h core/ops/native/hash.h)  # shared by every kernel (load-addon.ts lists them too)
# name:source:what runs instead without it
KERNELS=(
  "count_above:core/ranking/native/count-above.cc:ranking counts on the tfjs device"
  "hstu_attention:core/model/encoders/hstu/native/attention.cc:HSTU attention runs as tfjs ops"
)
[ "${HSTU_NO_KERNELS:-}" = 1 ] && exit 0

CXX=${CXX:-$(command -v g++ || command -v clang++ || true)}
# Node's own headers: next to the node binary (official builds), else the distribution's.
node_inc=$(node -p 'require("path").join(process.execPath, "../../include/node")')
[ -f "$node_inc/node_api.h" ] || node_inc=/usr/include/node

build() {  # name source fallback
  local name=$1 src=$2 instead=$3 addon=$OUT/$1.node stamp tmp
  notice() { echo "[setup] native kernel $name unavailable: $*; $instead instead" >&2; }
  # The stamp: the hash of the source and the shared headers (line 1, which load-addon.ts checks before loading) and
  # this script's (line 2: flags).
  stamp=$(cat "$src" "${HEADERS[@]}" | sha256sum | cut -c1-16; sha256sum < "$0" | cut -c1-16)
  [ -f "$addon" ] && [ "$(cat "$addon.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  [ -n "$CXX" ] || { notice "no C++ compiler (g++ or clang++; Debian: apt-get install g++)"; return 0; }
  [ -f "$node_inc/node_api.h" ] || { notice "node_api.h not found (Node headers; Debian: apt-get install libnode-dev)"; return 0; }
  mkdir -p "$OUT" || { notice "cannot create $OUT"; return 0; }
  tmp=$OUT/$name.tmp-$$.node
  # -O3 for the portable loops; AVX2+FMA code is compiled per function (target attributes or clones) and chosen at
  # run time.
  if ! "$CXX" -O3 -Wno-psabi -std=c++17 -shared -fPIC -pthread -I"$node_inc" "$src" -o "$tmp" 2> "$OUT/$name.build.log"; then
    rm -f "$tmp"; notice "$CXX failed (see $OUT/$name.build.log)"; return 0
  fi
  if ! node -e 'require(process.argv[1])' "$PWD/$tmp" 2>> "$OUT/$name.build.log"; then
    rm -f "$tmp"; notice "the built addon does not load (see $OUT/$name.build.log)"; return 0
  fi
  mv "$tmp" "$addon" && echo "$stamp" > "$addon.stamp"
  echo "[setup] native kernel $name built ($addon)" >&2
}

for k in "${KERNELS[@]}"; do
  IFS=: read -r name src instead <<< "$k"
  build "$name" "$src" "$instead"
done
