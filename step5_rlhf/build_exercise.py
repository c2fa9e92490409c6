"""Generate what students get from the reference solution: the exercise file and the expected outputs.

One source, nbgrader-style markers: each ``### BEGIN SOLUTION`` … ``### END SOLUTION`` block of
solutions/train_dpo_solution.py becomes a Chinese stub in exercises/train_dpo_exercise.py, and the
reference's (and the mistake catalogue's) outputs on the practice inputs become
step5_rlhf/checks/expected.json, so self-checks work without any reference code.
"""

import json
import re
from pathlib import Path

from . import paths
from .checks import expectations, registry
from .todos import BY_NAME, TODOS

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_BLOCK = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION\n", re.S | re.M)
_DEF = re.compile(r"^def (\w+)\(", re.M)


def _stub(indent: str, function: str) -> str:
    todo = BY_NAME.get(function)
    label = f"{todo.label}（{function}）" if todo else function
    return (
        f"{indent}# 在这里写你的代码，写完后删掉下面这行 raise。\n"
        f'{indent}raise NotImplementedError("{label}还没有完成")\n'
    )


def exercise_source(solution_source: str) -> str:
    """Replace each solution block by a Chinese stub naming its TODO."""
    begins, ends = (len(re.findall(rf"^[ \t]*{m}$", solution_source, re.M)) for m in (BEGIN, END))
    if begins != ends:
        raise ValueError(f"{BEGIN} 与 {END} 的数量不一致")

    def replace(match: re.Match) -> str:
        defs = _DEF.findall(solution_source, 0, match.start())
        if not defs:
            raise ValueError("答案块不在任何函数里")
        return _stub(match.group("indent"), defs[-1])

    out = _BLOCK.sub(replace, solution_source)
    if re.search(rf"^[ \t]*({BEGIN}|{END})$", out, re.M):
        raise ValueError("有没配对的答案标记")
    return out


def expected_data(solution: Path = None, mistakes: Path = None) -> dict:
    """The shipped expectations: reference and mistake outputs on every practice run."""
    live = expectations.LiveExpectations(solution or paths.SOLUTION, mistakes or paths.MISTAKES)
    return live.export(registry.practice_runs([t.name for t in TODOS]))


def stale(solution: Path = None, mistakes: Path = None, exercise: Path = None, expected: Path = None) -> list:
    """What is out of date (Chinese lines); empty when the exercise and expected.json match the solution."""
    solution, mistakes = solution or paths.SOLUTION, mistakes or paths.MISTAKES
    exercise, expected = exercise or paths.EXERCISE, expected or expectations.EXPECTED_FILE
    problems = []
    wanted = exercise_source(solution.read_text(encoding="utf-8"))
    if not exercise.is_file() or exercise.read_text(encoding="utf-8") != wanted:
        problems.append(f"{exercise} 与参考答案不同步")
    try:
        shipped = json.loads(expected.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        shipped = {}
    problems += [f"{expected.name}：{line}" for line in expectations.differences(shipped, expected_data(solution, mistakes))]
    return problems


def build_all() -> list:
    """Regenerate the exercise and expected.json; return the files that changed."""
    changed = [paths.EXERCISE] if build() else []
    if expectations.write(expected_data()):
        changed.append(expectations.EXPECTED_FILE)
    return changed


def build(solution: Path = None, exercise: Path = None) -> bool:
    """Write the exercise; return True when it changed."""
    solution, exercise = solution or paths.SOLUTION, exercise or paths.EXERCISE
    text = exercise_source(solution.read_text(encoding="utf-8"))
    if exercise.exists() and exercise.read_text(encoding="utf-8") == text:
        return False
    exercise.parent.mkdir(parents=True, exist_ok=True)
    exercise.write_text(text, encoding="utf-8")
    return True
