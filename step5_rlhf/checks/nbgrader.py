"""Hidden nbgrader tests: `assert_todo_passes(name)` in each TODO's autograded test cell.

    ### BEGIN HIDDEN TESTS
    from step5_rlhf.checks.nbgrader import assert_todo_passes
    assert_todo_passes("dpo_loss")
    ### END HIDDEN TESTS

During autograding (nbgrader sets NBGRADER_EXECUTION=autograde, the course's nbgrader_config.py
sets STEP5_RLHF_AUTOGRADE=1, and the kernels nbgrader starts inherit both) it raises AssertionError unless the student's train_dpo_exercise.py
in the kernel's working directory passes that TODO. Elsewhere it does nothing, so running the
instructor notebooks never fails on it.

Nothing is compared in the kernel: the student's kernel may hold objects with an always-true
`__eq__` or a monkeypatched torch. A fresh interpreter (`python -I`, clean environment, its own
working directory) runs the whole check, comparison included, and prints one JSON verdict.
"""

import json
import os
import subprocess
import sys
import tempfile

ENV_FLAG = "STEP5_RLHF_AUTOGRADE"
SUBMISSION = "train_dpo_exercise.py"
# The checker bounds each case itself (Limits: import 60 s, 10 s per case); this only guards
# against the checker hanging. Keep it below the course's Execute.timeout.
CHECK_TIMEOUT = 150


def autograding() -> bool:
    # nbgrader 0.9.6 sets NBGRADER_EXECUTION=autograde around autograde's execution; the course
    # config also sets ENV_FLAG, so `nbgrader validate` run in the course directory is strict too.
    return os.environ.get("NBGRADER_EXECUTION") == "autograde" or os.environ.get(ENV_FLAG) == "1"


def _fresh_verdict(path: str, todo_name: str) -> dict:
    """The verdict of one TODO, computed in a new interpreter that shares nothing with the kernel."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
    }
    with tempfile.TemporaryDirectory(prefix="step5-nbgrader-") as workdir:
        env["HOME"] = env["TMPDIR"] = workdir
        proc = subprocess.run(
            [sys.executable, "-I", "-m", "step5_rlhf.checks.nbgrader", path, todo_name],
            cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True,
            timeout=CHECK_TIMEOUT, start_new_session=True,
        )
    lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        verdict = json.loads(lines[-1])
        if not isinstance(verdict, dict) or verdict.get("todo") != todo_name:
            raise ValueError
        return verdict
    except (IndexError, ValueError):
        tail = proc.stderr.decode("utf-8", "replace")[-500:]
        raise AssertionError(f"评分检查器没有给出结果（退出码 {proc.returncode}），请联系助教。\n{tail}")


def assert_todo_passes(name, submission: str = SUBMISSION) -> None:
    """Raise AssertionError (Chinese) while autograding unless `submission` passes TODO `name`."""
    from ..todos import resolve

    todo = resolve(name)
    if not autograding():
        return
    path = os.path.abspath(submission)
    if not os.path.isfile(path):
        raise AssertionError(f"{todo.label}（{todo.name}）：找不到 {submission}，无法评分。请把练习文件与 notebook 一起提交。")
    try:
        verdict = _fresh_verdict(path, todo.name)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{todo.label}（{todo.name}）：检查超过 {CHECK_TIMEOUT} 秒，计 0 分。") from None
    if verdict.get("status") != "passed":
        hint = f"\n提示：{verdict['hint']}" if verdict.get("hint") else ""
        raise AssertionError(f"{todo.label}（{todo.name}）未通过，计 0 分：{verdict.get('message', '')}{hint}")


def _main(argv) -> int:
    """`python -I -m step5_rlhf.checks.nbgrader PATH TODO`: one JSON verdict on the last stdout line."""
    from . import check_submission

    path, todo_name = argv
    (result,) = check_submission(path, [todo_name])
    record = {"todo": result.todo.name, "status": result.status, "score": result.score,
              "message": result.message, "hint": result.hint}
    print(json.dumps(record, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
