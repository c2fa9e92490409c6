"""多进程训练（torchrun / accelerate launch）时，每个进程该做什么。

只有 `--backend trl` 支持多进程：TRL 的 DPOTrainer（背后是 accelerate）负责把每个 batch 分给各进程、
同步梯度。这里管的是它前后的事：
- 只做一次的事（SFT 热启动和它的缓存、评估、写文件、打印总结）由主进程做，其他进程在屏障处等；
- 训练数据由主进程写进缓存目录里的一个数据集文件夹，所有进程读同一份（TRL 的分词结果、
  预先算好的参考 log 概率都缓存在它旁边，各进程才能找到彼此写的缓存）；
- 全局 batch 仍是课程的 batch_size：每个进程拿 batch_size / 进程数 对。

多机时，缓存目录（STEP5_RLHF_CACHE）要放在所有机器都能读写的共享存储上。
"""

import contextlib
import os
from dataclasses import dataclass


class DistributedError(RuntimeError):
    """这种多进程启动方式不受支持（原因用中文写在消息里）。"""


@dataclass(frozen=True)
class Launch:
    """这个进程在一次多进程启动里的位置（torchrun 和 accelerate launch 都设置这些环境变量）。"""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @classmethod
    def from_env(cls, env=None) -> "Launch":
        env = os.environ if env is None else env
        return cls(int(env.get("WORLD_SIZE", 1)), int(env.get("RANK", 0)), int(env.get("LOCAL_RANK", 0)))

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def check_backend(launch: Launch, backend: str) -> None:
    """原生循环只在一个进程里跑：被 torchrun 启动成多个进程时直接说清楚，而不是跑 N 份一样的训练。"""
    if launch.distributed and backend != "trl":
        raise DistributedError(
            f"原生训练循环（--backend native）只支持单进程，现在有 {launch.world_size} 个进程。"
            "多进程 / 多卡请加 --backend trl（用 TRL 的 DPOTrainer），或者去掉 torchrun 直接运行。")


def per_device_batch_size(batch_size: int, world_size: int) -> tuple:
    """(每个进程的 batch, 说明)。除得尽时全局 batch 不变；除不尽时往下取整，并说明全局 batch 变成多少。"""
    per_device = max(1, batch_size // world_size)
    note = None
    if per_device * world_size != batch_size:
        note = (f"batch_size {batch_size} 不能被进程数 {world_size} 整除：每个进程 {per_device} 对，"
                f"全局 batch 变为 {per_device * world_size} 对，数据顺序与单进程不再一致。")
    return per_device, note


class Group:
    """进程组：单进程时什么也不做；多进程时用 accelerate 的 PartialState（CPU 上是 gloo，GPU 上是 NCCL）。"""

    def __init__(self, launch: Launch, device):
        self.launch = launch
        self.state = None
        self.device = device
        if launch.distributed:
            from accelerate import PartialState

            self.state = PartialState(cpu=device.type == "cpu")
            self.device = self.state.device

    @contextlib.contextmanager
    def main_first(self):
        """主进程先做（例如训练并写入 SFT 缓存），其他进程等它做完再做（读缓存）。"""
        if self.state is None:
            yield
        else:
            with self.state.main_process_first():
                yield

    def wait(self):
        if self.state is not None:
            self.state.wait_for_everyone()

    @staticmethod
    def close():
        """Leave the process group (at the end of a multi-process run; harmless when there is none)."""
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
