"""TODO 1 `dpo_loss`: its cases, how its answer is compared, and its hints."""

import torch

from . import compare
from .case import Case

TODO = "dpo_loss"
NONFINITE_HINT = "出现了 inf/NaN：用 F.logsigmoid(x)，不要写 torch.log(torch.sigmoid(x))（x 很负时会下溢成 log 0）。"
ARGUMENTS = ("policy_chosen_log_probs", "policy_rejected_log_probs", "ref_chosen_log_probs", "ref_rejected_log_probs")


def log_probs(g, batch, dtype=torch.float32, scale=3.0, spread=0.5):
    """Four [B] tensors shaped like summed sequence log-probs (negative), with real margins."""
    ref_chosen = -(torch.rand(batch, generator=g, dtype=torch.float64) * 20 + 5)
    ref_rejected = -(torch.rand(batch, generator=g, dtype=torch.float64) * 20 + 5)
    policy_chosen = ref_chosen + torch.randn(batch, generator=g, dtype=torch.float64) * scale + spread
    policy_rejected = ref_rejected + torch.randn(batch, generator=g, dtype=torch.float64) * scale - spread
    return [t.to(dtype) for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)]


def pair_args(tensors, beta):
    return {**dict(zip(ARGUMENTS, tensors)), "beta": beta}


def _large_margin(g):
    # β·z near -200, near +150 and small: a naive log(sigmoid(x)) gives log(0) = -inf in float32.
    z = torch.stack([-(1500 + 1000 * torch.rand((), generator=g, dtype=torch.float64)),
                     1000 + 1000 * torch.rand((), generator=g, dtype=torch.float64),
                     10 * torch.rand((), generator=g, dtype=torch.float64) - 5])
    ref_chosen = -(torch.rand(3, generator=g, dtype=torch.float64) * 20 + 5)
    ref_rejected = -(torch.rand(3, generator=g, dtype=torch.float64) * 20 + 5)
    policy_rejected = ref_rejected - torch.rand(3, generator=g, dtype=torch.float64) * 5
    policy_chosen = policy_rejected + (ref_chosen - ref_rejected) + z
    return pair_args([t.float() for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)], 0.1)


POLICY = ARGUMENTS[:2]
CASES = [
    Case(TODO, "random_b8", "随机输入，B=8，float32，β=0.1", lambda g: pair_args(log_probs(g, 8), 0.1), 1, POLICY),
    Case(TODO, "batch_of_one", "B=1，β=0.5", lambda g: pair_args(log_probs(g, 1), 0.5), 2, POLICY),
    Case(TODO, "float64", "float64 输入，B=5，β=0.2",
         lambda g: pair_args(log_probs(g, 5, torch.float64), 0.2), 3, POLICY),
    Case(TODO, "beta_one", "β=1.0，B=6", lambda g: pair_args(log_probs(g, 6, scale=1.0), 1.0), 4, POLICY),
    Case(TODO, "large_margin", "极大的 margin（β·z 约为 -200 与 +150），float32", _large_margin, 5, POLICY),
]


def value_difference(actual, expected):
    return compare.tensor_difference(actual, expected, "损失")
