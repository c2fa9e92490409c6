"""基准：默认训练（冷 / 热 SFT 缓存）的耗时、内存和效果，以及原生循环与 TRL DPOTrainer 的稳态速度。

    python benchmarks/bench_train.py              # 全部
    python benchmarks/bench_train.py --skip-cli   # 只做原生 vs TRL 对照

Not a test: numbers depend on the machine and on whatever else it is running. The cold run is a
fresh process with an empty SFT cache (`step5-rlhf train`, everything from imports to saving);
the warm run reuses that cache. Backend speed is steady state: both backends train the same
model from the same reference (fp32, reference log-probs computed before the loop), and the
pairs per second count steps 20 to the last, from timestamps taken at the end of each step, so
neither side's set-up (building the trainer, tokenising, scoring the reference) is in it.
"""

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from step5_rlhf.training import TrainConfig
from step5_rlhf.training import impl as impl_mod
from step5_rlhf.training.dpo import sequence_logps, train_dpo
from step5_rlhf.training.run import build_reference, cache_root, prepare, steady_pairs_per_second

WARMUP = 20


def cli_run(cache_dir, out_dir, threads=None):
    """One `step5-rlhf train` in a fresh process: wall seconds, peak RSS (MB), metrics."""
    env = {**os.environ, "STEP5_RLHF_CACHE": str(cache_dir)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    command = [sys.executable, "-m", "step5_rlhf", "train", "--quiet", "--device", "cpu", "--out", str(out_dir)]
    subprocess.run(command + (["--threads", str(threads)] if threads else []), check=True, env=env,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    metrics = json.loads((Path(out_dir) / "metrics.json").read_text(encoding="utf-8"))
    return wall, max(peak, before) / 1024, metrics


def describe(label, wall, rss, m):
    print(f"默认运行 {label}：墙钟 {wall:.1f} 秒，峰值内存 {rss:.0f} MB；各阶段 " +
          "，".join(f"{k.removeprefix('time.')} {v:.1f} 秒" for k, v in m.items() if k.startswith("time.")))
    for split in ("eval", "ood"):
        low, high = m[f"{split}.judge_rate_delta_ci95"]
        dims = sorted(k.rsplit("/", 1)[1] for k in m if k.startswith(f"{split}.judge_rate_policy/"))
        print(f"  {split}：奖励准确率 {m[f'{split}.rewards/accuracies']:.3f}（选更长 {m[f'{split}.baseline/longer_wins']:.3f}，"
              f"看首字 {m[f'{split}.baseline/first_char']:.3f}），原始 log 概率偏好 参考 "
              f"{m[f'{split}.logps/prefers_chosen_reference']:.3f} → 策略 {m[f'{split}.logps/prefers_chosen_policy']:.3f}；"
              f"裁判好回答率 {m[f'{split}.judge_rate_reference']:.3f} → {m[f'{split}.judge_rate_policy']:.3f}"
              f"（差的 95% 区间 [{low:+.3f}, {high:+.3f}]），KL {m[f'{split}.kl']:.2f} ± {m[f'{split}.kl_se']:.2f}；"
              f"长度 {m[f'{split}.answer_length_reference']:.1f} → {m[f'{split}.answer_length_policy']:.1f}，"
              f"distinct-2 {m[f'{split}.distinct_2_reference']:.3f} → {m[f'{split}.distinct_2_policy']:.3f}")
        print("    分维度：" + "，".join(f"{d} {m[f'{split}.judge_rate_reference/{d}']:.3f} → "
                                    f"{m[f'{split}.judge_rate_policy/{d}']:.3f}" for d in dims))


def native_vs_trl(steps):
    from step5_rlhf.training.trl_backend import train_dpo_trl, trl_reference_logps

    config = TrainConfig(steps=steps, progress=False)
    module = impl_mod.load_checked("solution")
    setup = prepare(config)
    device = torch.device("cpu")
    reference, _ = build_reference(setup, config, device)
    pad = setup["tokenizer"].pad_token_id
    ref = sequence_logps(module, reference, setup["train_examples"], pad, device)

    # Per-pair step-0 log-probs: TRL tokenizes and scores on its own.
    trl_ref = trl_reference_logps(copy.deepcopy(reference), setup["tokenizer"], setup["train"], config)
    logp_diff = max((trl_ref[0] - ref[0]).abs().max().item(), (trl_ref[1] - ref[1]).abs().max().item())

    results = {}
    for backend in ("native", "trl"):
        policy = copy.deepcopy(reference).requires_grad_(True)
        if backend == "native":
            history = train_dpo(module, policy, setup["train_examples"], ref, pad, device, config)
        else:
            history = train_dpo_trl(policy, setup["tokenizer"], setup["train"], config, device, cache_root(config))
        # Both histories stamp each step's end ("elapsed"), so set-up is outside the measured span.
        results[backend] = {"history": history,
                            "pairs_per_second": steady_pairs_per_second(history, config.batch_size, WARMUP)}
    return logp_diff, results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200, help="steps of the backend comparison (steady state: 20…)")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}，线程数 {torch.get_num_threads()}，CPU 核数 {os.cpu_count()}，"
          f"负载 {os.getloadavg()[0]:.1f}")

    if not args.skip_cli:
        with tempfile.TemporaryDirectory() as tmp:
            for label in ("冷启动（无 SFT 缓存）", "热启动（SFT 缓存命中）"):
                describe(label, *cli_run(Path(tmp) / "cache", Path(tmp) / "out", args.threads))

    logp_diff, results = native_vs_trl(args.steps)
    native, trl = results["native"], results["trl"]
    for i in (0, 1, args.steps - 1):
        a, b = native["history"][i]["loss"], trl["history"][i]["loss"]
        print(f"第 {i} 步损失：原生 {a:.7f}，TRL {b:.7f}，|Δ| = {abs(a - b):.2e}")
    print(f"第 0 步每对序列 log 概率（参考）最大 |Δ| = {logp_diff:.2e}")
    print(f"稳态速度（第 {WARMUP}–{args.steps} 步，同一进程、同一参考模型、fp32）：原生 {native['pairs_per_second']:.0f} 对/秒，"
          f"TRL {trl['pairs_per_second']:.0f} 对/秒，原生 / TRL = {native['pairs_per_second'] / trl['pairs_per_second']:.2f}×")


if __name__ == "__main__":
    main()
