"""TODO 3 `collate_preference_batch`: its cases, how its answer is compared, and its hints."""

import torch

from . import compare
from .case import Case, randint

TODO = "collate_preference_batch"
KEYS = ("input_ids", "attention_mask", "loss_mask")


def examples(g, shapes, vocab=30):
    """Token ids start at 3, so they never equal a pad id (0, 1 or 2) of these cases."""
    def ids(n):
        return torch.randint(3, vocab, (n,), generator=g).tolist()

    return [{"prompt_ids": ids(p), "chosen_ids": ids(c), "rejected_ids": ids(r)} for p, c, r in shapes]


def _three_pairs(g):
    shapes = [(randint(g, 2, 6), randint(g, 1, 7), randint(g, 1, 7)) for _ in range(3)]
    return {"examples": examples(g, shapes), "pad_token_id": 0}


def _pad_id_two(g):
    shapes = [(randint(g, 1, 5), randint(g, 1, 6), randint(g, 1, 6)) for _ in range(2)]
    return {"examples": examples(g, shapes), "pad_token_id": 2}


def _rejected_longer(g):
    chosen = randint(g, 1, 4)
    return {"examples": examples(g, [(randint(g, 1, 5), chosen, chosen + randint(g, 2, 5))]), "pad_token_id": 1}


def _same_length(g):
    total = randint(g, 4, 8)
    shapes = []
    for _ in range(2):
        prompt = randint(g, 1, total - 1)
        shapes.append((prompt, total - prompt, total - prompt))
    return {"examples": examples(g, shapes), "pad_token_id": 0}


CASES = [
    Case(TODO, "three_pairs", "B=3，长度各不相同，pad_token_id=0", _three_pairs, 31),
    Case(TODO, "pad_id_two", "pad_token_id=2（不是 0）", _pad_id_two, 32),
    Case(TODO, "batch_of_one", "B=1，rejected 比 chosen 长", _rejected_longer, 33),
    Case(TODO, "same_length", "所有行一样长（不需要补齐）", _same_length, 34),
]


def value_difference(actual, expected):
    if not isinstance(actual, dict):
        return f"应返回字典，你返回的是 {compare.type_name(actual)}"
    width = expected["input_ids"].shape[1]
    for key in KEYS:
        value = actual.get(key)
        if key not in actual:
            return f"缺少键 {key!r}"
        if not isinstance(value, torch.Tensor):
            return f"{key} 应是 torch 张量，你的是 {compare.type_name(value)}"
        if value.dim() != 2 or value.shape[0] != expected[key].shape[0]:
            return f"{key} 的形状应为 {list(expected[key].shape)}，你的是 {list(value.shape)}"
        if value.shape[1] < width:
            return f"{key} 太短：最长的一行有 {width} 个 token，你的只有 {value.shape[1]} 列"
    if actual["input_ids"].is_floating_point() or actual["input_ids"].dtype == torch.bool:
        return f"input_ids 应是整数张量（torch.long），你的是 {actual['input_ids'].dtype}"
    # Extra columns beyond the longest row are allowed if they are pure padding.
    extra = {key: actual[key][:, width:] for key in KEYS}
    if extra["input_ids"].numel():
        pad = expected["input_ids"][expected["attention_mask"] == 0]
        pad_id = int(pad[0]) if pad.numel() else None
        if (extra["attention_mask"] != 0).any() or (extra["loss_mask"] != 0).any() or (
                pad_id is not None and (extra["input_ids"] != pad_id).any()):
            return "最长一行之后的多余列必须全是补齐（pad_token_id，掩码为 0）"
    for key in KEYS:
        value = actual[key][:, :width]
        if value.dtype == torch.bool:
            value = value.long()
        problem = compare.tensor_difference(value, expected[key], key)
        if problem:
            return problem
    return None
