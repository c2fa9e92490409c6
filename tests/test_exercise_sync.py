"""The student file is generated from the reference: in sync, free of answers, and failing per TODO."""

import ast

import pytest

from step5_rlhf import paths
from step5_rlhf.build_exercise import build, exercise_source
from step5_rlhf.checks import check_submission
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


def test_every_todo_has_a_stub_naming_it():
    exercise = paths.EXERCISE.read_text(encoding="utf-8")
    for todo in TODOS:
        assert f'raise NotImplementedError("{todo.label}（{todo.name}）还没有完成")' in exercise


def test_stale_exercise_is_detected(tmp_path, capsys, monkeypatch):
    solution = tmp_path / "solution.py"
    exercise = tmp_path / "exercise.py"
    solution.write_text(paths.SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    assert build(solution, exercise) is True
    assert build(solution, exercise) is False  # nothing to do the second time
    solution.write_text(solution.read_text(encoding="utf-8").replace("beta=0.1", "beta=0.2"), encoding="utf-8")
    monkeypatch.setattr(paths, "SOLUTION", solution)
    monkeypatch.setattr(paths, "EXERCISE", exercise)
    assert main(["build-exercise", "--check"]) == 1
    assert "不同步" in capsys.readouterr().out


def test_unbalanced_markers_are_refused():
    with pytest.raises(ValueError):
        exercise_source("def f():\n    ### BEGIN SOLUTION\n    return 1\n")


def test_untouched_exercise_fails_every_todo_as_not_done():
    results = check_submission(paths.EXERCISE)
    assert [r.status for r in results] == ["not_done"] * len(TODOS)
    assert sum(r.score for r in results) == 0
    for result in results:
        assert result.todo.name in result.message and "还没有完成" in result.message
