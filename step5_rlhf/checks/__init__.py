"""One set of checks for the five TODOs, served to pytest, `check`, `grade` and nbgrader.

    from step5_rlhf.checks import check_submission
    results = check_submission("exercises/train_dpo_exercise.py")   # list of TodoResult
"""


def check_submission(path, todos=None, limits=None):
    """Run the checks of `todos` (all by default) on a Python file; never imports it here."""
    from ..grading.runner import run_submission
    from ..todos import select
    from .verdict import check_results

    chosen = select(todos)
    results = run_submission(path, [t.name for t in chosen], limits)
    return check_results(results, [t.name for t in chosen])
