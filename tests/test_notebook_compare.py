"""Lesson 5 run with the reference as the student's file: it runs the comparison (reward model, DPO with
the student's TODOs, PPO, best-of-N) in the tests' tiny setting and answers the question on its own run.
In its own file so that pytest-xdist runs it next to the other notebook runs."""

import pytest

pytest.importorskip("nbclient")

from notebook_runs import assert_notebook_run, executed, solution_file, warm_sft_cache  # noqa: E402,F401


@pytest.mark.slow
def test_comparison_notebook_runs_with_the_students_code(warm_sft_cache, executed):
    nb, seconds = executed("solution", "05_ppo_vs_dpo_measured.ipynb")
    assert_notebook_run(nb, seconds, "05_ppo_vs_dpo_measured.ipynb", "solution")
