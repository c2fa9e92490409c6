"""Shared pytest options and fixtures.

`--submission PATH` points the TODO checks at any student file. `released_course` builds the
nbgrader course once per session (source, grading folder, wheel, release) for the tests that
grade a class and the test that installs the package as a student would.
"""

import subprocess
import sys

import pytest

from step5_rlhf import paths


def pytest_addoption(parser):
    parser.addoption("--submission", default=None, metavar="PATH",
                     help="run the TODO checks on this file (default: the reference solution)")


@pytest.fixture(scope="session")
def submission_path(request):
    return request.config.getoption("--submission") or str(paths.SOLUTION)


def run_nbgrader(course, *args, timeout=900):
    """`nbgrader ARGS` in the course folder, the way `step5-rlhf course …` runs it (alembic on PATH)."""
    from step5_rlhf.commands.course import nbgrader_env

    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          timeout=timeout, env=nbgrader_env())
    assert proc.returncode == 0, f"nbgrader {' '.join(args)} 失败：\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="session")
def released_course(tmp_path_factory):
    """(course dir, release folder): `course build` (grading seed 4242, wheel) and `generate_assignment`."""
    pytest.importorskip("nbgrader")
    from step5_rlhf.course import ASSIGNMENT
    from step5_rlhf.course.builder import build

    course = tmp_path_factory.mktemp("course") / "course"
    build(course, seed=4242)
    run_nbgrader(course, "generate_assignment", ASSIGNMENT)
    return course, course / "release" / ASSIGNMENT


# The longest files first: pytest-xdist hands out whole files (--dist loadfile), and a long file that
# starts last keeps one core busy alone at the end. Measured with --durations on the 2-core CI machine.
SLOW_FIRST = ("test_nbgrader_course.py", "test_notebook_variants.py", "test_notebook_training.py",
              "test_notebook_compare.py", "test_distributed.py", "test_student_mode.py", "test_notebooks.py",
              "test_compare.py", "test_training_run.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))  # stable: order within a file is kept
