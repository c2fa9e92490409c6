"""TODO 4 `dpo_metrics`: its cases, how its answer is compared, and its hints."""

import torch

from . import compare
from .case import Case
from .todo1_dpo_loss import log_probs, pair_args

TODO = "dpo_metrics"
KEYS = ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies")


def _ties(g):
    # Integer-valued log-probs: two of four pairs have exactly equal implicit rewards, which
    # accuracies must count as wrong. β = 0.5 keeps every product exact in float32.
    ref_chosen = -torch.randint(5, 15, (4,), generator=g).float()
    ref_rejected = -torch.randint(5, 15, (4,), generator=g).float()
    chosen_gain = torch.randint(-3, 4, (4,), generator=g).float()
    rejected_gain = chosen_gain.clone()
    tied = torch.randperm(4, generator=g)[:2]
    for row in range(4):
        if row not in tied.tolist():
            rejected_gain[row] = chosen_gain[row] + torch.randint(1, 4, (), generator=g) * (1 if row % 2 else -1)
    return pair_args([ref_chosen + chosen_gain, ref_rejected + rejected_gain, ref_chosen, ref_rejected], 0.5)


CASES = [
    Case(TODO, "random_b8", "随机输入，B=8，β=0.1", lambda g: pair_args(log_probs(g, 8), 0.1), 11),
    Case(TODO, "beta_half", "β=0.5，B=7", lambda g: pair_args(log_probs(g, 7, spread=0.2), 0.5), 12),
    Case(TODO, "ties", "chosen 与 rejected 奖励相等的样本（不能算对）", _ties, 13),
    Case(TODO, "float64", "float64 输入，B=3", lambda g: pair_args(log_probs(g, 3, torch.float64), 0.1), 14),
]


def metrics_difference(actual, expected, keys=KEYS):
    if not isinstance(actual, dict):
        return f"应返回字典，你返回的是 {compare.type_name(actual)}"
    for key in keys:
        if key not in actual:
            return f"缺少键 {key!r}（名字要与 TRL 的 DPOTrainer 一致）"
        problem = compare.scalar_difference(actual[key], expected[key], key)
        if problem:
            return problem
    return None


value_difference = metrics_difference
