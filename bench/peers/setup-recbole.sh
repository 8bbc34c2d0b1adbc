#!/usr/bin/env bash
# Bench-only setup: a separate venv .venv-bench/ with RecBole 1.2.1 and CPU torch 2.13.0, pinned in
# bench/peers/requirements-recbole.txt, for bench/peers/recbole_sasrec.py. Idempotent: reinstalls only when the
# requirements file changed since the last install (stamp .venv-bench/.setup-stamp). Not part of scripts/setup.sh:
# the pipeline never needs RecBole or torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
log() { echo "[bench-recbole] $*" >&2; }
req=bench/peers/requirements-recbole.txt
venv=.venv-bench
stamp=$(sha256sum "$req" | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.setup-stamp" 2> /dev/null)" != "$stamp" ]; then
  log "installing $(grep -E '^(recbole|torch)==' "$req" | tr '\n' ' ')into $venv (log: $venv/pip.log)"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" > "$venv/pip.log" 2>&1; then
    tail -20 "$venv/pip.log" >&2; log "pip install failed (full log: $venv/pip.log)"; exit 1
  fi
  # A CUDA build must never slip in: the bench is CPU-only and the machines have no GPU.
  if ! "$venv/bin/python" -c 'import torch, sys; sys.exit(torch.version.cuda is not None)'; then
    log "torch in $venv is a CUDA build; expected the CPU wheel torch==2.13.0+cpu"; exit 1
  fi
  "$venv/bin/python" -W ignore -c 'import recbole.quick_start, recbole.model.sequential_recommender, recbole.trainer' \
    || { log "recbole does not import in $venv"; exit 1; }
  echo "$stamp" > "$venv/.setup-stamp"
fi
