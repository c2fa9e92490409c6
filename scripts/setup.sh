#!/usr/bin/env bash
# 一次性准备环境：建 .venv，先装 torch（已装好的 GPU 版会保留），再装本课程包与开发依赖。
# 重复运行很快：pyproject.toml 没变就跳过 pip。
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] 创建虚拟环境 .venv"
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate

stamp=.venv/.step5-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  python -m pip install -q --upgrade pip
  # torch first, so that the package's "torch>=2.4" is already met and pip never pulls a
  # multi-GB CUDA build by itself. TORCH_INDEX_URL picks another build (see README).
  if ! python -c "import torch" 2>/dev/null; then
    echo "[setup] 安装 torch ${TORCH_VERSION:-2.13.0}"
    python -m pip install -q --no-compile "torch==${TORCH_VERSION:-2.13.0}" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  fi
  echo "[setup] 安装 step5-rlhf 与开发依赖"
  # --no-compile: pip byte-compiles every file of torch, transformers, jupyter… one at a time (over a
  # minute of a two-core set-up); Python compiles the modules it imports when it first imports them.
  python -m pip install -q --no-compile -e ".[dev]"
  touch "$stamp"
fi

# Chinese glyphs in plots need a CJK font. Install one only where we may (root with apt);
# elsewhere the plots fall back to readable English labels and README says how to add one.
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] 安装中文字体 fonts-wqy-microhei"
    (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null) \
      || echo "[setup] 中文字体安装失败：图表会改用英文标签"
  else
    echo "[setup] 没有找到中文字体：图表会改用英文标签。安装方法见 README。"
  fi
fi
