"""Plain-data encoding of check outputs, so a child process can report them safely.

A submission runs in a child process; what it returns crosses to the grader as JSON built
from this encoding, never as pickle. `decode` trusts nothing: it checks types and sizes
and answers ValueError for anything malformed.
"""

import math

import torch

MAX_ELEMENTS = 200_000  # far above any check's output; a bigger answer is an attack or a bug
_DTYPES = {"float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"}


def _number(x):
    # JSON has no inf/nan: keep them as strings so a broken loss is reported, not lost.
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x


def encode(value):
    """Turn a check output (tensors, floats, dicts, lists) into JSON-able data."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        dtype = str(t.dtype).removeprefix("torch.")
        if dtype not in _DTYPES:
            return {"type": "other", "name": f"Tensor[{dtype}]"}
        data = t.to(torch.float64 if t.is_floating_point() else torch.int64).reshape(-1).tolist()
        return {"type": "tensor", "dtype": dtype, "shape": list(t.shape), "data": [_number(x) for x in data]}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return {"type": type(value).__name__, "value": _number(value)}
    if isinstance(value, dict) and type(value) is dict:
        return {"type": "dict", "items": {str(k): encode(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return {"type": "list", "items": [encode(v) for v in value]}
    if value is None:
        return {"type": "none"}
    return {"type": "other", "name": type(value).__name__[:60]}


def _float(x):
    if isinstance(x, str):
        if x not in ("inf", "-inf", "nan"):
            raise ValueError("非法数值")
        return float(x)
    if type(x) not in (int, float):
        raise ValueError("非法数值")
    return float(x)


def decode(data, budget=None):
    """Rebuild what `encode` made; anything else raises ValueError."""
    budget = budget if budget is not None else [MAX_ELEMENTS]
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ValueError("输出格式不对")
    kind = data["type"]
    if kind == "tensor":
        dtype, shape, values = data.get("dtype"), data.get("shape"), data.get("data")
        if dtype not in _DTYPES or not isinstance(shape, list) or not isinstance(values, list):
            raise ValueError("张量格式不对")
        if len(shape) > 8 or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape):
            raise ValueError("张量形状不对")
        if math.prod(shape) != len(values):
            raise ValueError("张量元素个数与形状不符")
        budget[0] -= len(values)
        if budget[0] < 0:
            raise ValueError("输出太大")
        torch_dtype = getattr(torch, dtype)
        if torch_dtype.is_floating_point:
            tensor = torch.tensor([_float(v) for v in values], dtype=torch.float64)
        else:
            if not all(type(v) in (int, bool) for v in values):
                raise ValueError("整数张量里有非整数")
            tensor = torch.tensor(values, dtype=torch.int64)
        return tensor.reshape(shape).to(torch_dtype)
    if kind in ("bool", "int", "float"):
        value = data.get("value")
        if kind == "bool" and type(value) is bool:
            return value
        if kind == "int" and type(value) is int:
            return value
        if kind == "float":
            return _float(value)
        raise ValueError("标量格式不对")
    if kind == "dict":
        items = data.get("items")
        if not isinstance(items, dict) or len(items) > 64:
            raise ValueError("字典格式不对")
        return {str(k)[:100]: decode(v, budget) for k, v in items.items()}
    if kind == "list":
        items = data.get("items")
        if not isinstance(items, list) or len(items) > 1000:
            raise ValueError("列表格式不对")
        return [decode(v, budget) for v in items]
    if kind == "none":
        return None
    if kind == "other":
        return Other(str(data.get("name", "?"))[:60])
    raise ValueError("未知的输出类型")


class Other:
    """A value of a type the checks do not accept (reported by its type name)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"
