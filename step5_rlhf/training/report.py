"""把训练结果写进 --out 目录：metrics.json、history.jsonl、samples.json、训练曲线图。"""

import json
from pathlib import Path

from ..plots import label, setup_chinese_font
from .judge import DIMENSION_NAMES


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def write_history(path: Path, history) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in history), encoding="utf-8")


SPLIT_NAMES = {"eval": "留出集", "ood": "分布外留出集"}


def summary(m: dict, sft_cached: bool = False) -> str:
    """几行中文总结（命令行最后打印的就是它）。"""
    lines = []
    for split, name in SPLIT_NAMES.items():
        if f"{split}.rewards/accuracies" not in m:
            continue
        lines.append(f"{name}：奖励准确率 {m[f'{split}.rewards/accuracies']:.1%}（捷径基线：选更长的 "
                     f"{m[f'{split}.baseline/longer_wins']:.1%}，看第一个字 {m[f'{split}.baseline/first_char']:.1%}），"
                     f"奖励间隔 {m[f'{split}.rewards/margins']:.3f}")
        if f"{split}.judge_rate_policy" in m:
            low, high = m[f"{split}.judge_rate_delta_ci95"]
            lines.append(f"  裁判判为好回答的比例：参考模型 {m[f'{split}.judge_rate_reference']:.1%} → DPO 之后 "
                         f"{m[f'{split}.judge_rate_policy']:.1%}（变化的 95% 区间 [{low:+.1%}, {high:+.1%}]）；"
                         f"KL(策略‖参考) ≈ {m[f'{split}.kl']:.2f} ± {m[f'{split}.kl_se']:.2f} nats")
            dims = sorted(k.rsplit("/", 1)[1] for k in m if k.startswith(f"{split}.judge_rate_policy/"))
            lines.append("  分维度（变化的 95% 区间）：" + "，".join(_dimension(m, split, d) for d in dims))
    world = m.get("train.world_size", 1)
    loss_type = m.get("train.loss_type", "sigmoid")
    if loss_type != "sigmoid":  # trained with optional TODO 6
        smoothing = m.get("train.label_smoothing", 0.0)
        lines.append(f"损失：{loss_type}（选做 TODO 6 的 preference_loss）" + (f"，ε = {smoothing}" if loss_type == "robust" else ""))
    lines.append(f"DPO {m['train.steps']} 步用时 {m['train.seconds']:.1f} 秒（{m['train.pairs_per_second']:.0f} 对/秒），"
                 f"全程 {m.get('total.seconds', float('nan')):.1f} 秒" + ("（预训练和 SFT 读自缓存）" if sft_cached else "")
                 + (f"；{world} 个进程（TRL），全局 batch {m['train.batch_size']} 对" if world > 1 else ""))
    return "\n".join(lines)


def _dimension(m, split, dimension) -> str:
    """"诚实 48%→61% [+6%, +20%]": one dimension's judge rates and the interval of their change."""
    before, after = m[f"{split}.judge_rate_reference/{dimension}"], m[f"{split}.judge_rate_policy/{dimension}"]
    interval = m.get(f"{split}.judge_rate_delta_ci95/{dimension}")
    text = f"{DIMENSION_NAMES.get(dimension, dimension)} {before:.0%}→{after:.0%}"
    return text + (f" [{interval[0]:+.0%}, {interval[1]:+.0%}]" if interval else "")


def plot_curves(history, path: Path, eval_metrics=None) -> Path:
    """一张 2×2 图：损失、隐式奖励（chosen / rejected）、准确率、间隔（margin）。

    实线是每个训练 batch 上的值；最后一步右边的圆点（同色）是训练结束后留出集上的值。
    """
    import matplotlib.pyplot as plt

    setup_chinese_font()
    steps = [r["step"] for r in history]
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
    panels = [
        (axes[0, 0], label("DPO 损失", "DPO loss"), [("loss", label("训练 batch", "train batch"))]),
        (axes[0, 1], label("隐式奖励", "implicit rewards"), [
            ("rewards/chosen", label("chosen（训练 batch）", "chosen (train batch)")),
            ("rewards/rejected", label("rejected（训练 batch）", "rejected (train batch)")),
        ]),
        (axes[1, 0], label("奖励准确率", "reward accuracy"), [("rewards/accuracies", label("训练 batch", "train batch"))]),
        (axes[1, 1], label("奖励间隔 margin", "reward margin"), [("rewards/margins", label("训练 batch", "train batch"))]),
    ]
    last = steps[-1] if steps else 0
    for ax, title, series in panels:
        for key, name in series:
            line, = ax.plot(steps, [r[key] for r in history], label=name)
            if eval_metrics and key in eval_metrics:
                ax.plot([last + max(1, last // 40)], [eval_metrics[key]], "o", color=line.get_color(),
                        label=label("留出集（训练后）", "held-out (final)") if key != "rewards/rejected" else None)
        ax.set_title(title)
        ax.set_xlabel(label("训练步数", "step"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(label("DPO 训练曲线", "DPO training curves"))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
