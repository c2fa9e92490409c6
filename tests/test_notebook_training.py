"""Lesson 4 run with the reference as the student's file: it trains for real (the slowest notebook,
in its own file so that pytest-xdist runs it next to the other notebook runs)."""

import pytest

pytest.importorskip("nbclient")

from notebook_runs import assert_notebook_run, executed, solution_file, warm_sft_cache  # noqa: E402,F401


@pytest.mark.slow
def test_training_notebook_runs_with_the_students_code(warm_sft_cache, executed):
    nb, seconds = executed("solution", "04_dpo_training.ipynb")
    assert_notebook_run(nb, seconds, "04_dpo_training.ipynb", "solution")
