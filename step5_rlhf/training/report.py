"""把训练结果写进 --out 目录：metrics.json、history.jsonl、samples.json、训练曲线图。"""

import json
from pathlib import Path

from ..plots import label, setup_chinese_font


def write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_history(path: Path, history) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in history), encoding="utf-8")


def plot_curves(history, path: Path, eval_metrics=None) -> Path:
    """一张 2×2 图：损失、奖励（chosen / rejected）、准确率、间隔（margin）。"""
    import matplotlib.pyplot as plt

    setup_chinese_font()
    steps = [r["step"] for r in history]
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5))
    panels = [
        (axes[0, 0], label("DPO 损失", "DPO loss"), [("loss", label("训练损失", "train loss"))]),
        (axes[0, 1], label("隐式奖励", "implicit rewards"), [
            ("rewards/chosen", label("好回答 chosen", "chosen")),
            ("rewards/rejected", label("差回答 rejected", "rejected")),
        ]),
        (axes[1, 0], label("奖励准确率", "reward accuracy"), [("rewards/accuracies", label("训练 batch", "train batch"))]),
        (axes[1, 1], label("奖励间隔 margin", "reward margin"), [("rewards/margins", label("训练 batch", "train batch"))]),
    ]
    for ax, title, series in panels:
        for key, name in series:
            ax.plot(steps, [r[key] for r in history], label=name)
            if eval_metrics and key in eval_metrics and key != "loss":
                ax.axhline(eval_metrics[key], linestyle="--", linewidth=1, color=ax.lines[-1].get_color(),
                           label=label("留出集（训练后）", "held-out (final)") if len(series) == 1 else None)
        ax.set_title(title)
        ax.set_xlabel(label("训练步数", "step"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(label("DPO 训练曲线", "DPO training curves"))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
