#!/usr/bin/env bash
# `npm run repro`: dvc repro with the project's venv on PATH, then where to look.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH"
dvc repro "$@"
echo "[repro] metrics: metrics/ (headline; dvc metrics show), reports/ (every number, segments); plots: dvc plots show (writes dvc_plots/index.html)" >&2
