"""Optional TODO 7 `reward_model_loss`: its cases, how its answer is compared, and its hints."""

import torch

from . import compare
from .case import Case
from .todo1_dpo_loss import NONFINITE_HINT  # noqa: F401 (TODO 1's hint applies here too)

TODO = "reward_model_loss"
ARGUMENTS = ("chosen_rewards", "rejected_rewards", "margin")
REWARDS = ARGUMENTS[:2]


def rewards(g, batch, dtype=torch.float32, margin=False, scale=2.0):
    chosen = torch.randn(batch, generator=g, dtype=torch.float64) * scale + 0.5
    rejected = torch.randn(batch, generator=g, dtype=torch.float64) * scale - 0.5
    extra = torch.rand(batch, generator=g, dtype=torch.float64) * 2 if margin else None
    return dict(zip(ARGUMENTS, [chosen.to(dtype), rejected.to(dtype), None if extra is None else extra.to(dtype)]))


def _large(g):
    # r_c − r_r near ±200 in float32: log(sigmoid(x)) underflows to log 0 = -inf.
    out = rewards(g, 3)
    out["chosen_rewards"] = out["rejected_rewards"] + torch.tensor([-200.0, 200.0, 0.5])
    return out


CASES = [
    Case(TODO, "random_b8", "随机分数，B=8，没有 margin", lambda g: rewards(g, 8), 71, REWARDS),
    Case(TODO, "margin", "带 margin，B=6", lambda g: rewards(g, 6, margin=True), 72, REWARDS),
    Case(TODO, "float64", "float64 输入，B=4", lambda g: rewards(g, 4, torch.float64), 73, REWARDS),
    Case(TODO, "large_gap", "极大的分数差（约为 ±200），float32", _large, 74, REWARDS),
]


def value_difference(actual, expected):
    return compare.tensor_difference(actual, expected, "损失")
