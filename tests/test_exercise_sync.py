"""What students get is generated from the reference: the exercise (in sync, free of answers, failing
per TODO) and the shipped expected outputs (in sync with the reference and the mistake catalogue)."""

import ast

import pytest

from step5_rlhf import paths
from step5_rlhf.build_exercise import build, exercise_source, expected_data, stale
from step5_rlhf.checks import expectations
from step5_rlhf.assess import check_submission
from step5_rlhf.cli import main
from step5_rlhf.todos import TODOS


def test_committed_exercise_is_generated_from_the_solution():
    expected = exercise_source(paths.SOLUTION.read_text(encoding="utf-8"))
    assert paths.EXERCISE.read_text(encoding="utf-8") == expected, "练习文件过期：运行 step5-rlhf build-exercise"


def test_exercise_holds_no_solution_code():
    # Each TODO function is its docstring, a comment and one raise: no line of the answer survives.
    tree = ast.parse(paths.EXERCISE.read_text(encoding="utf-8"))
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for todo in TODOS:
        body = functions[todo.name].body
        assert isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)  # the docstring
        assert len(body) == 2 and isinstance(body[1], ast.Raise), todo.name


def test_exercise_speaks_to_the_student_only():
    exercise = paths.EXERCISE.read_text(encoding="utf-8")
    for instructor_only in ("solutions/", "train_dpo_solution", "build-exercise", "mistakes"):
        assert instructor_only not in exercise, instructor_only
    assert "python train_dpo_exercise.py" in exercise and "float32" in exercise  # how to check; the dtype rule


def test_every_todo_has_a_stub_naming_it():
    exercise = paths.EXERCISE.read_text(encoding="utf-8")
    for todo in TODOS:
        assert f'raise NotImplementedError("{todo.label}（{todo.name}）还没有完成")' in exercise


def test_shipped_expected_outputs_match_the_reference_and_the_mistakes():
    assert stale() == [], "练习文件或 expected.json 过期：运行 step5-rlhf build-exercise"


def test_stale_exercise_and_expected_outputs_are_detected(tmp_path, capsys, monkeypatch):
    solution = tmp_path / "solution.py"
    exercise = tmp_path / "exercise.py"
    solution.write_text(paths.SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    assert build(solution, exercise) is True
    assert build(solution, exercise) is False  # nothing to do the second time
    assert stale(solution, paths.MISTAKES, exercise) == []
    # A changed answer: the exercise stays the same, but the shipped outputs no longer match.
    changed = solution.read_text(encoding="utf-8").replace("return losses.mean()", "return losses.mean() * 2")
    solution.write_text(changed, encoding="utf-8")
    assert any("expected.json" in line and "dpo_loss/" in line for line in stale(solution, paths.MISTAKES, exercise))
    # A changed docstring default: the exercise is stale.
    solution.write_text(changed.replace("beta=0.1", "beta=0.2"), encoding="utf-8")
    monkeypatch.setattr(paths, "SOLUTION", solution)
    monkeypatch.setattr(paths, "EXERCISE", exercise)
    assert main(["build-exercise", "--check"]) == 1
    assert "不同步" in capsys.readouterr().out


def test_expected_outputs_cover_every_practice_case_and_mistake():
    shipped = expectations.ShippedExpectations.load()
    live = expected_data()
    assert set(shipped.runs) == set(live["runs"]) == {c.id for c in __import__("step5_rlhf.checks.registry",
                                                                                fromlist=["CASES"]).CASES}
    names = {m["name"] for entry in shipped.runs.values() for m in entry["mistakes"]}
    assert len(names) >= 20  # the hints of the catalogued mistakes travel with the data


def test_unbalanced_markers_are_refused():
    with pytest.raises(ValueError):
        exercise_source("def f():\n    ### BEGIN SOLUTION\n    return 1\n")


def test_untouched_exercise_fails_every_todo_as_not_done():
    results = check_submission(paths.EXERCISE)
    assert [r.status for r in results] == ["not_done"] * len(TODOS)
    assert sum(r.score for r in results) == 0
    for result in results:
        # an optional TODO left untouched says so and costs nothing
        expected = "选做，还没做" if result.todo.optional else "还没有完成"
        assert result.todo.name in result.message and expected in result.message, result.message
    from step5_rlhf.checks.report import CheckReport, totals_line

    assert totals_line(results) == "合计：0/5 个 TODO 通过，得分 0/12；选做加分 0/3"
    assert not CheckReport(results)  # the core TODOs are not done


def test_a_finished_core_with_untouched_optional_todos_passes_the_self_check(tmp_path):
    from step5_rlhf.build_exercise import exercise_source
    from step5_rlhf.checks.report import CheckReport

    text = paths.SOLUTION.read_text(encoding="utf-8")
    core_only = exercise_source(text)  # every stub …
    for name in ("dpo_loss", "sequence_log_probs", "collate_preference_batch", "dpo_metrics", "dpo_train_step"):
        start = text.index(f"def {name}(")
        end = text.index("\n# ----", start)
        stub_start = core_only.index(f"def {name}(")
        stub_end = core_only.index("\n# ----", stub_start)
        core_only = core_only[:stub_start] + text[start:end] + core_only[stub_end:]  # … but the core answered
    path = tmp_path / "train_dpo_exercise.py"
    path.write_text(core_only, encoding="utf-8")
    results = check_submission(path)
    assert [r.status for r in results] == ["passed"] * 5 + ["not_done"] * 2
    assert CheckReport(results) and sum(r.score for r in results if not r.todo.optional) == 12
