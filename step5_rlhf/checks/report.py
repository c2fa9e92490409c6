"""The student's view of check results: a text table for terminals, an HTML table for notebooks."""

import html
import unicodedata

from .verdict import STATUS_TEXT

MARK = {"passed": "✅", "not_done": "⬜", "wrong": "❌", "error": "⚠️ "}
COLOR = {"passed": "#1a7f37", "not_done": "#6e7781", "wrong": "#cf222e", "error": "#bc4c00"}


def pad(text: str, width: int) -> str:
    """Left-align by display width: a Chinese character takes two terminal columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def totals_line(results) -> str:
    """Core points and bonus points, always apart (an untouched optional TODO costs nothing)."""
    core = [r for r in results if not r.todo.optional]
    optional = [r for r in results if r.todo.optional]
    parts = []
    if core:
        parts.append(f"{sum(r.passed for r in core)}/{len(core)} 个 TODO 通过，得分 "
                     f"{sum(r.score for r in core)}/{sum(r.max_score for r in core)}")
    if optional:
        parts.append(f"选做加分 {sum(r.score for r in optional)}/{sum(r.max_score for r in optional)}")
    return "合计：" + "；".join(parts)


def format_report(results, title="") -> str:
    lines = [title] if title else []
    lines.append(pad("结果", 11) + pad("TODO", 8) + pad("函数", 26) + pad("内容", 26) + "得分")
    for r in results:
        lines.append(pad(f"{MARK[r.status]} {STATUS_TEXT[r.status]}", 11) + pad(r.todo.label, 8)
                     + pad(r.todo.name, 26) + pad(r.todo.title, 26) + f"{r.score}/{r.max_score}")
        if r.status not in ("passed", "not_done"):
            lines.append(f"      {r.message}")
        if r.hint:  # on a passed TODO: advice that cost no points
            lines.append(f"      {'建议' if r.status == 'passed' else '提示'}：{r.hint}")
    lines.append(totals_line(results))
    return "\n".join(lines)


def report_html(results, title="") -> str:
    """The same report as an HTML table with text status labels (no emoji, no column drift)."""
    cell = 'style="text-align:left;padding:2px 10px;vertical-align:top"'
    rows = []
    for r in results:
        status = f'<b style="color:{COLOR[r.status]}">{STATUS_TEXT[r.status]}</b>'
        detail = "" if r.status in ("passed", "not_done") else html.escape(r.message)
        if r.hint:  # on a passed TODO: advice that cost no points
            detail += ("<br>" if detail else "") + ("建议：" if r.status == "passed" else "提示：") + html.escape(r.hint)
        rows.append(f"<tr><td {cell}>{status}</td><td {cell}>{r.todo.label}</td><td {cell}><code>{r.todo.name}</code></td>"
                    f"<td {cell}>{html.escape(r.todo.title)}</td><td {cell}>{r.score}/{r.max_score}</td>"
                    f"<td {cell}>{detail}</td></tr>")
    head = "".join(f"<th {cell}>{h}</th>" for h in ("结果", "TODO", "函数", "内容", "得分", "说明"))
    caption = f"<p><b>{html.escape(title)}</b></p>" if title else ""
    return (f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p>{totals_line(results)}</p>")


class CheckReport:
    """What a self-check returns: true when every checked TODO passed (an optional one may be left
    untouched); shows itself as a table.

    In a notebook the HTML table is displayed; `print(report)` gives the text table.
    """

    def __init__(self, results, title=""):
        self.results, self.title = list(results), title

    def __bool__(self) -> bool:
        return all(r.acceptable for r in self.results)

    def __str__(self) -> str:
        return format_report(self.results, self.title)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return report_html(self.results, self.title)
