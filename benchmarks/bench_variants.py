"""基准：第 6 课的四个实验在完整设置下各用多久，以及它们的数（讲义里学生看到的就是这些表）。

    python benchmarks/bench_variants.py                 # 参考答案，2 个线程
    python benchmarks/bench_variants.py --threads 1

Not a test. One process, one `lesson_variants.Lab` (its set-up, timed apart: reading the cached SFT
warm start and scoring the reference), then the four experiments in the lesson's order. A setting that
two experiments share is trained once (the lab caches it), exactly as in the notebook; so an
experiment's time depends on the ones before it, as it does for a student running the lesson top to bottom.
"""

import argparse
import json
import time

import torch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from step5_rlhf import lesson_variants, paths
    from step5_rlhf.modules import load_file

    impl = load_file(paths.SOLUTION, "_bench_reference")
    started = time.perf_counter()
    lab = lesson_variants.Lab(impl)
    seconds = {"set-up": time.perf_counter() - started}
    results = {}
    for experiment in ("noisy_labels", "length", "overfitting", "beta_table"):
        started = time.perf_counter()
        results[experiment] = getattr(lab, experiment)()
        seconds[experiment] = time.perf_counter() - started
    print(json.dumps(results, ensure_ascii=False, indent=1, default=float))
    print(f"\n{args.threads} 个线程；各部分用时（秒）：" + "，".join(f"{k} {v:.1f}" for k, v in seconds.items()))


if __name__ == "__main__":
    main()
