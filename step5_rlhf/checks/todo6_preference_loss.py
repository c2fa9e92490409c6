"""Optional TODO 6 `preference_loss`: its cases (every loss type, ε > 0, unequal lengths, an unknown
type), how its answer is compared, and its hints.

For the unknown type, raising ValueError is the answer (returning some loss, or raising another
exception, fails the case); how the message is worded is advice only: a ValueError whose message is
not Chinese or does not name the valid types passes, with a note (``value_note``) shown to the student.
"""

import torch

from . import compare
from .case import Case
from .todo1_dpo_loss import NONFINITE_HINT, log_probs  # noqa: F401 (TODO 1's hint applies here too)

TODO = "preference_loss"
ARGUMENTS = ("policy_chosen_log_probs", "policy_rejected_log_probs", "ref_chosen_log_probs", "ref_rejected_log_probs",
             "beta", "loss_type", "label_smoothing", "chosen_lengths", "rejected_lengths")
POLICY = ARGUMENTS[:2]
LOSS_TYPES = ("sigmoid", "robust", "hinge", "ipo", "sigmoid_norm")


def _lengths(g, batch, low=3, high=40):
    """Completion token counts: chosen and rejected drawn apart, so swapping them changes the loss."""
    chosen = torch.randint(low, high, (batch,), generator=g)
    # never equal to chosen; no tensor comparison (a hostile submission may have patched Tensor.__eq__)
    rejected = low + (chosen - low + torch.randint(1, high - low, (batch,), generator=g)) % (high - low)
    return chosen, rejected


def args(g, batch, beta, loss_type, eps=0.0, dtype=torch.float32, scale=3.0):
    tensors = log_probs(g, batch, dtype, scale=scale)
    chosen_lengths, rejected_lengths = _lengths(g, batch)
    return dict(zip(ARGUMENTS, [*tensors, beta, loss_type, eps, chosen_lengths, rejected_lengths]))


def _hinge_both_sides(g):
    # A wide spread of z puts β·z on both sides of 1: the relu's zero region and a missing β both show.
    return args(g, 8, 0.5, "hinge", scale=6.0)


def _robust_large_margin(g):
    # β·z near ±150 in float32: log(sigmoid(x)) underflows to log 0 = -inf on one side.
    out = args(g, 3, 0.1, "robust", eps=0.1)
    z = torch.tensor([-1500.0, 1500.0, 2.0])
    out["policy_chosen_log_probs"] = out["policy_rejected_log_probs"] + (out["ref_chosen_log_probs"]
                                                                         - out["ref_rejected_log_probs"]) + z
    return out


def _unknown(g):
    return args(g, 4, 0.1, "sigmiod")  # a typo: must not silently fall back to some other loss


CASES = [
    Case(TODO, "sigmoid", "loss_type=\"sigmoid\"（就是 TODO 1），B=8，β=0.1", lambda g: args(g, 8, 0.1, "sigmoid"), 61, POLICY),
    Case(TODO, "robust", "loss_type=\"robust\"，ε=0.2，B=8，β=0.1", lambda g: args(g, 8, 0.1, "robust", eps=0.2), 62, POLICY),
    Case(TODO, "robust_zero", "loss_type=\"robust\"，ε=0（应与 sigmoid 相同），B=5", lambda g: args(g, 5, 0.3, "robust"), 63,
         POLICY),
    Case(TODO, "hinge", "loss_type=\"hinge\"，β=0.5，有的样本 β·z 超过 1", _hinge_both_sides, 64, POLICY),
    Case(TODO, "ipo", "loss_type=\"ipo\"，β=0.1，chosen 与 rejected 长度不同", lambda g: args(g, 8, 0.1, "ipo"), 65, POLICY),
    Case(TODO, "ipo_float64", "loss_type=\"ipo\"，β=0.5，float64 输入", lambda g: args(g, 5, 0.5, "ipo", dtype=torch.float64),
         66, POLICY),
    Case(TODO, "sigmoid_norm", "loss_type=\"sigmoid_norm\"，β=2.0，chosen 与 rejected 长度不同",
         lambda g: args(g, 8, 2.0, "sigmoid_norm"), 67, POLICY),
    Case(TODO, "robust_large_margin", "loss_type=\"robust\"，极大的 margin（β·z 约为 ±150），float32", _robust_large_margin,
         68, POLICY),
    Case(TODO, "unknown_type", "不认识的 loss_type（\"sigmiod\"）应抛出 ValueError", _unknown, 69,
         runner="raises", options={"choices": LOSS_TYPES}),
]


def value_difference(actual, expected):
    if isinstance(expected, dict):  # the "raises" case: what was raised
        return raised_difference(actual, expected)
    return compare.tensor_difference(actual, expected, "损失")


def raised_difference(actual, expected):
    if not isinstance(actual, dict) or actual.get("raised") is not True:
        return "不认识的 loss_type 应该抛出 ValueError，你的函数却返回了结果（拼错的类型不能悄悄当成别的损失）"
    if actual.get("value_error") is not True:
        return "不认识的 loss_type 应该抛出 ValueError，你抛出的是别的异常"
    return None  # the message's wording is advice, not points: see value_note


MESSAGE_ADVICE = ("不认识的 loss_type 时，ValueError 的消息最好用中文写明收到的值和全部可选的类型"
                  "（例如“不认识的 loss_type：'sigmiod'。可选：sigmoid、robust、hinge、ipo、sigmoid_norm”），"
                  "拼错的人一眼就知道怎么改。这一条只是建议，不扣分。")


def value_note(actual, expected):
    """Advice on a case that passed, or None: the unknown-type ValueError's message."""
    if not isinstance(expected, dict) or not isinstance(actual, dict):
        return None
    if actual.get("chinese") is True and actual.get("names_choices") is True:
        return None
    return MESSAGE_ADVICE
