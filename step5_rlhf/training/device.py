"""设备选择，以及 GPU 上的 bf16 自动混合精度（学生的函数始终拿到 float32 的 logits）。"""

import contextlib

import torch


class DeviceError(RuntimeError):
    """请求的设备在这台机器上不可用。"""


def resolve_device(name="auto") -> torch.device:
    """"auto" 依次尝试 cuda、mps、cpu；指定的设备不可用时给出中文错误。"""
    if name in (None, "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("这台机器上没有可用的 CUDA GPU：去掉 --device cuda，或用 --device cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise DeviceError("这台机器上没有可用的 Apple MPS：去掉 --device mps，或用 --device cpu")
    if name not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"不认识的设备 {name!r}：可选 auto、cpu、cuda、mps")
    return torch.device(name)


def autocast(device: torch.device):
    """CUDA 上用 bf16 autocast（更快、更省显存）；其他设备保持 float32。"""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class Float32Logits(torch.nn.Module):
    """包住一个因果语言模型：在 autocast 下前向，但返回的 .logits 总是 float32。

    这样 TODO 2 的 log_softmax 在 GPU 上也是 float32 精度，学生代码不用关心 dtype。
    """

    def __init__(self, model, device: torch.device):
        super().__init__()
        self.model = model
        self.device = device

    def forward(self, **kwargs):
        with autocast(self.device):
            outputs = self.model(**kwargs)
        outputs.logits = outputs.logits.float()
        return outputs
