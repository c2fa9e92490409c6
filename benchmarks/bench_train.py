"""基准：默认训练的耗时与内存（冷 / 热 SFT 缓存）、原生循环与 TRL DPOTrainer 的逐步对照与速度。

    python benchmarks/bench_train.py              # 全部
    python benchmarks/bench_train.py --skip-cli   # 只做原生 vs TRL 对照

Not a test: numbers depend on the machine and on whatever else it is running.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from step5_rlhf.training import DEFAULT_BETA
from step5_rlhf.training import impl as impl_mod
from step5_rlhf.training.device import Float32Logits
from step5_rlhf.training.dpo import DPO_SETTINGS, make_optimizer, sequence_logps, train_dpo
from step5_rlhf.training.run import build_reference, prepare


def cli_run(cache_dir, out_dir, threads=None):
    """One `step5-rlhf train` in a fresh process: wall seconds, peak RSS (MB), metrics."""
    env = {**os.environ, "STEP5_RLHF_CACHE": str(cache_dir)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    command = [sys.executable, "-m", "step5_rlhf.cli", "train", "--quiet", "--device", "cpu", "--out", str(out_dir)]
    subprocess.run(command + (["--threads", str(threads)] if threads else []), check=True, env=env,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    metrics = json.loads((Path(out_dir) / "metrics.json").read_text(encoding="utf-8"))
    return wall, max(peak, before) / 1024, metrics


class TimedPolicy(Float32Logits):
    """Records the model's own forward time, and when backward reaches the model (a hook on the logits)."""

    def __init__(self, model, device, marks):
        super().__init__(model, device)
        self.marks = marks

    def forward(self, **kwargs):
        self.marks["fwd_start"] = time.perf_counter()
        out = super().forward(**kwargs)
        self.marks["fwd_end"] = time.perf_counter()
        if out.logits.requires_grad:
            out.logits.register_hook(lambda g: self.marks.__setitem__("bwd_start", time.perf_counter()))
        return out


def outside_fraction(module, policy, examples, ref, pad, steps=30, beta=DEFAULT_BETA):
    """Fraction of a native step spent outside the model's forward + backward (collate, log-probs, loss, optimizer)."""
    marks = {}
    params = list(policy.parameters())
    optimizer = make_optimizer(params, DPO_SETTINGS["lr"])
    optimizer.register_step_pre_hook(lambda *a: marks.__setitem__("bwd_end", time.perf_counter()))
    optimizer.register_step_pre_hook(lambda *a: torch.nn.utils.clip_grad_norm_(params, 1.0) and None)
    wrapped = TimedPolicy(policy, torch.device("cpu"), marks)
    policy.train()
    total = model_time = 0.0
    batch_size = DPO_SETTINGS["batch_size"]
    for step in range(steps):
        index = [(step * batch_size + i) % len(examples) for i in range(batch_size)]
        started = time.perf_counter()
        batch = module.collate_preference_batch([examples[i] for i in index], pad)
        module.dpo_train_step(wrapped, batch, ref[0][index], ref[1][index], optimizer, beta)
        elapsed = time.perf_counter() - started
        if step >= 5:  # skip warm-up
            total += elapsed
            model_time += (marks["fwd_end"] - marks["fwd_start"]) + (marks["bwd_end"] - marks["bwd_start"])
    return 1 - model_time / total, total / (steps - 5)


def native_vs_trl(steps):
    import copy

    from step5_rlhf.training.trl_backend import train_dpo_trl, trl_reference_logps

    module = impl_mod.load_checked("solution")
    setup = prepare()
    reference, _ = build_reference(setup, "cpu", progress=False)
    pad, device = setup["tokenizer"].pad_token_id, torch.device("cpu")
    ref = sequence_logps(module, reference, setup["train_examples"], pad, device)

    # Per-pair step-0 log-probs: TRL tokenizes and scores on its own.
    trl_ref = trl_reference_logps(copy.deepcopy(reference), setup["tokenizer"], setup["train"])
    logp_diff = max((trl_ref[0] - ref[0]).abs().max().item(), (trl_ref[1] - ref[1]).abs().max().item())

    results = {}
    for backend in ("native", "trl"):
        policy = copy.deepcopy(reference).requires_grad_(True)
        started = time.perf_counter()
        if backend == "native":
            history = train_dpo(module, policy, setup["train_examples"], *ref, pad, device, steps, DEFAULT_BETA,
                                progress=False)
        else:
            history = train_dpo_trl(policy, setup["tokenizer"], setup["train"], setup["train_examples"], ref, steps,
                                    DEFAULT_BETA, 0, DPO_SETTINGS, device, progress=False)
        seconds = time.perf_counter() - started
        results[backend] = {"history": history, "seconds": seconds,
                            "pairs_per_second": steps * DPO_SETTINGS["batch_size"] / seconds}
    policy = copy.deepcopy(reference).requires_grad_(True)
    fraction, step_seconds = outside_fraction(module, policy, setup["train_examples"], ref, pad)
    return logp_diff, results, fraction, step_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=60)
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
                wall, rss, m = cli_run(Path(tmp) / "cache", Path(tmp) / "out", args.threads)
                print(f"默认运行 {label}：墙钟 {wall:.1f} 秒，峰值内存 {rss:.0f} MB；"
                      f"SFT {m['sft.seconds']:.1f} 秒，DPO {m['train.seconds']:.1f} 秒；"
                      f"留出准确率 {m['eval.rewards/accuracies']:.3f}，间隔 {m['eval.rewards/margins']:.2f}，"
                      f"好回答率 {m['eval.judge_rate_reference']:.3f} → {m['eval.judge_rate_policy']:.3f}，"
                      f"KL {m['eval.kl']:.2f}")

    logp_diff, results, fraction, step_seconds = native_vs_trl(args.steps)
    native, trl = results["native"], results["trl"]
    for i in (0, 1, args.steps - 1):
        a, b = native["history"][i]["loss"], trl["history"][i]["loss"]
        print(f"第 {i} 步损失：原生 {a:.7f}，TRL {b:.7f}，|Δ| = {abs(a - b):.2e}")
    print(f"第 0 步每对序列 log 概率（参考）最大 |Δ| = {logp_diff:.2e}")
    print(f"速度：原生 {native['pairs_per_second']:.0f} 对/秒，TRL {trl['pairs_per_second']:.0f} 对/秒，"
          f"原生 / TRL = {native['pairs_per_second'] / trl['pairs_per_second']:.2f}×")
    print(f"原生一步 {step_seconds * 1000:.1f} ms，其中模型前向+反向之外的时间占 {fraction:.1%}")


if __name__ == "__main__":
    main()
