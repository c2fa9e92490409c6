"""TODO 5 `dpo_train_step`: its cases, how its run is compared, and its hint."""

import torch

from . import compare
from .case import Case, randint
from .tiny_model import TinyCausalLM
from .todo4_metrics import metrics_difference

TODO = "dpo_train_step"
HINT = ("一步的顺序：整个 2B batch 前向一次 → TODO 2 → 前 B 行是 chosen → TODO 1 → zero_grad → backward → step → TODO 4；"
        "不要在这里裁剪梯度（训练循环会做）。")
VOCAB = 13


def _train_batch(g, pairs):
    """A right-padded 2B batch (chosen rows first) made from random lengths, not by any collate function."""
    prompt = torch.randint(1, 4, (pairs,), generator=g).repeat(2)
    response = torch.randint(2, 5, (2 * pairs,), generator=g)
    length = prompt + response
    positions = torch.arange(int(length.max())).unsqueeze(0)
    attention_mask = (positions < length.unsqueeze(1)).long()
    loss_mask = ((positions >= prompt.unsqueeze(1)) & (positions < length.unsqueeze(1))).long()
    tokens = torch.randint(1, VOCAB, attention_mask.shape, generator=g)
    in_prompt = positions < prompt.unsqueeze(1)
    tokens[pairs:] = torch.where(in_prompt[pairs:], tokens[:pairs], tokens[pairs:])  # a pair shares its prompt
    return {"input_ids": tokens * attention_mask, "attention_mask": attention_mask, "loss_mask": loss_mask}


def train_step_inputs(g, pairs, beta, lr):
    model = TinyCausalLM(vocab=VOCAB, dim=8, seed=randint(g, 0, 2**31 - 1))
    batch = _train_batch(g, pairs)
    ref_chosen = -(torch.rand(pairs, generator=g) * 5 + 8)
    ref_rejected = -(torch.rand(pairs, generator=g) * 5 + 8)
    return {"policy": model, "batch": batch, "ref_chosen_log_probs": ref_chosen,
            "ref_rejected_log_probs": ref_rejected, "beta": beta, "lr": lr}


CASES = [
    Case(TODO, "two_steps", "两步 SGD，B=3，β=0.5（检查前向次数、梯度清零、参数更新）",
         lambda g: train_step_inputs(g, 3, 0.5, 0.5), 41, runner="train_step", options={"steps": 2}),
    Case(TODO, "two_steps_spied", "同上，但把 TODO 1/2/4 换成检查器自己的替身函数（只看 TODO 5 本身的连接是否正确）",
         lambda g: train_step_inputs(g, 2, 0.2, 0.5), 43, runner="train_step", options={"steps": 2, "spies": True}),
    Case(TODO, "batch_of_one", "一步 SGD，B=1，β=0.1",
         lambda g: train_step_inputs(g, 1, 0.1, 1.0), 42, runner="train_step", options={"steps": 1}),
]


def run_difference(actual: dict, expected: dict, initial_params: torch.Tensor):
    """Difference between two `run_train_step` outputs, with the likely cause."""
    steps, params = actual.get("steps"), actual.get("params")
    if not isinstance(steps, list) or not isinstance(params, list) or len(steps) != len(expected["steps"]):
        return "输出格式不对"
    for index, (mine, ref) in enumerate(zip(steps, expected["steps"])):
        label = f"第 {index + 1} 步"
        calls = mine.get("forward_calls") if isinstance(mine, dict) else None
        if calls != 1:
            return f"{label}前向了 {calls} 次：每步只应对整个 2B batch 前向一次"
        result = mine.get("result")
        if not isinstance(result, dict):
            return f"{label}应返回字典，你返回的是 {compare.type_name(result)}"
        if "loss" not in result:
            return f"{label}返回的字典缺少键 'loss'"
        problem = compare.scalar_difference(result["loss"], ref["result"]["loss"], f"{label}的 loss")
        if problem:
            return problem
        after, ref_after = params[index], expected["params"][index]
        if not isinstance(after, torch.Tensor) or after.shape != ref_after.shape:
            return "参数格式不对"
        if not torch.allclose(after.double(), ref_after.double(), atol=2e-5, rtol=2e-4):
            before = initial_params if index == 0 else params[index - 1]
            if torch.equal(after, before):
                return f"{label}之后参数没有变化：是否忘了 loss.backward() 或 optimizer.step()？"
            if index > 0:
                return f"{label}之后参数不对，但第 1 步是对的：是否忘了 optimizer.zero_grad()？梯度在累加"
            return f"{label}之后参数不对：检查 backward 与 optimizer.step() 的顺序，也不要自己裁剪梯度"
        problem = metrics_difference(result, ref["result"])
        if problem:
            return f"{label}返回的指标：{problem}"
    return None
