"""nbgrader autograde, the course's way (the preprocessors nbgrader_config.py plugs in).

No point comes from a student's kernel. ``GradeOutsideKernel`` runs in the nbgrader process before
a notebook's kernel would start:

* TODO cells: the submitted train_dpo_exercise.py is graded once per submission, when nbgrader
  reaches the submission's first notebook (so before any of its kernels ran), by the isolated
  grader: sandboxed child, live reference, the course's grading seed.
* numeric answers: the student's answer cell runs alone in a sandboxed child, which reports only
  plain values (a float, not an object that fakes equality); the instructor's test cell, hidden
  part included, then runs here on those values.

``WriteOutsideGrades`` then puts each verdict into its grade cell's outputs, so nbgrader's own
SaveAutoGrades records these points. ``SaveBonusCredit`` records the optional TODOs (0-point cells) as
nbgrader's extra credit: bonus points, kept apart from the core score. Nothing a notebook cell does (monkeypatching, swallowing
exceptions, fake prints, rewriting files from the kernel) can change them.

``ExecuteWhenAsked``: as no grade needs it, notebooks are not executed by default (fast: about a
second per student). ``run_notebooks = True`` runs them for the instructor's view, skipping lesson
cells tagged ``skip-autograde`` (training, plots).

``OverwriteReleasedCells``: nbgrader stores a locked test cell's source *with* its hidden tests, so
every untouched submission (whose copy has them removed) used to raise "checksum has changed". A
cell equal to its released form now gets its hidden tests back silently; only a cell that really
was edited is reported, so the warning means tampering again.
"""

import ast
import atexit
import builtins
import contextlib
import copy
import io
import tempfile
import threading
from pathlib import Path

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, Execute, NbGraderPreprocessor, OverwriteCells
from traitlets import Bool, Unicode

from . import EXERCISE_FILE, RUN_FILE_LIMIT, RUN_FILES, SKIP_TAG, TODO_GRADE_IDS

TODO_VERDICTS = "step5_todo_verdicts"
ANSWER_VERDICTS = "step5_answer_verdicts"
ANSWER_SUFFIX = "_answer"  # the solution cell of test cell X is X_answer
SKIP_OUTPUT = "自动评分时没有运行这个单元：没有任何分数依赖它。"
NOT_RUN_OUTPUT = "自动评分时没有运行这本讲义：分数都在 notebook 之外算出（TODO 检查练习文件，数值题单独运行答案单元）。"

_shared = {"lock": threading.Lock(), "graders": {}, "server": None, "todo_verdicts": {}}


def todo_cells(nb):
    return [c for c in nb.cells if utils.is_grade(c) and c.metadata.nbgrader.get("grade_id") in TODO_GRADE_IDS]


def answer_pairs(nb):
    """(test cell, answer cell or None) for every auto-graded code cell that is not a TODO cell."""
    by_id = {c.metadata.nbgrader.get("grade_id"): c for c in nb.cells if "nbgrader" in c.metadata}
    return [(c, by_id.get(c.metadata.nbgrader["grade_id"] + ANSWER_SUFFIX)) for c in nb.cells
            if utils.is_grade(c) and c.cell_type == "code" and c.metadata.nbgrader.get("grade_id") not in TODO_GRADE_IDS]


def _grading(grading_dir: str):
    """One Grader and one fork server per nbgrader process: the reference runs before any student kernel."""
    from ..assess import Grader
    from ..batch_grading import warm_reference
    from ..grading.runner import ForkServer, use_fork_server

    with _shared["lock"]:
        if _shared["server"] is None and use_fork_server():
            _shared["server"] = ForkServer().start()  # imports torch while the reference runs below
            atexit.register(_shared["server"].close)
        if grading_dir not in _shared["graders"]:
            grader = Grader.from_folder(grading_dir)
            warm_reference(grader)
            _shared["graders"][grading_dir] = grader
        return _shared["graders"][grading_dir], _shared["server"]


def todo_verdicts(folder: Path, grading_dir: str) -> dict:
    """TODO name -> TodoResult for the submission in `folder`, graded the first time it is asked for."""
    from ..assess import grade_submission
    from ..checks.verdict import TodoResult

    key = (grading_dir, str(folder))
    if key not in _shared["todo_verdicts"]:
        grader, server = _grading(grading_dir)
        exercise = folder / EXERCISE_FILE
        if exercise.is_file():
            results = grade_submission(exercise, grader, server=server).todos
        else:
            results = [TodoResult(t, "error", f"找不到 {EXERCISE_FILE}：请把练习文件和讲义放在同一个文件夹里一起提交。")
                       for t in TODO_GRADE_IDS.values()]
        _shared["todo_verdicts"][key] = {r.todo.name: r for r in results}
    return _shared["todo_verdicts"][key]


def _assigned(source: str) -> set:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _loaded(source: str) -> set:
    return {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def run_files(folder: Path) -> dict:
    """The student's run outputs that answers may read ({relative path: bytes}), small ones only."""
    found = {}
    for relative in RUN_FILES:
        path = folder / relative
        if path.is_file() and not path.is_symlink() and path.stat().st_size <= RUN_FILE_LIMIT:
            found[relative] = path.read_bytes()
    return found


def answer_verdict(answer, test, grading_dir: str, files=None):
    """(passed, text) for one numeric answer: the answer cell alone in the sandbox (with the student's
    run `files`), then the test cell here, in a private folder holding the same files."""
    from ..grading.runner import run_snippet, write_files

    if answer is None:
        return False, "找不到这道题的答案单元（是不是删掉了？）"
    try:
        names = sorted(_assigned(answer.source) & _loaded(test.source))
    except SyntaxError as error:
        return False, f"答案单元有语法错误（第 {error.lineno} 行）"
    _, server = _grading(grading_dir)
    ran = run_snippet(answer.source, names, server=server, files=files)
    if "error" in ran:
        error = ran["error"]
        if error.get("kind") == "not_done":
            return False, "还没有作答：答案单元里仍是 raise NotImplementedError()"
        if error.get("kind") == "timeout":
            return False, "答案单元运行超时（有死循环吗？）"
        return False, (f"答案单元单独运行时出错：{error.get('type', '')}: {error.get('message', '')}".rstrip(": ")
                       + "。答案单元要自成一体：用到的 import 和变量都写在这个单元里。")
    namespace = {"__builtins__": builtins, **ran["values"]}
    printed = io.StringIO()
    try:
        with tempfile.TemporaryDirectory(prefix="step5-test-") as here, contextlib.chdir(here):
            write_files(here, files)
            with contextlib.redirect_stdout(printed):
                exec(compile(test.source, "<评分单元>", "exec"), namespace)  # the instructor's test, hidden part included
    except AssertionError as error:
        return False, str(error) or "不对"
    except NameError as error:
        return False, f"答案单元没有给出需要的变量（{error}）"
    except Exception as error:
        return False, f"{type(error).__name__}: {error}"
    return True, printed.getvalue() or "✅ 正确\n"


class GradeOutsideKernel(NbGraderPreprocessor):
    """Compute every auto-graded verdict of this notebook without its kernel (see the module docstring)."""

    grading_dir = Unicode("", help="课程的评分目录（参考答案、常见错误目录、评分种子）").tag(config=True)

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".").resolve()
        resources[TODO_VERDICTS] = todo_verdicts(folder, self.grading_dir)
        files = run_files(folder)
        resources[ANSWER_VERDICTS] = {test.metadata.nbgrader["grade_id"]: answer_verdict(answer, test, self.grading_dir, files)
                                      for test, answer in answer_pairs(nb)}
        return nb, resources


def _error_output(text):
    return new_output("error", ename="AssertionError", evalue=text, traceback=[f"AssertionError: {text}"])


def _todo_outputs(result):
    bonus = f"，选做加分 +{result.todo.points}（记为 nbgrader 的 extra credit）" if result.todo.optional else ""
    if result.passed:
        return [new_output("stream", name="stdout",
                           text=f"✅ {result.message}（评分程序在 notebook 之外检查了 {EXERCISE_FILE}{bonus}）\n")]
    if result.acceptable:  # an optional TODO left untouched: no points, no penalty, no error
        return [new_output("stream", name="stdout", text=f"⬜ {result.message}\n")]
    text = f"{result.todo.label}（{result.todo.name}）未通过，计 0 分：{result.message}"
    return [_error_output(text + (f"\n提示：{result.hint}" if result.hint else ""))]


class WriteOutsideGrades(NbGraderPreprocessor):
    """Replace each auto-graded cell's outputs (whatever the kernel printed, if it ran) by its verdict."""

    def preprocess(self, nb, resources):
        todos = resources.get(TODO_VERDICTS) or {}
        answers = resources.get(ANSWER_VERDICTS) or {}
        for cell in todo_cells(nb):
            result = todos.get(TODO_GRADE_IDS[cell.metadata.nbgrader["grade_id"]].name)
            cell.outputs = _todo_outputs(result) if result else [_error_output("评分程序没有结果")]
        for test, _ in answer_pairs(nb):
            passed, text = answers.get(test.metadata.nbgrader["grade_id"], (False, "评分程序没有结果"))
            test.outputs = [new_output("stream", name="stdout", text=text)] if passed else [_error_output(text)]
        return nb, resources


class SaveBonusCredit(NbGraderPreprocessor):
    """Optional TODOs are bonus points: their grade cells carry 0 points (the maximum stays the core's), and
    a passed optional TODO becomes nbgrader's extra credit on its cell. Runs after SaveAutoGrades."""

    def preprocess(self, nb, resources):
        from nbgrader.api import Gradebook

        todos = resources.get(TODO_VERDICTS) or {}
        cells = [c for c in todo_cells(nb) if TODO_GRADE_IDS[c.metadata.nbgrader["grade_id"]].optional]
        if not cells:
            return nb, resources
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            for cell in cells:
                todo = TODO_GRADE_IDS[cell.metadata.nbgrader["grade_id"]]
                grade = gradebook.find_grade(cell.metadata.nbgrader["grade_id"], info["notebook"], info["assignment"],
                                             info["student"])
                result = todos.get(todo.name)
                grade.extra_credit = float(todo.points) if result is not None and result.passed else 0.0
            gradebook.db.commit()
        return nb, resources


class ExecuteWhenAsked(Execute):
    run_notebooks = Bool(False, help="自动评分时也运行讲义（只为看到输出；分数与此无关）").tag(config=True)

    def preprocess(self, nb, resources):
        code = [c for c in nb.cells if c.cell_type == "code"]
        if not self.run_notebooks:
            if code:
                code[0].outputs = [new_output("stream", name="stdout", text=NOT_RUN_OUTPUT + "\n")]
            return nb, resources
        skipped = {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and SKIP_TAG in cell.metadata.get("tags", []) and not utils.is_grade(cell):
                skipped[index] = cell.source
                cell.source = ""
        try:
            nb, resources = super().preprocess(nb, resources)
        finally:
            for index, source in skipped.items():
                nb.cells[index].source = source
                nb.cells[index].outputs = [new_output("stream", name="stdout", text=SKIP_OUTPUT + "\n")]
        return nb, resources


class OverwriteReleasedCells(OverwriteCells):
    def preprocess_cell(self, cell, resources, cell_index):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id and utils.is_locked(cell):
            try:
                source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                source_cell = None
            if source_cell is not None:
                released = copy.deepcopy(cell)
                released.source = source_cell.source
                ClearHiddenTests(parent=self)._remove_hidden_test_region(released)
                if released.source != source_cell.source and released.source == cell.source:
                    cell.source = source_cell.source  # untouched: put the hidden tests back without a warning
        return super().preprocess_cell(cell, resources, cell_index)
