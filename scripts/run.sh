#!/usr/bin/env bash
# 主任务：准备环境，然后用参考答案跑一遍小型 DPO 训练（参数原样传给 step5-rlhf train）。
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
exec step5-rlhf train "$@"
