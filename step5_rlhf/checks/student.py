"""Checks as a student calls them from a notebook or the exercise file: print, never raise."""

from .report import format_report


def check_file(path, todos=()) -> bool:
    """Check the saved file at `path`; print a Chinese report; True when every selected TODO passes."""
    from . import check_submission
    from .nbgrader import autograding

    if autograding():
        # The hidden test of the same cell runs the same checks in a fresh process and decides the
        # points; running them here as well would only double the autograde time.
        print("自动评分中：这个 TODO 由隐藏测试检查。")
        return True
    try:
        results = check_submission(path, list(todos) or None)
    except Exception as exc:  # the check itself must never break a student's notebook
        print(f"⚠️ 检查器本身出错了：{type(exc).__name__}: {exc}。请把这条信息告诉助教。")
        return False
    print(format_report(results, title=f"检查 {path}"))
    return all(r.passed for r in results)
