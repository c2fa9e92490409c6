"""How long `step5-rlhf grade` takes for a class: 100 files, a mix of correct, wrong, unfinished, hostile.

    python benchmarks/bench_grade.py [--count 100] [--jobs 2] [--hostile 4]

Target: 100 submissions in under 2 minutes on 2 cores. Each file runs the practice cases and, with a
grading seed, the same cases again on new inputs (twice the cases of a self-check). Hostile files that hang use up their time
limit by design (here 10 s per case, the default), so they dominate; the report shows both.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from submissions import make_submission  # noqa: E402

from step5_rlhf import paths  # noqa: E402
from step5_rlhf.assess import Grader  # noqa: E402
from step5_rlhf.batch_grading import grade_paths  # noqa: E402
from step5_rlhf.grading.runner import Limits  # noqa: E402

WRONG = '''
def dpo_loss(policy_chosen_log_probs, policy_rejected_log_probs, ref_chosen_log_probs,
             ref_rejected_log_probs, beta=0.1):
    z = (policy_chosen_log_probs - policy_rejected_log_probs) - (ref_chosen_log_probs - ref_rejected_log_probs)
    return -torch.log(torch.sigmoid(beta * z)).mean()
'''
HOSTILE = [
    "def collate_preference_batch(examples, pad_token_id):\n    while True:\n        pass\n",  # one time-out
    "import os\nos._exit(1)\n",
    "def collate_preference_batch(examples, pad_token_id):\n    return [bytes(1 << 26) for _ in range(10_000)]\n",
    "def sequence_log_probs(logits, input_ids, loss_mask):\n    import os\n    if os.fork() == 0:\n"
    "        os.setsid()\n        while True:\n            pass\n    return logits.sum(-1).sum(-1)\n",
]


def build(folder: Path, count: int, hostile: int) -> list:
    files = []
    exercise = Path(paths.EXERCISE).read_text(encoding="utf-8")
    for i in range(count):
        kind = i % 4
        if i < hostile:
            files.append(make_submission(folder, f"s{i:03d}_hostile", HOSTILE[i % len(HOSTILE)]))
        elif kind == 0:
            files.append(make_submission(folder, f"s{i:03d}_correct"))
        elif kind == 1:
            files.append(make_submission(folder, f"s{i:03d}_wrong", WRONG))
        elif kind == 2:
            path = folder / f"s{i:03d}_unfinished.py"
            path.write_text(exercise, encoding="utf-8")
            files.append(path)
        else:
            files.append(make_submission(folder, f"s{i:03d}_syntax", "def oops(:\n"))
    return files


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--hostile", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp), args.count, args.hostile)
        start = time.perf_counter()
        records = grade_paths([str(f) for f in files], Grader.from_repo(seed=1), jobs=args.jobs, limits=Limits())
        wall = time.perf_counter() - start
    scores = [r["score"] for r in records]
    print(f"{len(records)} 份作业（其中 {args.hostile} 份恶意），--jobs {args.jobs}：总耗时 {wall:.1f} 秒，"
          f"平均每份 {wall / len(records):.2f} 秒（已含启动评分进程与参考答案计算）")
    print(f"满分 {sum(s == 12 for s in scores)} 份，0 分 {sum(s == 0 for s in scores)} 份")
    return 0 if wall < 120 else 1


if __name__ == "__main__":
    sys.exit(main())
