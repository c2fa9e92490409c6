"""frontier.png：左图裁判好回答率 vs KL（每种方法一种记号；best-of-N 连成线），右图奖励模型分数 vs 裁判分数。

best-of-N 画两次：实线是从采样估计的 KL，虚线是闭式的上界 log N − (N−1)/N。每个点旁边标着它的设置，
标签互相挡住时会换一个位置。
"""

from pathlib import Path

from matplotlib.transforms import Bbox

from ..plots import label, setup_chinese_font

STYLE = {"dpo": ("DPO", "tab:blue", "o"), "ppo": ("PPO", "tab:red", "s"), "rloo": ("RLOO", "tab:purple", "D"),
         "grpo": ("GRPO", "tab:orange", "v"), "best_of_n": ("best-of-N", "tab:green", "^")}
SHORT = {"beta": "β", "kl_coef": "β_KL", "n": "N"}
# Where a label may go relative to its point (points), tried in this order until it overlaps nothing.
OFFSETS = ((4, 4), (4, -10), (-30, 4), (-30, -10), (4, 12), (-30, 12), (4, -18), (-30, -18), (-48, 4), (-48, -10))


def _setting_text(point) -> str:
    return ", ".join(f"{SHORT.get(k, k)}={v}" for k, v in point["setting"].items())


def _place_labels(fig, axis, labels):
    """Annotate (text, x, y, color) so that no two labels overlap and none leaves the axes (greedy: each takes
    the first free offset)."""
    renderer = fig.canvas.get_renderer()
    frame = axis.get_window_extent(renderer)
    # the markers themselves are taken too: a label must not hide a neighbouring point
    taken = [Bbox.from_extents(cx - 5, cy - 5, cx + 5, cy + 5)
             for cx, cy in (axis.transData.transform((x, y)) for _, x, y, _ in labels)]
    for text, x, y, color in labels:
        for dx, dy in OFFSETS:
            note = axis.annotate(text, (x, y), fontsize=7, xytext=(dx, dy), textcoords="offset points", color=color)
            box = note.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                break
            note.remove()
        else:  # every place is taken: keep the first one rather than drop the label
            taken.append(axis.annotate(text, (x, y), fontsize=7, xytext=OFFSETS[0], textcoords="offset points",
                                       color=color).get_window_extent(renderer))


def plot_frontier(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    setup_chinese_font()
    reference = result["reference"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5.8))
    labels = []
    for method, (name, color, marker) in STYLE.items():
        points = sorted((p for p in result["points"] if p["method"] == method and p["seed"] == 0), key=lambda p: p["kl"])
        if not points:
            continue
        if points[0].get("reward") == "judge":  # a rule-based reward, not the reward model: say so in the legend
            name += label("（奖励 = 裁判）", " (reward = judge)")
        # Only best-of-N is a curve from the reference (N grows, so does its KL); a trained method's settings are points.
        curve = method == "best_of_n"
        start = [(0.0, reference["judge_rate"])] if curve else []
        kls, rates = zip(*(start + [(p["kl"], p["judge_rate"]) for p in points]))
        left.plot(kls, rates, color=color, marker=marker, label=name, linestyle="-" if curve else "none", markersize=7)
        if curve and all("kl_bound" in p for p in points):
            left.plot([0.0] + [p["kl_bound"] for p in points], rates, color=color, marker=marker, linestyle="--",
                      markerfacecolor="none", label=label("best-of-N（KL 取闭式上界）", "best-of-N (KL upper bound)"))
        labels += [(_setting_text(p), p["kl"], p["judge_rate"], color) for p in points]
        spread = [p for p in result["points"] if p["method"] == method and p["seed"] != 0]
        if spread:  # the other seeds of one setting: hollow markers
            left.scatter([p["kl"] for p in spread], [p["judge_rate"] for p in spread], facecolors="none",
                         edgecolors=color, marker=marker)
        right.scatter([p["judge_score"] for p in points], [p["reward_model_score"] for p in points], color=color,
                      marker=marker, label=name)
    left.scatter([0.0], [reference["judge_rate"]], color="black", zorder=3, label=label("参考模型", "reference"))
    left.set_xlabel(label("KL(策略‖参考)（nats，采样估计）", "KL(policy‖reference) (nats, sampled)"))
    left.set_ylabel(label("裁判好回答率（温度 1 采样）", "judge pass rate (temperature-1 samples)"))
    left.set_title(label("奖励–KL 前沿（以裁判为真相）", "reward–KL frontier (judge as ground truth)"))
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4)  # below: never over a point
    right.scatter([reference["judge_score"]], [reference["reward_model_score"]], color="black",
                  label=label("参考模型", "reference"))
    right.set_xlabel(label("平均裁判分数 judge_score（真相）", "mean judge_score (ground truth)"))
    right.set_ylabel(label("平均奖励模型分数（近似）", "mean reward-model score (proxy)"))
    right.set_title(label("奖励模型分数涨、裁判分数不涨 = 过度优化", "proxy up, truth flat = over-optimisation"))
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)
    fig.tight_layout()
    fig.canvas.draw()  # label sizes are known only once the figure is laid out
    _place_labels(fig, left, labels)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
