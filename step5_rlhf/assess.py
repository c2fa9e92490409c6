"""Run a submission's checks and judge them: the one seam every front end goes through.

    from step5_rlhf.assess import check_submission, grade_submission, Grader
    check_submission("train_dpo_exercise.py")                       # a student's self-check
    grade_submission("alice.py", Grader.from_repo(seed=1234))       # instructor grading

* ``check_submission``: the practice inputs, judged against expected outputs shipped with the
  package, so it works in student mode with no reference code anywhere.
* ``grade_submission``: the practice inputs plus, for every case, inputs derived from a grading
  seed the student never saw, judged against the live reference solution. The same seed gives
  the same points in ``step5-rlhf grade``, the nbgrader course and ``course crosscheck``.

The submission itself only ever runs in a sandboxed child process (``step5_rlhf.grading``).
"""

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .checks import expectations as expectations_module
from .checks import registry
from .checks.report import CheckReport
from .checks.verdict import TodoResult, judge_todo
from .grading.runner import run_submission
from .todos import select

GRADING_FILE = "grading.json"  # the grading seed, next to the reference in an instructor's grading folder


@dataclass
class Grader:
    """What instructor grading needs: the live reference (and mistake catalogue) and a grading seed."""

    expectations: expectations_module.LiveExpectations
    seed: int

    @classmethod
    def from_files(cls, solution, mistakes=None, seed=None):
        seed = new_seed() if seed is None else int(seed)
        return cls(expectations_module.LiveExpectations(solution, mistakes), seed)

    @classmethod
    def from_repo(cls, seed=None):
        if not paths.repo_mode():
            raise expectations_module.MissingReference(
                "评分需要参考答案：在课程仓库里运行，或用 --course 指定 step5-rlhf course build 生成的课程目录")
        return cls.from_files(paths.SOLUTION, paths.MISTAKES, seed)

    @classmethod
    def from_folder(cls, folder):
        """An instructor's grading folder (written by `course build`): reference, mistakes, grading.json."""
        folder = Path(folder)
        config = folder / GRADING_FILE
        if not config.is_file():
            raise expectations_module.MissingReference(f"{folder} 里没有 {GRADING_FILE}：先运行 step5-rlhf course build")
        seed = json.loads(config.read_text(encoding="utf-8"))["seed"]
        return cls.from_files(folder / paths.SOLUTION_NAME, folder / paths.MISTAKES_NAME, seed)


def new_seed() -> int:
    return secrets.randbelow(2**31)


def write_grading_folder(folder, seed=None) -> int:
    """Copy the repository's reference and mistake catalogue into `folder` with a grading seed; return the seed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    seed = new_seed() if seed is None else int(seed)
    for source in (paths.SOLUTION, paths.MISTAKES):
        (folder / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / GRADING_FILE).write_text(json.dumps({"seed": seed}) + "\n", encoding="utf-8")
    return seed


def judge_all(todos, results, runs, expectations) -> list:
    verdicts = []
    for todo in todos:
        try:
            verdicts.append(judge_todo(todo, results, runs, expectations))
        except expectations_module.MissingReference:
            raise
        except Exception as exc:  # outputs that decode fine but break a comparison cost only this TODO
            verdicts.append(TodoResult(todo, "error", f"{todo.label} 的输出无法与参考答案比较（{type(exc).__name__}）",
                                       "检查返回值的类型与结构是否符合文档字符串。"))
    return verdicts


def check_submission(path, todos=None, limits=None, server=None) -> list:
    """Self-check: the practice runs of `todos` (all by default) against the shipped expected outputs."""
    chosen = select(todos)
    runs = registry.practice_runs([t.name for t in chosen])
    results = run_submission(path, runs, limits, server=server)
    return judge_all(chosen, results, runs, expectations_module.shipped())


@dataclass
class Assessment:
    """Instructor grading of one file: a verdict per TODO, and what the sandbox enforced."""

    todos: list
    isolation: dict = None

    @property
    def score(self) -> int:
        return sum(r.score for r in self.todos)


def grade_submission(path, grader: Grader, todos=None, limits=None, server=None) -> Assessment:
    """Instructor grading: practice and graded runs against the live reference."""
    chosen = select(todos)
    runs = registry.graded_runs([t.name for t in chosen], grader.seed)
    results = run_submission(path, runs, limits, server=server)
    return Assessment(judge_all(chosen, results, runs, grader.expectations), getattr(results, "isolation", None))


_kept = {}


def kept_server():
    """A fork server kept for the life of this process (a notebook kernel): each check then forks a child
    in a fraction of a second instead of importing torch again. None where there is no fork server."""
    from .grading.runner import ForkServer, use_fork_server

    if "server" not in _kept:
        _kept["server"] = ForkServer().start() if use_fork_server() else None
        if _kept["server"] is not None:
            import atexit

            atexit.register(_kept["server"].close)
    return _kept["server"]


def check_file(path, todos=(), server=None) -> CheckReport:
    """What the exercise's test_* functions call: a report that is true when every checked TODO passes.

    Never raises: a broken checker shows one Chinese line instead of a traceback in the lesson.
    """
    try:
        results = check_submission(path, list(todos) or None, server=server)
    except Exception as exc:
        return CheckFailure(f"⚠️ 检查器本身出错了：{type(exc).__name__}: {exc}。请把这条信息告诉助教。")
    return CheckReport(results, title=f"检查 {Path(path).name}")


class CheckFailure(CheckReport):
    def __init__(self, message):
        super().__init__([], message)

    def __bool__(self):
        return False

    def __str__(self):
        return self.title

    def _repr_html_(self):
        import html

        return f"<p>{html.escape(self.title)}</p>"
