"""The nbgrader course of this module, built from the repository (notebooks/, the solution, data/).

    step5-rlhf course build COURSE_DIR      # source/, grading/, dist/*.whl, nbgrader_config.py
    cd COURSE_DIR && nbgrader generate_assignment step5_rlhf && ...

Nothing of the course is kept in the repository: every build regenerates it from one source.
COURSE_DIR/grading/ holds the reference, the mistake catalogue and the grading seed: instructor-only,
never part of a release.
"""

from .. import paths
from ..todos import TODOS

ASSIGNMENT = "step5_rlhf"
COURSE_ID = "step5-rlhf-dpo"
EXERCISE_FILE = paths.EXERCISE_NAME
GRADING_DIR = "grading"
# The grade cell of each TODO; its points come from the grader outside the kernel.
TODO_GRADE_IDS = {f"todo{t.number}_{t.name}": t for t in TODOS}


def cell_points(todo) -> int:
    """A TODO grade cell's nbgrader points: an optional TODO's cell has 0 (its points are extra credit)."""
    return 0 if todo.optional else todo.points


# A student's own run outputs that a graded answer may read (lesson 05 reads its comparison): copied
# from the submission into the answer's sandbox, and read by the instructor's test cell.
RUN_FILES = ("runs/compare/frontier.json",)
RUN_FILE_LIMIT = 1_000_000  # bytes
# Lesson cells with this tag (training runs, plots) are not run by autograde: no grade depends on them.
SKIP_TAG = "skip-autograde"
# What nbgrader (and the student folder) put where an answer was.
CODE_STUB = "# 在这里写你的代码\nraise NotImplementedError()"
TEXT_STUB = "✏️ 双击这里，写下你的回答。"
