"""基准：`step5-rlhf compare` 的快速版（几个种子）与完整版——用时、前沿表、每种方法的成本、种子间的波动；
再加一张 PPO 的消融表（每个有名字的设置单独关掉或换掉）和 GRPO 奖励（裁判 vs 奖励模型）的对比。

    python benchmarks/bench_compare.py                       # 快速版 × 种子 0 1 2，再跑完整版
    python benchmarks/bench_compare.py --seeds 0 --no-full   # 只跑一次快速版
    python benchmarks/bench_compare.py --ablation            # 只跑消融表（快速版的设置，全部留出提示词 × 4 个采样）

Not a test. Each compare run is a fresh `step5-rlhf compare` process (wall time includes imports, the pretraining
and SFT warm start, read from the cache when present, which the first run of a seed fills). The headline of a run
is each method's best judge rate among its points with KL ≤ 2 nats; a seed re-runs the whole pipeline (pretraining,
SFT, reward model, every method), so the spread over seeds is the spread a student would see.
"""

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from step5_rlhf.commands.compare import summary
from step5_rlhf.rlhf.compare import KL_BUDGET, METHOD_NAMES, best_within_kl, rate_se


def run(out, quick, seed):
    started = time.perf_counter()
    command = [sys.executable, "-m", "step5_rlhf", "compare", "--quiet", "--device", "cpu", "--out", str(out),
               "--seed", str(seed)]
    subprocess.run(command + (["--quick"] if quick else []), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, json.loads((Path(out) / "frontier.json").read_text(encoding="utf-8"))


def headline(result) -> dict:
    """Each method's best seed-0 point within the KL budget: {method: (judge-rate gain over the reference, point)}."""
    reference = result["reference"]["judge_rate"]
    return {method: (p["judge_rate"] - reference, p) for method, p in best_within_kl(result).items()}


def costs(result):
    lines = ["每种方法的成本（每个点：训练用时，不含留出集上的打分；best-of-N 是生成 N 个回答并打分的用时）："]
    for method in METHOD_NAMES:
        points = [p for p in result["points"] if p["method"] == method]
        lines.append(f"  {method:9s} 平均 {statistics.mean(p['seconds'] for p in points):.1f} 秒，峰值内存 "
                     f"{max(p['peak_rss_mb'] for p in points):.0f} MB，内存里的模型 {points[0]['models_in_memory']}")
    groups = {}
    for p in result["points"]:
        groups.setdefault((p["method"], json.dumps(p["setting"])), []).append(p)
    for (method, setting), points in groups.items():
        if len(points) > 1:
            rates, kls = [p["judge_rate"] for p in points], [p["kl"] for p in points]
            lines.append(f"  {method} {setting}，{len(points)} 个训练种子：裁判好回答率 {statistics.mean(rates):.1%} ± "
                         f"{statistics.stdev(rates):.1%}（标准差），KL {statistics.mean(kls):.2f} ± {statistics.stdev(kls):.2f}")
    return "\n".join(lines)


def seed_table(results) -> str:
    """Mean ± standard deviation over seeds of each method's best gain within the KL budget."""
    lines = [f"各方法在 KL ≤ {KL_BUDGET} 内最好的点，比参考模型高多少（{len(results)} 个种子）：",
             "  参考模型的裁判好回答率：" + "，".join(f"{r['reference']['judge_rate']:.1%}" for r in results)]
    for method in METHOD_NAMES:
        gains = [headline(r).get(method) for r in results]
        shown = "，".join("—" if g is None else f"{g[0]:+.1%}（{json.dumps(g[1]['setting'])}，KL {g[1]['kl']:.2f}）"
                         for g in gains)
        found = [g[0] for g in gains if g is not None]
        spread = (f"；平均 {statistics.mean(found):+.1%} ± {statistics.stdev(found):.1%}（标准差）"
                  if len(found) > 1 else "")
        lines.append(f"  {method:9s} {shown}{spread}")
    return "\n".join(lines)


# ---- the ablation: one setting changed at a time, everything else as in --quick ----------------------------

PPO_SWITCHES = (
    ("默认（--quick）", {}),
    ("不白化奖励 whiten_rewards=False", {"whiten_rewards": False}),
    ("不白化优势 whiten_advantages=False", {"whiten_advantages": False}),
    ("不扣没写完的分 missing_eos_penalty=None", {"missing_eos_penalty": None}),
    ("自适应 β_KL kl_target=1.5", {"kl_target": 1.5}),
    ("独立的价值模型（从奖励模型出发）value_model='reward_model'", {"value_model": "reward_model"}),
    ("GAE λ = 1（蒙特卡洛回报）lam=1.0", {"lam": 1.0}),
    ("价值模型先热身 3 轮 value_warmup=3", {"value_warmup": 3}),
    ("每个提示词 4 个回答 samples_per_prompt=4", {"samples_per_prompt": 4}),
    ("4 个回答 + 组内留一基线 group_baseline=True", {"samples_per_prompt": 4, "group_baseline": True}),
    ("不要价值函数（λ=1，vf_coef=0：优势 = 白化的回报）", {"lam": 1.0, "vf_coef": 0.0}),
    ("每批多训练一倍 epochs=4", {"epochs": 4}),
    ("学习率 4e-4", {"lr": 4e-4}),
    ("rollout 轮数加倍 iterations=50", {"iterations": 50}),
    ("rollout 轮数 80（约是 --quick 的 3 倍）iterations=80", {"iterations": 80}),
)


def ablation():
    from step5_rlhf.rlhf.compare import CompareConfig, Comparison
    from step5_rlhf.rlhf.ppo import train_ppo
    from step5_rlhf.training.config import TrainConfig
    from step5_rlhf.training.run import quiet_session

    # All held-out prompts × 4 samples: with 80 × 2 the judge rate's standard error is about 4 points, too coarse here.
    config = replace(CompareConfig(train=TrainConfig(impl="solution", out=None, progress=False), out=None).quick(),
                     eval_prompts=None, samples=4)
    with quiet_session(config.train.threads):
        comparison = Comparison(config, log=None)
        comparison.setup()
        comparison.reward_model()
        reference = comparison.evaluate(comparison.reference, seed=999)
        n = len(comparison.prompts) * config.samples
        se = rate_se(reference["judge_rate"], n)
        print(f"\n== PPO 消融（--quick 的设置，一次只改一项；{len(comparison.prompts)} 个留出提示词 × {config.samples} 个采样，"
              f"一个好回答率的标准误约 {se:.1%}）==")
        print(f"参考模型：裁判好回答率 {reference['judge_rate']:.1%}，奖励模型分数 {reference['reward_model_score']:+.2f}")
        print(f"{'设置':<44}{'裁判好回答率':>10}{'比参考':>8}{'奖励模型分数':>10}{'KL':>12}{'秒':>6}")
        for name, change in PPO_SWITCHES:
            policy = copy.deepcopy(comparison.reference).requires_grad_(True)
            started = time.perf_counter()
            train_ppo(policy, comparison.reference, comparison.rm, comparison.tokenizer, comparison.train_prompts,
                      comparison.device, replace(config.ppo, **change))
            seconds = time.perf_counter() - started
            v = comparison.evaluate(policy.requires_grad_(False).eval(), seed=1000)
            print(f"{name:<44}{v['judge_rate']:>12.1%}{v['judge_rate'] - reference['judge_rate']:>+10.1%}"
                  f"{v['reward_model_score']:>+12.2f}{v['kl']:>8.2f}±{v['kl_se']:.2f}{seconds:>6.0f}")
        print("\n== 同一个奖励模型能带到哪里：best-of-N（不训练，KL 从样本估计）==")
        comparison.points, comparison.config = [], replace(config, best_of=(4, 8, 16))
        comparison.best_of_n()
        for p in comparison.points:
            print(f"best-of-N n={p['setting']['n']:<3}裁判好回答率 {p['judge_rate']:.1%}（{p['judge_rate'] - reference['judge_rate']:+.1%}），"
                  f"奖励模型分数 {p['reward_model_score']:+.2f}，KL {p['kl']:.2f}（上界 {p['kl_bound']:.2f}）")
        print("\n== RLOO 与 GRPO 的奖励（β = 0.2，--quick 的步数）==")
        for method, reward in (("rloo", "reward_model"), ("grpo", "reward_model"), ("grpo", "judge")):
            comparison.points = []
            comparison.config = replace(config, grpo_reward=reward)
            comparison.online(method, 0.2)
            p = comparison.points[-1]
            print(f"{method} 奖励 = {reward:<13}裁判好回答率 {p['judge_rate']:.1%}（{p['judge_rate'] - reference['judge_rate']:+.1%}），"
                  f"奖励模型分数 {p['reward_model_score']:+.2f}，KL {p['kl']:.2f} ± {p['kl_se']:.2f}，{p['seconds']:.0f} 秒")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="快速版跑哪些种子")
    parser.add_argument("--no-full", action="store_true", help="不跑完整版")
    parser.add_argument("--ablation", action="store_true", help="只跑消融表")
    args = parser.parse_args()
    print(f"CPU 核数 {os.cpu_count()}，负载 {os.getloadavg()[0]:.1f}")
    if args.ablation:
        ablation()
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for seed in args.seeds:
            wall, result = run(Path(tmp) / f"quick{seed}", True, seed)
            results.append(result)
            print(f"\n== 快速版 --quick --seed {seed}：整条命令 {wall:.0f} 秒（其中比较本身 {result['seconds']:.0f} 秒）==")
            print(summary(result))
        print()
        print(seed_table(results))
        print(costs(results[0]))
        if not args.no_full:
            wall, result = run(Path(tmp) / "full", False, 0)
            print(f"\n== 完整版（种子 0）：整条命令 {wall:.0f} 秒（其中比较本身 {result['seconds']:.0f} 秒）==")
            print(summary(result))
            print(seed_table([result]))
            print(costs(result))


if __name__ == "__main__":
    main()
