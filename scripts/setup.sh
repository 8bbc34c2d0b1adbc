#!/usr/bin/env bash
# Idempotent setup for both README commands: npm deps, a pinned DVC (and pyarrow) in .venv/,
# and the native TensorFlow backend where it can be built. A few seconds when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup] $*" >&2; }

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

# npm: reinstall only when package.json / package-lock.json changed since the last install.
npm_stamp=$(stamp_of package.json package-lock.json)
if [ ! -d node_modules ] || [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  log "installing npm dependencies"
  npm install --no-audit --no-fund --loglevel=error >&2
  echo "$npm_stamp" > node_modules/.setup-stamp
fi

# Python venv with the pinned DVC CLI.
py_stamp=$(stamp_of requirements.txt)
if [ ! -x .venv/bin/dvc ] || [ "$(cat .venv/.setup-stamp 2>/dev/null)" != "$py_stamp" ]; then
  log "creating .venv with $(grep -E '^dvc==' requirements.txt)"
  python3 -m venv .venv
  if ! .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt > .venv/pip.log 2>&1; then
    tail -20 .venv/pip.log >&2; log "pip install failed (full log: .venv/pip.log)"; exit 1
  fi
  echo "$py_stamp" > .venv/.setup-stamp
fi

# Native TensorFlow backend (SPEC §9): optional; a one-line notice where it cannot be built.
if [ -f scripts/setup-native.sh ]; then bash scripts/setup-native.sh || log "native backend unavailable; using wasm"; fi

# Native ranking kernel (core/ranking/native): optional; a one-line notice where it cannot be built.
bash scripts/setup-kernels.sh || log "native ranking kernel unavailable; ranking counts on the tfjs device"
