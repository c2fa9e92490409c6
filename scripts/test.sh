#!/usr/bin/env bash
# 全部测试：准备环境，然后运行 pytest（参数原样传给 pytest）。
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
exec python -m pytest "$@"
