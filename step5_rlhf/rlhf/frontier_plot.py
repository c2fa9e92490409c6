"""frontier.png：左图裁判好回答率 vs KL（每种方法一条线），右图奖励模型分数 vs 裁判分数。"""

from pathlib import Path

from ..plots import label, setup_chinese_font

STYLE = {"dpo": ("DPO", "tab:blue", "o"), "ppo": ("PPO", "tab:red", "s"), "best_of_n": ("best-of-N", "tab:green", "^")}


def _setting_text(point) -> str:
    return ", ".join(f"{k}={v}" for k, v in point["setting"].items())


def plot_frontier(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    setup_chinese_font()
    reference = result["reference"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for method, (name, color, marker) in STYLE.items():
        points = sorted((p for p in result["points"] if p["method"] == method and p["seed"] == 0), key=lambda p: p["kl"])
        if not points:
            continue
        kls = [0.0] + [p["kl"] for p in points]
        rates = [reference["judge_rate"]] + [p["judge_rate"] for p in points]
        left.plot(kls, rates, color=color, marker=marker, label=name)
        for p in points:
            left.annotate(_setting_text(p), (p["kl"], p["judge_rate"]), fontsize=7, xytext=(3, 3),
                          textcoords="offset points", color=color)
        spread = [p for p in result["points"] if p["method"] == method and p["seed"] != 0]
        if spread:  # the other seeds of one setting: hollow markers
            left.scatter([p["kl"] for p in spread], [p["judge_rate"] for p in spread], facecolors="none",
                         edgecolors=color, marker=marker)
        right.scatter([p["judge_score"] for p in points], [p["reward_model_score"] for p in points], color=color,
                      marker=marker, label=name)
    left.scatter([0.0], [reference["judge_rate"]], color="black", zorder=3, label=label("参考模型", "reference"))
    left.set_xlabel(label("KL(策略‖参考)（nats，采样估计）", "KL(policy‖reference) (nats, sampled)"))
    left.set_ylabel(label("裁判判为好回答的比例", "judge pass rate"))
    left.set_title(label("奖励–KL 前沿（以裁判为真相）", "reward–KL frontier (judge as ground truth)"))
    left.legend(fontsize=8)
    right.scatter([reference["judge_score"]], [reference["reward_model_score"]], color="black",
                  label=label("参考模型", "reference"))
    right.set_xlabel(label("平均裁判分数 judge_score（真相）", "mean judge_score (ground truth)"))
    right.set_ylabel(label("平均奖励模型分数（近似）", "mean reward-model score (proxy)"))
    right.set_title(label("奖励模型分数涨、裁判分数不涨 = 过度优化", "proxy up, truth flat = over-optimisation"))
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
