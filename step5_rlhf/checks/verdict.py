"""One verdict per TODO: passed / not done / wrong / error, with a Chinese message and hint.

This is the single set of checks behind pytest, `step5-rlhf check`, `step5-rlhf grade` and the
nbgrader course. A TODO is all-or-nothing, like an nbgrader test cell. The judge gets the
outputs of each run (from a child process) and an expectations object (shipped data or the live
reference); it never runs student code itself.

A check module may also give advice that costs nothing (``value_note(actual, expected)``, e.g. how
an error message is worded): a TODO that passes carries it as its hint, and its message says so.
"""

from dataclasses import asdict, dataclass

from ..todos import Todo
from . import case as case_module
from . import compare, registry

STATUS_TEXT = {"passed": "通过", "not_done": "还没做", "wrong": "不对", "error": "出错"}
ERROR_TEXT = {
    "exit": "调用了 sys.exit / exit() 或触发了 KeyboardInterrupt",
    "memory": "内存不够（MemoryError）",
    "timeout": "超时",
    "crash": "进程崩溃",
    "protocol": "输出无法识别",
    "syntax": "语法错误",
}


@dataclass
class TodoResult:
    todo: Todo
    status: str  # passed | not_done | wrong | error
    message: str  # one Chinese line: what was found
    hint: str = ""  # what to do about it (on a passed TODO: advice that cost no points)
    case: str = ""  # the case that decided it

    @property
    def score(self) -> int:
        return self.todo.points if self.status == "passed" else 0

    @property
    def max_score(self) -> int:
        return self.todo.points

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def acceptable(self) -> bool:
        """Passed, or an optional TODO left untouched (which costs nothing)."""
        return self.passed or (self.todo.optional and self.status == "not_done")

    def as_dict(self) -> dict:
        data = asdict(self)
        data["todo"] = self.todo.name
        data.update(number=self.todo.number, score=self.score, max_score=self.max_score, optional=self.todo.optional)
        return data


def _error_result(todo, run, error) -> TodoResult:
    kind = error.get("kind")
    where = f"（第 {error['line']} 行）" if error.get("line") else ""
    if kind == "not_done":
        if todo.optional:
            return TodoResult(todo, "not_done", f"{todo.label}（{todo.name}）选做，还没做：不扣分",
                              f"想拿加分就实现 {todo.name}，删掉 raise NotImplementedError。", run.case.name)
        return TodoResult(todo, "not_done", f"{todo.label}（{todo.name}）还没有完成",
                          f"在练习文件里实现 {todo.name}，删掉 raise NotImplementedError。", run.case.name)
    if error.get("import"):
        detail = ERROR_TEXT.get(kind, "出错")
        text = f"{error.get('type', '')}: {error.get('message', '')}".strip(": ")
        return TodoResult(todo, "error", f"无法导入练习文件：{detail}{where} {text}".strip(),
                          "先让文件能被 Python 导入：python train_dpo_exercise.py", "import")
    if kind in ERROR_TEXT:
        detail = ERROR_TEXT[kind]
        message = error.get("message") or ""
        return TodoResult(todo, "error", f"用例「{run.what}」{detail}{where}：{message}".rstrip("："),
                          "检查有没有死循环、过大的张量，或在函数里调用了 exit。", run.case.name)
    text = f"{error.get('type', 'Exception')}: {error.get('message', '')}"
    return TodoResult(todo, "error", f"用例「{run.what}」抛出异常{where}：{text}",
                      "对照文档字符串检查输入输出的形状与类型。", run.case.name)


def _mistake_hint(module, run, value, expectations):
    for mistake, mistake_value in expectations.mistakes(run):
        if module.value_difference(value, mistake_value) is None:
            return mistake.hint
    return ""


def _run_problem(module, run, outputs, expectations):
    """(difference, hint) for one run that finished, or None when it matches the expected outputs."""
    expected = expectations.expected(run)
    if run.case.runner == "train_step":
        problem = module.run_difference(outputs, expected, case_module.initial_params(run.case, run.seed))
        return (problem, module.HINT) if problem else None
    outputs = outputs if isinstance(outputs, dict) else {}
    problem = compare.call_difference(module.value_difference, outputs, expected)
    if not problem:
        return None
    hint = _mistake_hint(module, run, outputs.get("value"), expectations)
    if not hint and "inf/NaN" in problem:
        hint = getattr(module, "NONFINITE_HINT", "")
    if not hint and "dtype" in problem:
        hint = compare.DTYPE_RULE
    return problem, hint


def _run_note(module, run, outputs, expectations):
    """Advice on a run that passed (the module's ``value_note``), or ''."""
    note = getattr(module, "value_note", None)
    if note is None or run.case.runner == "train_step" or not isinstance(outputs, dict):
        return ""
    return note(outputs.get("value"), expectations.expected(run)["value"]) or ""


def judge_todo(todo: Todo, results: dict, runs, expectations) -> TodoResult:
    """Verdict for one TODO from the results of its runs (run key -> CaseResult)."""
    module = registry.MODULES[todo.name]
    runs = [run for run in runs if run.case.todo == todo.name]
    failures, notes = [], []
    for run in runs:
        result = results[run.key]
        if not result.ok:
            if result.error.get("kind") == "not_done" or result.error.get("import"):
                return _error_result(todo, run, result.error)
            failures.append((run, _error_result(todo, run, result.error)))
            continue
        found = _run_problem(module, run, result.outputs, expectations)
        if found:
            problem, hint = found
            failures.append((run, TodoResult(todo, "wrong", f"用例「{run.what}」：{problem}",
                                             hint or "对照文档字符串里的步骤再检查一遍。", run.case.name)))
        else:
            note = _run_note(module, run, result.outputs, expectations)
            if note and note not in notes:
                notes.append(note)
    if todo.name == "dpo_train_step" and failures:
        # TODO 5 passes when it matches the reference end to end (inlined maths is fine), or when it
        # is wired right with the checker's stand-ins for TODO 1/2/4, so that a mistake in an earlier
        # TODO is not charged twice. Otherwise the stand-in case names TODO 5's own mistake.
        spied_failed = [(r, v) for r, v in failures if r.case.options.get("spies")]
        if len(spied_failed) == len(failures):
            return TodoResult(todo, "passed", f"{todo.label} 通过")
        if not spied_failed:
            return TodoResult(todo, "passed", f"{todo.label} 通过（TODO 1/2/4 里还有错误，修好它们后完整训练才会正确）")
        failures = spied_failed
    if failures:
        return failures[0][1]
    message = f"{todo.label} 通过：{len(runs)} 个用例的数值、梯度都与参考答案一致"
    if notes:
        return TodoResult(todo, "passed", f"{message}。建议（不扣分）：{' '.join(notes)}", " ".join(notes))
    return TodoResult(todo, "passed", message)
