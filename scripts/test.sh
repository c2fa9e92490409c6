#!/usr/bin/env bash
# 全部测试：准备环境，然后运行 pytest（参数原样传给 pytest）。
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
# Two workers (both cores), one test file per worker at a time: the files share slow fixtures
# (a built nbgrader course, executed notebooks). PYTEST_WORKERS=0 runs everything in one process.
# One thread per process: two workers on two cores, each with torch's default two threads, slow each
# other down several times over (notebook kernels and subprocesses inherit this).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
# Keep what Python compiles: the set-up does not byte-compile the libraries (see setup.sh), and with
# PYTHONDONTWRITEBYTECODE set every worker, kernel and subprocess would compile torch and transformers again.
unset PYTHONDONTWRITEBYTECODE
exec python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile --durations=15 "$@"
