"""End to end: build the nbgrader course, release it, autograde four students, export, compare.

Students: the reference (full auto marks), the untouched release (zero), a sign error in
dpo_loss (loses TODO 1 only) and an infinite loop in collate_preference_batch (graded, not hung:
loses TODO 3 only). The TODO points nbgrader gives must equal `check_submission` on the same
.py files (what `step5-rlhf grade` uses).
"""

import csv
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from step5_rlhf import paths  # noqa: E402
from step5_rlhf.checks import check_submission  # noqa: E402
from step5_rlhf.course import ASSIGNMENT, EXERCISE_FILE  # noqa: E402
from step5_rlhf.course.builder import build  # noqa: E402
from step5_rlhf.todos import TODOS  # noqa: E402

pytestmark = pytest.mark.slow

TODO_GRADE_IDS = {f"todo{t.number}_{t.name}": t for t in TODOS}
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
STUDENTS = ("reference", "blank", "sign_error", "infinite_loop")


def _todo_cell(todo):
    cell = nbformat.v4.new_code_cell(
        "import importlib\nimport train_dpo_exercise\nimportlib.reload(train_dpo_exercise)\n"
        f"train_dpo_exercise.test_{todo.name}()\n"
        "### BEGIN HIDDEN TESTS\nfrom step5_rlhf.checks.nbgrader import assert_todo_passes\n"
        f'assert_todo_passes("{todo.name}")\n### END HIDDEN TESTS')
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"todo{todo.number}_{todo.name}", "locked": True,
                                 "points": todo.points, "schema_version": 3, "solution": False}
    return cell


def _grade_cells(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _notebooks(tmp):
    """The real notebooks; TODO test cells they do not have yet go into one sample notebook."""
    folder = tmp / "notebooks"
    folder.mkdir()
    present = set()
    for nb in sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb")):
        shutil.copy(nb, folder / nb.name)
        present |= {c.metadata["nbgrader"]["grade_id"] for c in _grade_cells(nb)}
    missing = [t for gid, t in TODO_GRADE_IDS.items() if gid not in present]
    if missing:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        nb.cells = [nbformat.v4.new_code_cell("from step5_rlhf.notebook_support import setup\nEXERCISE = setup()")]
        nb.cells += [_todo_cell(t) for t in missing]
        nbformat.write(nb, folder / "00_todo_checks.ipynb")
    return folder


def _nbgrader(course, *args, timeout=900):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True,
                          text=True, timeout=timeout)
    print(f"\nnbgrader {args[0]}：{time.monotonic() - started:.0f} 秒")
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} 失败：\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _solution_with(old, new):
    text = paths.SOLUTION.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _submit(course, student, notebooks_from, exercise_text):
    dest = course / "submitted" / student / ASSIGNMENT
    shutil.copytree(notebooks_from, dest)
    (dest / EXERCISE_FILE).write_text(exercise_text, encoding="utf-8")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    course = tmp / "course"
    started = time.monotonic()
    build(course, _notebooks(tmp))
    _nbgrader(course, "generate_assignment", ASSIGNMENT)
    release = course / "release" / ASSIGNMENT
    source = course / "source" / ASSIGNMENT

    solution = paths.SOLUTION.read_text(encoding="utf-8")
    stub = (release / EXERCISE_FILE).read_text(encoding="utf-8")
    _submit(course, "reference", source, solution)  # source notebooks carry the numeric answers
    _submit(course, "blank", release, stub)
    # the wrong-TODO students answer the numeric questions, so they lose exactly one TODO
    _submit(course, "sign_error", source, _solution_with(
        "losses = -F.logsigmoid(beta * logits)", "losses = -F.logsigmoid(-beta * logits)"))
    _submit(course, "infinite_loop", source, _solution_with(
        '    if not examples:\n        raise ValueError("examples 为空',
        '    while True:\n        pass\n    if not examples:\n        raise ValueError("examples 为空'))

    _nbgrader(course, "autograde", ASSIGNMENT)
    _nbgrader(course, "generate_feedback", ASSIGNMENT)
    _nbgrader(course, "export", "--to", str(tmp / "grades.csv"))
    print(f"\n课程构建 + 发布 + 4 名学生自动评分 + 反馈 + 导出：{time.monotonic() - started:.0f} 秒")
    return course, tmp / "grades.csv"


def _auto_points(source):
    """(TODO points, other auto-graded points, manual points) of the instructor notebooks."""
    todo = other = manual = 0
    for nb in source.glob("*.ipynb"):
        for cell in _grade_cells(nb):
            points = cell.metadata["nbgrader"]["points"]
            if cell.metadata["nbgrader"]["grade_id"] in TODO_GRADE_IDS:
                todo += points
            elif cell.cell_type == "code":
                other += points
            else:
                manual += points
    return todo, other, manual


def _todo_scores(course, student):
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        for nb in submission.notebooks:
            for grade in nb.grades:
                if grade.name in TODO_GRADE_IDS:
                    scores[TODO_GRADE_IDS[grade.name].name] = grade.score
    return scores


def test_release_has_no_solutions_or_hidden_tests(graded):
    course, _ = graded
    release = course / "release" / ASSIGNMENT
    solution = paths.SOLUTION.read_text(encoding="utf-8")
    solution_lines = {line.strip() for block in SOLUTION_BLOCK.findall(solution)
                      for line in block.splitlines() if len(line.strip()) > 12}
    # lines the docstrings quote on purpose (e.g. "loss.backward()") are not leaks
    solution_lines -= set(SOLUTION_BLOCK.sub("", solution).replace("\n", " ").split(" ")) | {
        line for line in solution_lines if line in SOLUTION_BLOCK.sub("", solution)}
    for nb in (course / "source" / ASSIGNMENT).glob("*.ipynb"):
        for cell in nbformat.read(nb, as_version=4).cells:
            for block in SOLUTION_BLOCK.findall(cell.source + "\n"):
                solution_lines |= {line.strip() for line in block.splitlines() if len(line.strip()) > 12}
    assert solution_lines
    files = [p for p in release.rglob("*") if p.suffix in (".py", ".ipynb")]
    assert {p.name for p in files} >= {EXERCISE_FILE}
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":  # compare the cell sources, not JSON-escaped text
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert not re.search(rf"^\s*### {marker}\s*$", text, re.M), f"{path.name} 含有 ### {marker}"
        assert "assert_todo_passes" not in text, f"{path.name} 含有隐藏测试"
        leaked = [line for line in solution_lines if line in text]
        assert not leaked, f"{path.name} 泄露了参考答案：{leaked[:3]}"


def test_scores(graded):
    course, grades_csv = graded
    todo_points, numeric_points, manual_points = _auto_points(course / "source" / ASSIGNMENT)
    assert todo_points == sum(t.points for t in TODOS)
    rows = {row["student_id"]: row for row in csv.DictReader(grades_csv.open(encoding="utf-8"))}
    assert set(rows) == set(STUDENTS)
    total = todo_points + numeric_points + manual_points
    expected = {  # manual answers are not auto-scored, so they count 0 until an instructor grades them
        "reference": todo_points + numeric_points,
        "blank": 0,
        "sign_error": todo_points + numeric_points - 3,
        "infinite_loop": todo_points + numeric_points - 2,
    }
    for student, score in expected.items():
        assert float(rows[student]["max_score"]) == total
        assert float(rows[student]["score"]) == score, (student, rows[student])

    lost = {"reference": set(), "blank": {t.name for t in TODOS}, "sign_error": {"dpo_loss"},
            "infinite_loop": {"collate_preference_batch"}}
    for student in STUDENTS:
        by_nbgrader = _todo_scores(course, student)
        assert by_nbgrader == {t.name: (0 if t.name in lost[student] else t.points) for t in TODOS}, student
        # the same .py file through the batch grader's checks gives the same points
        graded_file = course / "autograded" / student / ASSIGNMENT / EXERCISE_FILE
        by_checks = {r.todo.name: r.score for r in check_submission(graded_file)}
        assert by_checks == by_nbgrader, student


def test_student_file_is_graded_not_overwritten(graded):
    course, _ = graded
    for student in STUDENTS:
        submitted = course / "submitted" / student / ASSIGNMENT / EXERCISE_FILE
        autograded = course / "autograded" / student / ASSIGNMENT / EXERCISE_FILE
        assert autograded.read_text(encoding="utf-8") == submitted.read_text(encoding="utf-8")


def test_feedback_hides_hidden_tests(graded):
    course, _ = graded
    pages = list((course / "feedback" / "sign_error" / ASSIGNMENT).glob("*.html"))
    assert pages
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "assert_todo_passes" not in text and "HIDDEN TESTS" not in text
    assert "TODO 1（dpo_loss）未通过" in text  # the Chinese verdict of the hidden test stays


def test_hidden_check_ignores_kernel_state(tmp_path, monkeypatch):
    """An always-equal object or a patched torch in the caller cannot make a wrong file pass."""
    import torch

    from step5_rlhf.checks import nbgrader as hidden

    wrong = tmp_path / EXERCISE_FILE
    wrong.write_text(_solution_with("losses = -F.logsigmoid(beta * logits)",
                                    "losses = -F.logsigmoid(-beta * logits)"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    hidden.assert_todo_passes("dpo_loss")  # not autograding: a no-op
    monkeypatch.setenv(hidden.ENV_FLAG, "1")
    monkeypatch.setattr(torch, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(torch.Tensor, "__eq__", lambda *a: True)
    with pytest.raises(AssertionError, match="TODO 1"):
        hidden.assert_todo_passes("dpo_loss")
    shutil.copy(paths.SOLUTION, wrong)
    hidden.assert_todo_passes("dpo_loss")
