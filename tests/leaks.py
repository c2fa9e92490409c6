"""The lines of reference answer code, to look for in whatever a student gets."""

import re

from step5_rlhf import paths

SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
# Lines of the answers that are generic PyTorch idioms, not answers (TODO 5's docstring names the
# zero_grad → backward → step order on purpose; library code uses no_grad for its own work).
GENERIC = {"with torch.no_grad():", "loss.backward()", "optimizer.step()", "optimizer.zero_grad(set_to_none=True)",
           "if not examples:"}


def answer_lines(extra_sources=()) -> set:
    """Every line (stripped, longer than 12 characters) of the solution blocks and of the mistake
    catalogue's code, minus lines the student file shows anyway (signatures, docstrings)."""
    solution = paths.SOLUTION.read_text(encoding="utf-8")
    lines = {line.strip() for block in SOLUTION_BLOCK.findall(solution) for line in block.splitlines()}
    mistakes = paths.MISTAKES.read_text(encoding="utf-8")
    lines |= {line.strip() for line in mistakes.splitlines() if "(" in line and not line.strip().startswith(("#", '"'))}
    for source in extra_sources:
        lines |= {line.strip() for line in source.splitlines()}
    shown = set(line.strip() for line in SOLUTION_BLOCK.sub("", solution).splitlines())
    shown |= seed_demo_lines()
    return {line for line in lines if len(line) > 12 and line not in shown and line not in GENERIC}


def leaked(text: str, lines: set) -> list:
    """The answer lines that appear as a line of `text` (compared stripped)."""
    return sorted(lines & {line.strip() for line in text.splitlines()})


def seed_demo_lines() -> set:
    """The seed lesson's `demo_dpo_loss` (notebook 03) computes TODO 1 step by step on purpose."""
    import json

    nb = json.loads((paths.NOTEBOOKS_DIR / "03_dpo_loss.ipynb").read_text(encoding="utf-8"))
    demo = next("".join(c["source"]) for c in nb["cells"] if "def demo_dpo_loss" in "".join(c["source"]))
    return {line.strip() for line in demo.splitlines()}
