"""How long nbgrader autograde takes per student with this course's configuration.

    python benchmarks/bench_autograde.py [--students 20] [--run-notebooks]

Builds the course, releases it, submits a class (a quarter each: the reference, the untouched
release, a sign error in TODO 1, a wrong collate in TODO 3; all with the same notebooks) and times
`nbgrader autograde` over the whole class in one process, as an instructor runs it. Reported: the
whole run, the fixed part (nbgrader's start, loading the reference, the fork server; measured with
one student) and the marginal seconds per student. Target: ≤ 8 s per student on 2 cores.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from step5_rlhf import paths
from step5_rlhf.commands.course import nbgrader_env
from step5_rlhf.course import ASSIGNMENT, EXERCISE_FILE
from step5_rlhf.course.builder import build

VARIANTS = {
    "reference": None,
    "blank": "stub",
    "sign_error": ("losses = -F.logsigmoid(beta * logits)", "losses = -F.logsigmoid(-beta * logits)"),
    "wrong_collate": ('loss_mask[row, len(prompt):length] = 1', 'loss_mask[row, :length] = 1'),
}


def nbgrader(course, *args):
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          env=nbgrader_env())
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return time.perf_counter() - started


def submit(course, count):
    source, release = course / "source" / ASSIGNMENT, course / "release" / ASSIGNMENT
    solution = paths.SOLUTION.read_text(encoding="utf-8")
    shutil.rmtree(course / "submitted", ignore_errors=True)
    shutil.rmtree(course / "autograded", ignore_errors=True)
    for index in range(count):
        name, change = list(VARIANTS.items())[index % len(VARIANTS)]
        dest = course / "submitted" / f"s{index:03d}_{name}" / ASSIGNMENT
        shutil.copytree(release if change == "stub" else source, dest)
        text = (release / EXERCISE_FILE).read_text(encoding="utf-8") if change == "stub" else (
            solution.replace(*change) if change else solution)
        (dest / EXERCISE_FILE).write_text(text, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--run-notebooks", action="store_true", help="also execute the notebooks (for outputs only)")
    args = parser.parse_args()
    extra = ["--ExecuteWhenAsked.run_notebooks=True"] if args.run_notebooks else []
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        build(course, seed=1, wheel=False)
        nbgrader(course, "generate_assignment", ASSIGNMENT)
        submit(course, 1)
        one = nbgrader(course, "autograde", ASSIGNMENT, *extra)
        submit(course, args.students)
        whole = nbgrader(course, "autograde", ASSIGNMENT, "--force", *extra)
    marginal = (whole - one) / (args.students - 1)
    mode = "运行讲义" if args.run_notebooks else "不运行讲义（默认）"
    print(f"nbgrader autograde，{mode}：{args.students} 名学生 {whole:.1f} 秒（平均每名 {whole / args.students:.2f} 秒）；"
          f"只有 1 名学生时 {one:.1f} 秒（固定开销：nbgrader 启动、参考答案、评分进程）；"
          f"每多一名学生 {marginal:.2f} 秒")
    return 0 if whole / args.students <= 8 else 1


if __name__ == "__main__":
    sys.exit(main())
