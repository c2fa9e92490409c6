"""讲义里的图：把画图的细节放在这里，讲义单元只留下“画什么、比较什么”的几行。

没有中文字体时，图里的文字自动改用英文（见 step5_rlhf.plots）。
"""

import math

from .plots import has_chinese_font, label, setup_chinese_font


def _pyplot():
    import matplotlib.pyplot as plt

    setup_chinese_font()
    return plt


def bradley_terry(differences=(0.0, 1.0, 3.0)):
    """P(y_w ≻ y_l | x) = σ(奖励之差) 的曲线，标出几个奖励之差处的概率。"""
    plt = _pyplot()
    xs = [x / 10 for x in range(-60, 61)]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(xs, [1 / (1 + math.exp(-x)) for x in xs])
    for d in differences:
        p = 1 / (1 + math.exp(-d))
        ax.plot([d], [p], "o", color="C1")
        ax.annotate(f"{p:.2f}", (d, p), textcoords="offset points", xytext=(8, -12))
    ax.axhline(0.5, color="gray", linewidth=0.8, linestyle="--")
    ax.set_xlabel(label("奖励之差", "reward difference") + r"  $r(x, y_w) - r(x, y_l)$")
    ax.set_ylabel(r"$P(y_w \succ y_l \mid x)$")
    ax.set_title(label("Bradley–Terry 模型", "Bradley-Terry model"))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def dpo_loss_and_weight(betas=(0.05, 0.1, 0.5, 1.0), point=(0.9, 0.1), span=30):
    """左：DPO 损失 −log σ(βz)；右：每对样本的梯度权重 σ(−βz)。红点是讲义例子里的 (z, β)。"""
    import torch
    import torch.nn.functional as F

    plt = _pyplot()
    z = torch.linspace(-span, span, 301)
    fig, (ax_loss, ax_weight) = plt.subplots(1, 2, figsize=(11, 4))
    for beta in betas:
        ax_loss.plot(z, -F.logsigmoid(beta * z), label=f"β = {beta}")
        ax_weight.plot(z, torch.sigmoid(-beta * z), label=f"β = {beta}")
    z0, beta0 = point
    ax_loss.plot([z0], [-F.logsigmoid(torch.tensor(beta0 * z0)).item()], "o", color="red")
    ax_weight.plot([z0], [torch.sigmoid(torch.tensor(-beta0 * z0)).item()], "o", color="red")
    ax_loss.set_title(label("DPO 损失  −log σ(βz)", "DPO loss  -log sigmoid(beta z)"))
    ax_weight.set_title(label("梯度权重  σ(−βz) = σ(r̂_rejected − r̂_chosen)", "gradient weight  sigmoid(-beta z)"))
    for ax in (ax_loss, ax_weight):
        ax.set_xlabel(label("相对改进 z（策略 log ratio − 参考 log ratio）", "margin z (policy log ratio - reference log ratio)"))
        ax.axvline(0, color="gray", linewidth=0.8)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_loss.set_ylim(0, 4)
    fig.tight_layout()
    return fig


SEGMENT_COLORS = {"prompt": "#d0d0d0", "response": "#9bd5a4", "pad": "#ffffff"}


def loss_mask_grid(prompt, responses):
    """把“提示词 + 回答 + 补齐”画成格子：每行的 attention_mask、loss_mask，以及每个回答 token 由哪个位置的 logits 打分。

    prompt：token 列表；responses：{名字: token 列表}。
    """
    from matplotlib.patches import Patch, Rectangle

    plt = _pyplot()

    def shown(token):  # without a Chinese font, a character cannot be drawn: show a dot instead
        return token if token.isascii() or has_chinese_font() else "·"

    width = len(prompt) + max(len(r) for r in responses.values())
    fig, axes = plt.subplots(len(responses), 1, figsize=(12, 2.8 * len(responses)))
    for ax, (name, response) in zip(axes, responses.items()):
        n_pad = width - len(prompt) - len(response)
        tokens = prompt + response + ["<pad>"] * n_pad
        segment = ["prompt"] * len(prompt) + ["response"] * len(response) + ["pad"] * n_pad
        attention_mask = [0 if s == "pad" else 1 for s in segment]
        loss_mask = [1 if s == "response" else 0 for s in segment]
        rows = [
            ("token", [shown(t) for t in tokens], [SEGMENT_COLORS[s] for s in segment]),
            ("attention_mask", attention_mask, ["#b9d4f0" if v else "#ffffff" for v in attention_mask]),
            ("loss_mask", loss_mask, ["#9bd5a4" if v else "#ffffff" for v in loss_mask]),
            (label("打分的 logits", "scored by logits"), [f"{t - 1}" if m else "" for t, m in enumerate(loss_mask)],
             ["#fff2b3" if m else "#ffffff" for m in loss_mask]),
        ]
        for r, (row_name, values, colors) in enumerate(rows):
            y = len(rows) - 1 - r
            for t, (value, color) in enumerate(zip(values, colors)):
                ax.add_patch(Rectangle((t, y), 1, 1, facecolor=color, edgecolor="#888888", linewidth=0.6))
                text = str(value)
                ax.text(t + 0.5, y + 0.5, text, ha="center", va="center", fontsize=7 if len(text) > 2 else 10)
            ax.text(-0.3, y + 0.5, row_name, ha="right", va="center", fontsize=9)
        ax.set_xlim(0, width)
        ax.set_ylim(0, len(rows))
        ax.set_xticks([t + 0.5 for t in range(width)], [str(t) for t in range(width)], fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks([])
        for side in ("left", "right", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title(name, loc="left", fontsize=11)
    fig.legend(handles=[Patch(facecolor=c, edgecolor="#888888", label=label(n, e)) for c, n, e in [
        (SEGMENT_COLORS["prompt"], "提示词", "prompt"),
        (SEGMENT_COLORS["response"], "回答（计入 log 概率）", "response (counted)"),
        (SEGMENT_COLORS["pad"], "补齐 <pad>", "padding <pad>"),
    ]], loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0.08, 0.06, 1, 1))
    return fig
