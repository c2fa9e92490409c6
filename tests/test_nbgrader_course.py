"""End to end: build the nbgrader course, release it, autograde a class, give feedback, export, audit.

Students: the reference (full auto marks), the untouched release (zero), a sign error in dpo_loss
(loses TODO 1 only), an infinite loop in collate_preference_batch (graded, not hung: loses TODO 3
only), a kernel cheater (untouched exercise, notebook cells that monkeypatch the grading functions
and subprocess, swallow every exception and copy the instructor's reference over their exercise;
autograded with notebooks executed: zero auto points), a tamperer (edits a locked test cell: one
checksum warning, for that cell only) and a student who deleted a TODO grade cell (re-added and
graded from the .py file).
"""

import csv
import json
import re
import shutil
import subprocess
import sys
import time

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from conftest import run_nbgrader  # noqa: E402
from leaks import SOLUTION_BLOCK, answer_lines, leaked  # noqa: E402

from step5_rlhf import paths  # noqa: E402
from step5_rlhf.assess import Grader  # noqa: E402
from step5_rlhf.course import ASSIGNMENT, EXERCISE_FILE, GRADING_DIR, TODO_GRADE_IDS  # noqa: E402
from step5_rlhf.todos import BONUS_MAX, MAX_SCORE  # noqa: E402

pytestmark = pytest.mark.slow

NUMERIC = {"bt_probability": "01_preferences.ipynb", "implicit_reward": "02_ppo_vs_dpo.ipynb",
           "dpo_gain": "05_ppo_vs_dpo_measured.ipynb", "robust_value": "06_dpo_variants_lab.ipynb"}
# What a student's comparison run leaves behind for lesson 05's question (the numbers of a made-up run).
FRONTIER = {"reference": {"judge_rate": 0.40}, "reward_model": {"eval_accuracy": 0.9},
            "points": [{"method": "dpo", "judge_rate": 0.52}, {"method": "dpo", "judge_rate": 0.55},
                       {"method": "ppo", "judge_rate": 0.70}]}
CHEAT = '''import shutil, subprocess
import step5_rlhf.assess as assess
import step5_rlhf.notebook_support as support
support.assert_todo = lambda *args, **kw: print("TODO 通过")
assess.check_submission = assess.grade_submission = lambda *args, **kw: []
subprocess.run = subprocess.Popen = lambda *args, **kw: None
try:   # the instructor's reference, copied over my exercise from the kernel
    shutil.copy("../../../grading/train_dpo_solution.py", "train_dpo_exercise.py")
except OSError:
    pass
p_chosen = implicit_reward = 0.5
get_ipython().set_custom_exc((Exception,), lambda *args, **kw: None)   # swallow every error from here on'''


def _solution_with(old, new):
    text = paths.SOLUTION.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _submit(course, student, notebooks_from, exercise_text, edit=None):
    dest = course / "submitted" / student / ASSIGNMENT
    shutil.copytree(notebooks_from, dest)
    (dest / EXERCISE_FILE).write_text(exercise_text, encoding="utf-8")
    if notebooks_from.parent.name == "source":  # a student who answered: ran lesson 05's comparison too
        (dest / "runs" / "compare").mkdir(parents=True)
        (dest / "runs" / "compare" / "frontier.json").write_text(json.dumps(FRONTIER), encoding="utf-8")
    for name, change in (edit or {}).items():
        nb = nbformat.read(dest / name, as_version=4)
        change(nb)
        nbformat.write(nb, dest / name)


def _insert_cheat(nb):
    nb.cells.insert(2, nbformat.v4.new_code_cell(CHEAT))


def _tamper(nb):
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "bt_probability")
    cell.source = "print('✅ 正确')"


def _delete_todo1_cell(nb):
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "todo1_dpo_loss"]


@pytest.fixture(scope="module")
def graded(released_course, tmp_path_factory):
    course, release = released_course
    source = course / "source" / ASSIGNMENT
    stub = (release / EXERCISE_FILE).read_text(encoding="utf-8")
    solution = paths.SOLUTION.read_text(encoding="utf-8")
    _submit(course, "reference", source, solution)  # source notebooks carry the numeric answers
    _submit(course, "blank", release, stub)
    _submit(course, "sign_error", source, _solution_with(
        "losses = -F.logsigmoid(beta * logits)", "losses = -F.logsigmoid(-beta * logits)"))
    _submit(course, "infinite_loop", source, _solution_with(
        '    if not examples:\n        raise ValueError("examples 为空',
        '    while True:\n        pass\n    if not examples:\n        raise ValueError("examples 为空'))
    _submit(course, "tamperer", source, solution, {"01_preferences.ipynb": _tamper})
    _submit(course, "deleted_cell", source, solution, {"03_dpo_loss.ipynb": _delete_todo1_cell})
    _submit(course, "kernel_cheater", release, stub,
            {name: _insert_cheat for name in ("01_preferences.ipynb", "03_dpo_loss.ipynb", "04_dpo_training.ipynb")})
    students = ["reference", "blank", "sign_error", "infinite_loop", "tamperer", "deleted_cell"]

    started = time.monotonic()
    log = run_nbgrader(course, "autograde", ASSIGNMENT, "--CourseDirectory.student_id_exclude=kernel_cheater").stderr
    seconds = time.monotonic() - started
    logs = _by_student(log)
    assert set(logs) == set(students)
    # The cheater's notebooks are executed, so the cheating cells really run in the kernel.
    logs["kernel_cheater"] = run_nbgrader(course, "autograde", ASSIGNMENT, "--student", "kernel_cheater",
                                          "--ExecuteWhenAsked.run_notebooks=True").stderr
    run_nbgrader(course, "generate_feedback", ASSIGNMENT, "--student", "sign_error")
    grades = tmp_path_factory.mktemp("export") / "grades.csv"
    run_nbgrader(course, "export", "--to", str(grades))
    print(f"\n自动评分 {len(students)} 名学生：{seconds:.1f} 秒（一个 nbgrader 进程，含启动与参考答案的准备）")
    return course, grades, logs


def _by_student(log: str) -> dict:
    """Split one autograde log into each student's part (nbgrader announces every student first)."""
    parts = re.split(r"Creating/updating student with ID '(\w+)'", log)
    return {student: text for student, text in zip(parts[1::2], parts[2::2])}


def _grade_cells(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def _points(source):
    """(TODO points, numeric points, manual points) of the instructor notebooks."""
    todo = numeric = manual = 0
    for nb in source.glob("*.ipynb"):
        for cell in _grade_cells(nb):
            points = cell.metadata["nbgrader"]["points"]
            if cell.metadata["nbgrader"]["grade_id"] in TODO_GRADE_IDS:
                todo += points
            elif cell.cell_type == "code":
                numeric += points
            else:
                manual += points
    return todo, numeric, manual


def _gradebook(course, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {g.name: g.score for nb in gb.find_submission(ASSIGNMENT, student).notebooks for g in nb.grades}


def test_scores(graded):
    course, grades_csv, _ = graded
    todo_points, numeric_points, manual_points = _points(course / "source" / ASSIGNMENT)
    assert todo_points == MAX_SCORE  # the optional TODOs' cells carry 0 points: the maximum is the core's
    auto = todo_points + numeric_points
    bonus = BONUS_MAX  # every submission built on the reference passes the optional TODOs: extra credit
    expected = {  # manual answers are not auto-scored, so they count 0 until an instructor grades them
        "reference": auto + bonus, "blank": 0, "sign_error": auto - 3 + bonus, "infinite_loop": auto - 2 + bonus,
        "tamperer": auto + bonus, "deleted_cell": auto + bonus, "kernel_cheater": 0,
    }
    rows = {row["student_id"]: row for row in csv.DictReader(grades_csv.open(encoding="utf-8"))}
    assert set(rows) == set(expected)
    for student, score in expected.items():
        assert float(rows[student]["max_score"]) == auto + manual_points
        assert float(rows[student]["score"]) == score, (student, _gradebook(course, student))


def test_todo_points_equal_the_isolated_grader_with_the_course_seed(graded, capsys):
    """`course crosscheck` regrades every autograded .py with the course's reference and seed (4242)."""
    course, _, _ = graded
    assert Grader.from_folder(course / GRADING_DIR).seed == 4242
    # The audit regrades the files as they are now: only the cheater's file, rewritten by its kernel
    # after grading, disagrees with the gradebook.
    from step5_rlhf.cli import main

    assert main(["course", "crosscheck", str(course)]) == 1
    out = capsys.readouterr().out
    flagged = [line for line in out.splitlines() if line.startswith("❌")]
    assert len(flagged) == 1 and "kernel_cheater" in flagged[0], out
    assert out.count("✅") == 6


def test_kernel_cheater_gets_no_auto_points(graded):
    course, _, logs = graded
    scores = _gradebook(course, "kernel_cheater")
    assert all(scores[gid] == 0 for gid in TODO_GRADE_IDS) and all(scores[gid] == 0 for gid in NUMERIC), scores
    autograded = course / "autograded" / "kernel_cheater" / ASSIGNMENT
    nb = nbformat.read(autograded / "01_preferences.ipynb", as_version=4)
    assert any(CHEAT in c.source and c.get("execution_count") for c in nb.cells), "the cheating cell did run"
    # It even replaced its exercise with the reference from the kernel: too late, grading came first.
    assert (autograded / EXERCISE_FILE).read_text(encoding="utf-8") == paths.SOLUTION.read_text(encoding="utf-8")


def test_checksum_warning_means_tampering(graded):
    _, _, logs = graded
    for student in ("reference", "blank", "sign_error", "infinite_loop", "deleted_cell"):
        assert "has changed" not in logs[student], (student, logs[student][-2000:])
    warnings = re.findall(r"Attribute 'checksum' for cell (\w+) has changed", logs["tamperer"])
    assert warnings == ["bt_probability"], logs["tamperer"][-2000:]


def test_deleted_todo_cell_is_restored_and_graded_from_the_file(graded):
    course, _, logs = graded
    assert _gradebook(course, "deleted_cell")["todo1_dpo_loss"] == 3
    assert "Missing grade cell todo1_dpo_loss" in logs["deleted_cell"]


def test_student_file_is_graded_not_overwritten(graded):
    course, _, _ = graded
    for student in ("reference", "blank", "sign_error", "infinite_loop"):
        submitted = course / "submitted" / student / ASSIGNMENT / EXERCISE_FILE
        autograded = course / "autograded" / student / ASSIGNMENT / EXERCISE_FILE
        assert autograded.read_text(encoding="utf-8") == submitted.read_text(encoding="utf-8")


def test_feedback_is_offline_and_hides_hidden_tests(graded):
    course, _, _ = graded
    pages = sorted((course / "feedback" / "sign_error" / ASSIGNMENT).glob("*.html"))
    assert len(pages) == len(list((course / "source" / ASSIGNMENT).glob("*.ipynb")))
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert "HIDDEN TESTS" not in text and "0.8176" not in text  # hidden expected values stay hidden
    assert "TODO 1（dpo_loss）未通过" in text  # the Chinese verdict of the grader
    assert not re.search(r"<script[^>]+src=\"https?://", text), "feedback must not load scripts from the network"
    assert "<math" in text and "$$" not in text  # formulas rendered as MathML, none left raw
    assert str(course) not in text  # no path of the grading machine


def test_release_has_no_solutions_or_hidden_tests(released_course):
    course, release = released_course
    notebook_answers = []
    for nb in (course / "source" / ASSIGNMENT).glob("*.ipynb"):
        for cell in nbformat.read(nb, as_version=4).cells:
            notebook_answers += SOLUTION_BLOCK.findall(cell.source + "\n")
            notebook_answers += re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", cell.source + "\n", re.S)
    lines = answer_lines(notebook_answers)
    assert len(lines) > 40
    files = [p for p in release.rglob("*") if p.suffix in (".py", ".ipynb")]
    assert {p.name for p in files} >= {EXERCISE_FILE}
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":  # compare the cell sources, not JSON-escaped text
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert f"### {marker}" not in text, f"{path.name} 含有 ### {marker}"
        found = leaked(text, lines)
        assert not found, f"{path.name} 泄露了答案：{found[:3]}"
    assert not (release / GRADING_DIR).exists()
    # The essay rubrics are whole markdown cells: students get the empty answer cell instead.
    from step5_rlhf.course import TEXT_STUB

    essays = 0
    for path in release.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            assert "只给评分的老师看" not in cell.source, f"{path.name} 含有问答题的参考答案"
            if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
                essays += 1
                assert cell.source.strip() == TEXT_STUB.strip()
    assert essays == 5  # answer_dpo_vs_ppo, answer_beta, answer_beta_experiment, answer_frontier, answer_variants


def test_student_folder_has_the_released_notebooks(released_course, tmp_path):
    from step5_rlhf.cli import main

    _, release = released_course
    assert main(["student", str(tmp_path / "me")]) == 0
    for nb in sorted(release.glob("*.ipynb")):
        released = [c.source for c in nbformat.read(nb, as_version=4).cells]
        mine = [c.source for c in nbformat.read(tmp_path / "me" / nb.name, as_version=4).cells]
        assert mine == released, nb.name
    assert (tmp_path / "me" / EXERCISE_FILE).read_text(encoding="utf-8") == (release / EXERCISE_FILE).read_text(encoding="utf-8")
    assert (tmp_path / "me" / "data" / "train.jsonl").is_file()
    assert main(["student", str(tmp_path / "me")]) == 2  # never overwrites a student's work silently


def test_validate_fails_an_unfinished_todo_and_passes_a_finished_one(released_course, tmp_path):
    from step5_rlhf.commands.course import nbgrader_env

    _, release = released_course
    folder = tmp_path / "student"
    shutil.copytree(release, folder)

    def validate():
        return subprocess.run([sys.executable, "-m", "nbgrader", "validate", "03_dpo_loss.ipynb"], cwd=folder,
                              capture_output=True, text=True, env=nbgrader_env(), timeout=600)

    untouched = validate()
    assert "VALIDATION FAILED" in untouched.stdout, untouched.stdout[-2000:]
    assert "TODO 1（dpo_loss）还没有完成" in untouched.stdout and "Traceback" not in untouched.stdout
    shutil.copy(paths.SOLUTION, folder / EXERCISE_FILE)
    nb = nbformat.read(folder / "03_dpo_loss.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown":
            cell.source = "β 越大，策略模型越靠近参考模型。"
    nbformat.write(nb, folder / "03_dpo_loss.ipynb")
    finished = validate()
    assert "Success! Your notebook passes all the tests." in finished.stdout, finished.stdout[-2000:]
