"""基准：`step5-rlhf compare` 的快速版与完整版——用时、前沿表、每种方法的成本和种子间的波动。

    python benchmarks/bench_compare.py            # 快速版 + 完整版
    python benchmarks/bench_compare.py --full-only

Not a test. Each run is a fresh `step5-rlhf compare` process (wall time includes imports and the
SFT warm start, read from the cache when present, which the first run fills). Judge rates, reward-model
scores and KL are measured on held-out prompts with temperature-1 samples (see rlhf/compare.py).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from step5_rlhf.commands.compare import summary


def run(out, quick):
    started = time.perf_counter()
    command = [sys.executable, "-m", "step5_rlhf", "compare", "--quiet", "--device", "cpu", "--out", str(out)]
    subprocess.run(command + (["--quick"] if quick else []), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, json.loads((Path(out) / "frontier.json").read_text(encoding="utf-8"))


def costs(result):
    lines = ["每种方法的成本（每个点：训练用时，不含留出集上的打分；best-of-N 是生成 N 个回答并打分的用时）："]
    for method in ("dpo", "ppo", "best_of_n"):
        points = [p for p in result["points"] if p["method"] == method]
        lines.append(f"  {method:9s} 平均 {statistics.mean(p['seconds'] for p in points):.1f} 秒，峰值内存 "
                     f"{max(p['peak_rss_mb'] for p in points):.0f} MB，内存里的模型 {points[0]['models_in_memory']}")
    for method, key in (("dpo", "beta"), ("ppo", "kl_coef")):
        groups = {}
        for p in result["points"]:
            if p["method"] == method:
                groups.setdefault(p["setting"][key], []).append(p)
        for value, points in groups.items():
            if len(points) > 1:
                rates, kls = [p["judge_rate"] for p in points], [p["kl"] for p in points]
                lines.append(f"  {method} {key}={value}，{len(points)} 个种子：裁判好回答率 {statistics.mean(rates):.1%} ± "
                             f"{statistics.stdev(rates):.1%}（标准差），KL {statistics.mean(kls):.2f} ± {statistics.stdev(kls):.2f}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full-only", action="store_true")
    args = parser.parse_args()
    print(f"CPU 核数 {os.cpu_count()}，负载 {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        for quick in ([False] if args.full_only else [True, False]):
            wall, result = run(Path(tmp) / ("quick" if quick else "full"), quick)
            print(f"\n== {'快速版 --quick' if quick else '完整版'}：整条命令 {wall:.0f} 秒 ==")
            print(summary(result))
            print(costs(result))


if __name__ == "__main__":
    main()
