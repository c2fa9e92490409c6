"""第 5 课的实验：同一个参考模型出发，DPO、PPO、RLOO、GRPO、best-of-N 的奖励–KL 前沿。讲义单元只调用这里的几个函数。

`run` 就是 `step5-rlhf compare --quick`（用你的 TODO 训练 DPO），结果写在讲义旁边的 runs/compare/。
"""

import inspect
import json
from dataclasses import replace
from pathlib import Path

from .notebook_support import SMOKE_NOTE, autograding, percent, show_table, skipped, smoke_test
from .rlhf.compare import KL_BUDGET, METHOD_NAMES, REWARDS, best_within_kl, rate_se, setting_text

RUN_DIR = Path("runs") / "compare"  # under the notebook's folder
LESSON4_METRICS = Path("runs") / "notebook" / "metrics.json"  # lesson 4's run, when the student did it here


def show_ppo_core():
    """把 PPO 的核心（带 KL 惩罚的奖励、GAE、裁剪的损失）从 step5_rlhf/rlhf/ppo.py 原样显示出来。"""
    from IPython.display import display

    from .rlhf import ppo

    source = "\n\n".join(inspect.getsource(f) for f in (ppo.kl_penalised_rewards, ppo.gae, ppo.clipped_losses))
    display({"text/markdown": f"```python\n{source}```", "text/plain": source}, raw=True)


def _smoke(config):
    return replace(config, train=config.train.but(steps=10), reward=replace(config.reward, steps=20),
                   ppo=replace(config.ppo, iterations=2), online=replace(config.online, steps=2), best_of=(2, 4, 8),
                   eval_prompts=8, samples=2)


def run(impl):
    """`step5-rlhf compare --quick`：奖励模型、DPO（你的 TODO）、PPO、RLOO、GRPO、best-of-N；返回 frontier.json 的内容。"""
    from .rlhf.compare import CompareConfig, run_comparison
    from .training.config import TrainConfig

    if autograding():  # nothing here is graded live: the graded number is read from the saved frontier.json
        print("⏭ 自动评分中：比较实验不计分，这里不再重复运行。")
        return None
    if skipped(impl, "比较实验"):
        return None
    config = CompareConfig(train=TrainConfig(impl=impl.__file__, out=None), out=str(RUN_DIR)).quick()
    if smoke_test():
        config = _smoke(config)
        print(SMOKE_NOTE)
    print(f"设置：奖励模型 {config.reward.steps} 步；DPO β ∈ {list(config.betas)}，每个 {config.train.steps} 步；"
          f"PPO KL 系数 ∈ {list(config.kl_coefs)}，每个 {config.ppo.iterations} 轮 rollout；"
          f"RLOO、GRPO 的 β ∈ {list(config.online_betas)}，每个 {config.online.steps} 步"
          f"（GRPO 的奖励：{REWARDS[config.grpo_reward]}）；best-of-N，N ∈ {list(config.best_of)}；"
          f"每个方法都在{'全部' if config.eval_prompts is None else f' {config.eval_prompts} 个'}留出提示词上"
          f"各采样 {config.samples} 个回答（温度 1）来打分")
    print("用的是：" + ("你的代码" if impl.STEP5_SOURCE == "student" else "参考答案") + "（DPO 的点）\n")
    result = run_comparison(config)
    print(f"\n一共用了 {result['seconds']:.0f} 秒；结果写在 {RUN_DIR}/（frontier.json、frontier.png、reward_model/）")
    return result


def show_frontier(result, folder=RUN_DIR):
    from IPython.display import Image, display

    if not skipped(result):
        display(Image(filename=str(Path(folder) / "frontier.png")))


def show_points(result):
    """每个点一行：方法、设置、优化的奖励、裁判好回答率、裁判平均分、奖励模型分数、KL ± 标准误。"""
    if skipped(result):
        return
    ref = result["reference"]
    print(f"奖励模型在留出偏好对上的准确率：{percent(result['reward_model']['eval_accuracy'])}")
    rows = [("参考模型（SFT）", "—", "—", percent(ref["judge_rate"]), f"{ref['judge_score']:.3f}", f"{ref['reward_model_score']:+.2f}", "0")]
    for p in result["points"]:
        if p["seed"] != 0:
            continue
        kl = f"{p['kl']:.2f} ± {p['kl_se']:.2f}"
        if p["method"] == "best_of_n":
            kl += f"（估计；上界 {p['kl_bound']:.2f}）"
        rows.append((METHOD_NAMES[p["method"]], setting_text(p["setting"]), REWARDS[p["reward"]], percent(p["judge_rate"]),
                     f"{p['judge_score']:.3f}", f"{p['reward_model_score']:+.2f}", kl))
    show_table(["方法", "设置", "优化的奖励", "裁判好回答率（温度 1）", "裁判平均分", "奖励模型分数", "KL(π‖π_ref)，nats"], rows)
    if LESSON4_METRICS.is_file():  # the other definition, side by side: lesson 4's run in this folder
        rate = json.loads(LESSON4_METRICS.read_text(encoding="utf-8")).get("eval.judge_rate_reference")
        if rate is not None:
            print(f"对照：第 4 课那次运行（{LESSON4_METRICS}）里，参考模型按第 4 课的定义（贪心 + 低温采样）的裁判好回答率是 "
                  f"{percent(rate)}；这里按温度 1 采样是 {percent(ref['judge_rate'])}。")


def show_costs(result):
    """每种方法的代价：每个点的用时、峰值内存、同时在内存里的模型；有多个种子时再加好回答率的种子间差异。"""
    if skipped(result):
        return
    rows = []
    for method, name in METHOD_NAMES.items():
        points = [p for p in result["points"] if p["method"] == method]
        if not points:
            continue
        seconds = sum(p["seconds"] for p in points) / len(points)
        spread = _seed_spread(points)
        rows.append((name, len(points), f"{seconds:.1f}", f"{max(p['peak_rss_mb'] for p in points):.0f}",
                     points[0]["models_in_memory"], spread))
    rm = result["reward_model"]
    show_table(["方法", "点数", "每个点的秒数", "峰值内存 MB（整个进程）", "训练时内存里的模型", "同一设置换种子：好回答率"], rows)
    print(f"另外：奖励模型训练一次 {rm['seconds']:.1f} 秒（PPO、RLOO 和 best-of-N 都要用它；DPO 不需要，"
          f"GRPO 用裁判当奖励时也不需要）")


def _seed_spread(points) -> str:
    """The setting that was run with several seeds: mean ± standard deviation of its judge rate."""
    by_setting = {}
    for p in points:
        by_setting.setdefault(json.dumps(p["setting"], sort_keys=True), []).append(p["judge_rate"])
    rates = max(by_setting.values(), key=len)
    if len(rates) < 2:
        return "—（--quick 只跑一个种子）"
    mean = sum(rates) / len(rates)
    std = (sum((r - mean) ** 2 for r in rates) / (len(rates) - 1)) ** 0.5
    return f"{percent(mean)} ± {std:.1%}（{len(rates)} 个种子）"


def describe(result):
    """把这次运行的前沿读成几句话，数全部来自 result：随机误差有多大、每种方法在 KL ≤ 2 内最好的点、
    奖励模型分数涨而裁判不涨的点、best-of-N 的 KL 估计与上界。"""
    if skipped(result):
        return
    ref, answers = result["reference"], result["settings"]["eval_prompts"] * result["settings"]["samples_per_prompt"]
    ref_se = rate_se(ref["judge_rate"], answers)

    def half_width(rate):  # of the 95% interval of (rate − the reference's rate)
        return 1.96 * (rate_se(rate, answers) ** 2 + ref_se ** 2) ** 0.5

    print(f"① 随机误差：每个点在 {answers} 个温度 1 的回答上打分；参考模型的裁判好回答率 {percent(ref['judge_rate'])}，"
          f"标准误约 {ref_se:.1%}。两个点的差要超过约 {half_width(ref['judge_rate']):.1%} 才在 95% 的意义上算数。")
    points = [p for p in result["points"] if p["seed"] == 0]
    best = best_within_kl(result)
    print(f"② 每种方法在 KL ≤ {KL_BUDGET:g} 内最好的点（比参考模型高多少，± 是这个差的 95% 区间的半宽）：")
    for method, p in sorted(best.items(), key=lambda item: -item[1]["judge_rate"]):
        gain = p["judge_rate"] - ref["judge_rate"]
        half = half_width(p["judge_rate"])
        verdict = "高于参考模型" if gain > half else ("低于参考模型" if gain < -half else "和参考模型分不开")
        print(f"   {METHOD_NAMES[method]:9s}（{setting_text(p['setting'])}，KL {p['kl']:.2f}）：{gain:+.1%} ± {half:.1%}，{verdict}")
    missing = [METHOD_NAMES[m] for m in METHOD_NAMES if m not in best and any(p["method"] == m for p in points)]
    if missing:
        print(f"   {'、'.join(missing)}：没有 KL ≤ {KL_BUDGET:g} 的点")
    rm_gains = [p["reward_model_score"] - ref["reward_model_score"] for p in points]
    flagged = [p for p, rm in zip(points, rm_gains) if rm >= max(rm_gains) / 2 and rm > 0
               and p["judge_rate"] - ref["judge_rate"] <= half_width(p["judge_rate"])]
    if flagged:
        print("③ 奖励模型分数涨得多、裁判好回答率却没有显著上升的点（对奖励模型的过度优化）：" + "；".join(
            f"{METHOD_NAMES[p['method']]}（{setting_text(p['setting'])}，奖励模型分数 {p['reward_model_score']:+.2f}，"
            f"好回答率 {percent(p['judge_rate'])}）" for p in flagged))
    else:
        print("③ 这次没有“奖励模型分数涨得多、裁判好回答率却没有显著上升”的点。")
    bon = [p for p in points if p["method"] == "best_of_n"]
    if bon:
        print(f"④ best-of-N 的 KL：参考模型温度 1 的回答里有 {bon[0]['repeated_share']:.0%} 是同一提示词下的重复；"
              + "，".join(f"N = {p['setting']['n']} 估计 {p['kl']:.2f}（上界 {p['kl_bound']:.2f}）" for p in bon))
