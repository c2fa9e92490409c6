"""Lesson 6 (optional) run with the reference as the student's file: its four experiments in the tests'
tiny setting, the check cells of the optional TODOs, and its numeric question. In its own file so that
pytest-xdist runs it next to the other notebook runs."""

import pytest

pytest.importorskip("nbclient")

from notebook_runs import assert_notebook_run, executed, solution_file, warm_sft_cache  # noqa: E402,F401


@pytest.mark.slow
def test_variants_lab_runs_with_the_students_code(warm_sft_cache, executed):
    nb, seconds = executed("solution", "06_dpo_variants_lab.ipynb")
    assert_notebook_run(nb, seconds, "06_dpo_variants_lab.ipynb", "solution")
