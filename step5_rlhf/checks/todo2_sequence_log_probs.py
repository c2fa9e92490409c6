"""TODO 2 `sequence_log_probs`: its cases, how its answer is compared, and its hints."""

import torch

from . import compare
from .case import Case, randint

TODO = "sequence_log_probs"
NONFINITE_HINT = "出现了 inf/NaN：用 log_softmax，不要写 torch.log(torch.softmax(...))（概率会下溢成 0）。"


def sequences(g, prompt_lens, response_lens, vocab=11, dtype=torch.float32, logit_scale=2.0, pad_id=0):
    """Right-padded rows: prompt, response, padding; loss_mask marks the response only."""
    batch = len(prompt_lens)
    length = max(p + r for p, r in zip(prompt_lens, response_lens)) + 1
    input_ids = torch.full((batch, length), pad_id, dtype=torch.long)
    loss_mask = torch.zeros((batch, length), dtype=torch.long)
    for row, (p, r) in enumerate(zip(prompt_lens, response_lens)):
        input_ids[row, : p + r] = torch.randint(1, vocab, (p + r,), generator=g)
        loss_mask[row, p : p + r] = 1
    logits = (torch.randn(batch, length, vocab, generator=g, dtype=torch.float64) * logit_scale).to(dtype)
    return {"logits": logits, "input_ids": input_ids, "loss_mask": loss_mask}


def _lengths(g, batch, prompt=(1, 5), response=(2, 6)):
    return [randint(g, *prompt) for _ in range(batch)], [randint(g, *response) for _ in range(batch)]


def _random(g, batch, **kw):
    return sequences(g, *_lengths(g, batch), **kw)


def _response_from_start(g):
    # Row 0's response starts at t=0: position 0 has no prediction and must not count.
    prompts, responses = _lengths(g, 2)
    return sequences(g, [0] + prompts[1:], responses)


def _bool_mask(g):
    args = _random(g, 3)
    args["loss_mask"] = args["loss_mask"].bool()
    return args


LOGITS = ("logits",)
CASES = [
    Case(TODO, "random_b3", "随机输入，B=3，不同的提示词与回答长度", lambda g: _random(g, 3), 21, LOGITS),
    Case(TODO, "batch_of_one", "B=1", lambda g: _random(g, 1), 22, LOGITS),
    Case(TODO, "float64", "float64 logits，B=2", lambda g: _random(g, 2, dtype=torch.float64), 23, LOGITS),
    Case(TODO, "response_from_start", "回答从第 0 个 token 开始（第 0 个位置没有预测，不能算）",
         _response_from_start, 24, LOGITS),
    Case(TODO, "bool_mask", "loss_mask 是布尔张量", _bool_mask, 25, LOGITS),
    Case(TODO, "large_logits", "很大的 logits（±100 量级），float32", lambda g: _random(g, 2, logit_scale=60.0), 26, LOGITS),
]


def value_difference(actual, expected):
    return compare.tensor_difference(actual, expected, "序列 log 概率")
