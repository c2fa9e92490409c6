"""The student's view of check results: one row per TODO, details and a hint under it."""

import unicodedata

from .verdict import STATUS_TEXT

MARK = {"passed": "✅", "not_done": "⬜", "wrong": "❌", "error": "⚠️ "}


def _pad(text: str, width: int) -> str:
    """Left-align by display width: a Chinese character takes two terminal columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def format_report(results, title="") -> str:
    lines = [title] if title else []
    lines.append(_pad("结果", 11) + _pad("TODO", 8) + _pad("函数", 26) + _pad("内容", 26) + "得分")
    for r in results:
        lines.append(_pad(f"{MARK[r.status]} {STATUS_TEXT[r.status]}", 11) + _pad(r.todo.label, 8)
                     + _pad(r.todo.name, 26) + _pad(r.todo.title, 26) + f"{r.score}/{r.max_score}")
        if r.status not in ("passed", "not_done"):
            lines.append(f"      {r.message}")
        if r.status != "passed" and r.hint:
            lines.append(f"      提示：{r.hint}")
    total, best = sum(r.score for r in results), sum(r.max_score for r in results)
    done = sum(r.passed for r in results)
    lines.append(f"合计：{done}/{len(results)} 个 TODO 通过，得分 {total}/{best}")
    return "\n".join(lines)
