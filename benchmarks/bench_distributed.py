"""基准：`--backend trl` 用 1 个和 2 个进程（torchrun，CPU/gloo）训练同样的步数，比较速度。

    python benchmarks/bench_distributed.py [--steps 80] [--nproc 1 2]

Not a test. Both runs use the same warm SFT cache, the same global batch (16 pairs: 16 in one
process, or 8 per process in two) and one thread per process. Pairs per second are steady state,
from the end of step 20 to the last step (`train.steady_pairs_per_second`), so start-up, the SFT
warm start, TRL's tokenising and the reference pass are not in them; the wall time of the whole
command is printed beside them. On a 2-core machine two processes are not expected to be faster:
each does half the batch but they exchange gradients after every step.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(nproc, steps, out, env):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
               "-m", "step5_rlhf.cli", "train", "--backend", "trl", "--steps", str(steps), "--device", "cpu",
               "--quiet", "--eval-samples", "0", "--out", str(out)]
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    return wall, json.loads((Path(out) / "metrics.json").read_text(encoding="utf-8"))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    print(f"CPU 核数 {os.cpu_count()}，负载 {os.getloadavg()[0]:.1f}，每个进程 1 个线程，{args.steps} 步，全局 batch 16 对")
    with tempfile.TemporaryDirectory() as tmp:
        run(1, 2, Path(tmp) / "warm", env)  # fills the SFT and dataset caches, so neither side pays for them
        speeds = {}
        for nproc in args.nproc:
            wall, m = run(nproc, args.steps, Path(tmp) / f"n{nproc}", env)
            speeds[nproc] = m["train.steady_pairs_per_second"]
            print(f"{nproc} 个进程：稳态 {speeds[nproc]:.0f} 对/秒（第 20 步起），"
                  f"训练阶段平均 {m['train.pairs_per_second']:.0f} 对/秒（含 TRL 建 trainer、分词、参考打分），"
                  f"整条命令 {wall:.1f} 秒；world_size={m['train.world_size']}，每进程 batch {m['train.per_device_batch_size']}，"
                  f"最后一步损失 {m['train.final_loss']:.6f}")
        if 1 in speeds:
            print("相对 1 个进程：" + "，".join(f"{n} 个进程 {v / speeds[1]:.2f}×" for n, v in speeds.items() if n != 1))


if __name__ == "__main__":
    main()
