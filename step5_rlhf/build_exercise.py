"""Generate the student file from the reference solution (one source, nbgrader-style markers)."""

import re
from pathlib import Path

from . import paths
from .todos import BY_NAME

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


def build(solution: Path = paths.SOLUTION, exercise: Path = paths.EXERCISE) -> bool:
    """Write the exercise; return True when it changed."""
    text = exercise_source(solution.read_text(encoding="utf-8"))
    if exercise.exists() and exercise.read_text(encoding="utf-8") == text:
        return False
    exercise.parent.mkdir(parents=True, exist_ok=True)
    exercise.write_text(text, encoding="utf-8")
    return True
