"""The checks of each TODO on the target file: the solution by default, `--submission PATH` otherwise.

    pytest tests/test_todos.py                                   # the reference must pass
    pytest tests/test_todos.py --submission exercises/train_dpo_exercise.py   # a student's file
"""

import pytest

from step5_rlhf.assess import check_submission
from step5_rlhf.checks.report import format_report
from step5_rlhf.todos import TODOS


@pytest.fixture(scope="session")
def verdicts(submission_path):
    return {r.todo.name: r for r in check_submission(submission_path)}


@pytest.mark.parametrize("todo", TODOS, ids=lambda t: f"todo{t.number}_{t.name}")
def test_todo(todo, verdicts):
    result = verdicts[todo.name]
    if not result.passed:
        pytest.fail(format_report([result]), pytrace=False)
