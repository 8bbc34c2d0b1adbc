#!/usr/bin/env bash
# Bench-only setup: PyTorch (CPU) in .venv/ for the peer benchmark bench/peers/hstu_step.py.
# Not part of `npm run setup`: the pipeline never needs torch.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
if ! .venv/bin/python -c 'import torch' 2> /dev/null; then
  echo "[bench] installing torch==2.13.0 (CPU) into .venv" >&2
  .venv/bin/pip install -q --disable-pip-version-check torch==2.13.0 >&2
fi
