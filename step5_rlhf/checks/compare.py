"""Compare a submission's outputs on one case with the reference's; describe the first difference.

Every function here returns None when the outputs agree, or a short Chinese sentence saying
what differs. They run in the grader's own process on decoded plain data.
"""

import math

import torch

from .wire import Other

METRIC_KEYS = ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies")
BATCH_KEYS = ("input_ids", "attention_mask", "loss_mask")


def _tolerance(dtype):
    if dtype == torch.float64:
        return 1e-9, 1e-7
    return 2e-5, 2e-4  # atol, rtol: loose enough for a loop or softplus, tight enough for any mistake


def _fmt(t: torch.Tensor) -> str:
    values = t.reshape(-1)[:4].tolist()
    text = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values)
    return text + (", …" if t.numel() > 4 else "")


def _first_mismatch(actual: torch.Tensor, expected: torch.Tensor, close: torch.Tensor) -> str:
    """'第 (1, 3) 处：你的 x，应为 y' for the first element that differs."""
    index = tuple(int(i) for i in (~close).nonzero()[0])
    where = f"第 {index if len(index) > 1 else index[0]} 个元素" if index else ""

    def show(v):
        v = v.item()
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    return f"{where}：你的 {show(actual[index])}，应为 {show(expected[index])}"


def _type_name(value):
    return value.name if isinstance(value, Other) else type(value).__name__


def tensor_difference(actual, expected: torch.Tensor, what: str):
    if not isinstance(actual, torch.Tensor):
        return f"{what}应是 torch 张量，你返回的是 {_type_name(actual)}"
    if actual.shape != expected.shape:
        return f"{what}的形状应为 {list(expected.shape)}，你的是 {list(actual.shape)}"
    if expected.is_floating_point():
        if not actual.is_floating_point():
            return f"{what}应是浮点张量，你的是 {actual.dtype}"
        if actual.dtype != expected.dtype:
            return f"{what}的 dtype 应为 {expected.dtype}（与输入一致），你的是 {actual.dtype}"
        if not torch.isfinite(actual).all() and torch.isfinite(expected).all():
            return f"{what}里出现了 inf/NaN（你的：{_fmt(actual)}）"
        atol, rtol = _tolerance(expected.dtype)
        close = torch.isclose(actual.double(), expected.double(), atol=atol, rtol=rtol, equal_nan=True)
        if not close.all():
            if actual.dim() == 0:
                return f"{what}不对：你的 {actual.item():.6g}，应为 {expected.item():.6g}"
            return f"{what}不对，{_first_mismatch(actual, expected, close)}（你的 [{_fmt(actual)}]，应为 [{_fmt(expected)}]）"
        return None
    if actual.is_floating_point() and not torch.equal(actual, actual.round()):
        return f"{what}应是整数张量"
    if not torch.equal(actual.long(), expected.long()):
        return f"{what}不对，{_first_mismatch(actual.long(), expected.long(), actual.long() == expected.long())}"
    return None


def _scalar_difference(actual, expected: float, what: str):
    if type(actual) is not float:
        return f"{what}应是 Python float（用 .item()），你返回的是 {_type_name(actual)}"
    if math.isnan(actual) != math.isnan(expected) or not math.isclose(actual, expected, rel_tol=2e-4, abs_tol=2e-5):
        return f"{what}不对：你的 {actual:.6g}，应为 {expected:.6g}"
    return None


def value_difference(todo: str, actual, expected):
    """First difference between the returned values of one call."""
    if todo in ("dpo_loss", "sequence_log_probs"):
        what = "损失" if todo == "dpo_loss" else "序列 log 概率"
        return tensor_difference(actual, expected, what)
    if todo == "collate_preference_batch":
        return batch_difference(actual, expected)
    if todo == "dpo_metrics":
        return metrics_difference(actual, expected)
    raise KeyError(todo)


def metrics_difference(actual, expected, keys=METRIC_KEYS):
    if not isinstance(actual, dict):
        return f"应返回字典，你返回的是 {_type_name(actual)}"
    for key in keys:
        if key not in actual:
            return f"缺少键 {key!r}（名字要与 TRL 的 DPOTrainer 一致）"
        problem = _scalar_difference(actual[key], expected[key], key)
        if problem:
            return problem
    return None


def batch_difference(actual, expected):
    if not isinstance(actual, dict):
        return f"应返回字典，你返回的是 {_type_name(actual)}"
    width = expected["input_ids"].shape[1]
    for key in BATCH_KEYS:
        value = actual.get(key)
        if key not in actual:
            return f"缺少键 {key!r}"
        if not isinstance(value, torch.Tensor):
            return f"{key} 应是 torch 张量，你的是 {_type_name(value)}"
        if value.dim() != 2 or value.shape[0] != expected[key].shape[0]:
            return f"{key} 的形状应为 {list(expected[key].shape)}，你的是 {list(value.shape)}"
        if value.shape[1] < width:
            return f"{key} 太短：最长的一行有 {width} 个 token，你的只有 {value.shape[1]} 列"
    if actual["input_ids"].is_floating_point() or actual["input_ids"].dtype == torch.bool:
        return f"input_ids 应是整数张量（torch.long），你的是 {actual['input_ids'].dtype}"
    # Extra columns beyond the longest row are allowed if they are pure padding.
    extra = {key: actual[key][:, width:] for key in BATCH_KEYS}
    if extra["input_ids"].numel():
        pad = expected["input_ids"][expected["attention_mask"] == 0]
        pad_id = int(pad[0]) if pad.numel() else None
        if (extra["attention_mask"] != 0).any() or (extra["loss_mask"] != 0).any() or (
                pad_id is not None and (extra["input_ids"] != pad_id).any()):
            return "最长一行之后的多余列必须全是补齐（pad_token_id，掩码为 0）"
    for key in BATCH_KEYS:
        value = actual[key][:, :width]
        if value.dtype == torch.bool:
            value = value.long()
        problem = tensor_difference(value, expected[key], key)
        if problem:
            return problem
    return None


def call_difference(todo: str, actual: dict, expected: dict):
    """Difference between two `run_call` outputs: value, then inputs untouched, then gradients."""
    problem = value_difference(todo, actual.get("value"), expected["value"])
    if problem:
        return problem
    modified = actual.get("modified") or []
    if modified:
        names = "、".join(str(m) for m in modified[:4])
        return f"原地修改了输入 {names}：不要用 +=、.sub_() 这类原地操作改输入"
    if expected.get("grads") is not None:
        grads = actual.get("grads")
        if not isinstance(grads, dict):
            return "返回值没有连着计算图，梯度传不回输入（是否用了 .item()、.detach()、torch.no_grad() 或新建了张量？）"
        for name, expected_grad in expected["grads"].items():
            grad = grads.get(name)
            if grad is None:
                return f"梯度传不到输入 {name}：结果要由输入经可导的运算得到"
            problem = tensor_difference(grad, expected_grad, f"对 {name} 的梯度")
            if problem:
                return problem
    return None


def train_step_difference(actual: dict, expected: dict, initial_params: torch.Tensor):
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
            return f"{label}应返回字典，你返回的是 {_type_name(result)}"
        if "loss" not in result:
            return f"{label}返回的字典缺少键 'loss'"
        problem = _scalar_difference(result["loss"], ref["result"]["loss"], f"{label}的 loss")
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
            return f"{label}之后参数不对：检查 backward 与 optimizer.step() 的顺序"
        problem = metrics_difference(result, ref["result"])
        if problem:
            return f"{label}返回的指标：{problem}"
    return None

