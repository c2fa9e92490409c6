"""Shared comparisons: a submission's output vs the expected one; None when they agree, else one
short Chinese sentence saying what differs. They run in the grader's own process on decoded data.

Floating-point results are compared with a tolerance set by the coarser of the two dtypes: an
answer that computes in float32 for float64 inputs (as TRL does) or returns float64 for float32
inputs is right, within float32 precision. Half precision (float16/bfloat16) is refused with a
hint: it is too coarse for log-probabilities, and the docstrings say so.
"""

import math

import torch

from .wire import Other

ACCEPTED_FLOATS = (torch.float32, torch.float64)
DTYPE_RULE = "浮点结果用 float32 或 float64（与输入相同，或像 TRL 那样先转成 float32 计算都可以），不要用 float16/bfloat16。"


def tolerance(dtype):
    """(atol, rtol) for results computed in `dtype`."""
    if dtype == torch.float64:
        return 1e-9, 1e-7
    return 2e-5, 2e-4  # loose enough for a loop or softplus, tight enough for any catalogued mistake


def coarser(a, b):
    return torch.float32 if torch.float32 in (a, b) else a


def fmt(t: torch.Tensor) -> str:
    values = t.reshape(-1)[:4].tolist()
    text = ", ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values)
    return text + (", …" if t.numel() > 4 else "")


def first_mismatch(actual: torch.Tensor, expected: torch.Tensor, close: torch.Tensor) -> str:
    """'第 (1, 3) 个元素：你的 x，应为 y' for the first element that differs."""
    index = tuple(int(i) for i in (~close).nonzero()[0])
    where = f"第 {index if len(index) > 1 else index[0]} 个元素" if index else ""

    def show(v):
        v = v.item()
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    return f"{where}：你的 {show(actual[index])}，应为 {show(expected[index])}"


def type_name(value):
    return value.name if isinstance(value, Other) else type(value).__name__


def float_dtype_problem(actual: torch.Tensor, what: str):
    if actual.dtype not in ACCEPTED_FLOATS:
        return f"{what}的 dtype 是 {actual.dtype}，精度不够：{DTYPE_RULE}"
    return None


def tensor_difference(actual, expected: torch.Tensor, what: str, precision=None):
    """`precision`: the dtype whose tolerance applies (default: the coarser of the two dtypes)."""
    if not isinstance(actual, torch.Tensor):
        return f"{what}应是 torch 张量，你返回的是 {type_name(actual)}"
    if actual.shape != expected.shape:
        return f"{what}的形状应为 {list(expected.shape)}，你的是 {list(actual.shape)}"
    if expected.is_floating_point():
        if not actual.is_floating_point():
            return f"{what}应是浮点张量，你的是 {actual.dtype}"
        problem = float_dtype_problem(actual, what)
        if problem:
            return problem
        if not torch.isfinite(actual).all() and torch.isfinite(expected).all():
            return f"{what}里出现了 inf/NaN（你的：{fmt(actual)}）"
        atol, rtol = tolerance(precision or coarser(actual.dtype, expected.dtype))
        close = torch.isclose(actual.double(), expected.double(), atol=atol, rtol=rtol, equal_nan=True)
        if not close.all():
            if actual.dim() == 0:
                return f"{what}不对：你的 {actual.item():.6g}，应为 {expected.item():.6g}"
            return f"{what}不对，{first_mismatch(actual, expected, close)}（你的 [{fmt(actual)}]，应为 [{fmt(expected)}]）"
        return None
    if actual.is_floating_point() and not torch.equal(actual, actual.round()):
        return f"{what}应是整数张量"
    if not torch.equal(actual.long(), expected.long()):
        return f"{what}不对，{first_mismatch(actual.long(), expected.long(), actual.long() == expected.long())}"
    return None


def scalar_difference(actual, expected: float, what: str):
    if type(actual) is not float:
        return f"{what}应是 Python float（用 .item()），你返回的是 {type_name(actual)}"
    if math.isnan(actual) != math.isnan(expected) or not math.isclose(actual, expected, rel_tol=2e-4, abs_tol=2e-5):
        return f"{what}不对：你的 {actual:.6g}，应为 {expected:.6g}"
    return None


def value_precision(actual, expected):
    """The dtype whose tolerance applies to a call's gradients: the coarser of the returned value's and the expected."""
    if isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor) and expected.is_floating_point() \
            and actual.dtype in ACCEPTED_FLOATS:
        return coarser(actual.dtype, expected.dtype)
    return None


def call_difference(value_difference, actual: dict, expected: dict):
    """Difference between two `run_call` outputs: value, then inputs untouched, then gradients."""
    problem = value_difference(actual.get("value"), expected["value"])
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
        precision = value_precision(actual.get("value"), expected["value"])
        for name, expected_grad in expected["grads"].items():
            grad = grads.get(name)
            if grad is None:
                return f"梯度传不到输入 {name}：结果要由输入经可导的运算得到"
            problem = tensor_difference(grad, expected_grad, f"对 {name} 的梯度", precision)
            if problem:
                return problem
    return None
