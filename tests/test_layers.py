"""The package's layers import downward only: pure checks at the bottom, front ends on top.

    todos, paths, modules, plots, world  the contract, small helpers, the toy world's tables
    checks                               pure logic: cases, expected outputs, comparison, verdicts
    grading                              running untrusted code (sandboxed children)
    assess, build_exercise               run + judge; generate what students get
    batch_grading, training, notebook_support, course    front ends and the training run
    rlhf                                 reward model, PPO, best-of-N and the frontier (on top of training)
    commands                             the CLI
"""

import ast
from pathlib import Path

import pytest

import step5_rlhf

PACKAGE = Path(step5_rlhf.__file__).parent
BASE = {"todos", "paths", "modules", "plots"}
ALLOWED = {
    "todos": set(), "paths": set(), "modules": set(), "plots": set(), "world": {"world"},
    "checks": {"checks", "todos", "modules", "paths"},
    "grading": {"grading", "checks", "todos"},
    "assess": {"checks", "grading"} | BASE,
    "build_exercise": {"checks"} | BASE,
    "batch_grading": {"assess", "checks", "grading"} | BASE,
    "training": {"training", "checks", "world"} | BASE,
    "rlhf": {"rlhf", "training", "world"} | BASE,
    "notebook_support": {"assess", "checks", "training"} | BASE,
    "lesson_figures": BASE,
    "lesson_training": {"notebook_support", "training"} | BASE,
    "lesson_data": {"notebook_support", "training", "world"} | BASE,
    "lesson_compare": {"notebook_support", "training", "rlhf"} | BASE,
    "lesson_variants": {"notebook_support", "training"} | BASE,
    "course": {"course", "assess", "batch_grading", "build_exercise", "checks", "grading"} | BASE,
    "commands": {"commands", "assess", "batch_grading", "build_exercise", "checks", "course", "grading", "training",
                 "rlhf", "notebook_support"} | BASE,
    "cli": set(), "__init__": set(), "__main__": {"cli"},
}


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set:
    package = ["step5_rlhf", *path.relative_to(PACKAGE).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [alias.name] for alias in node.names] if not node.module else [target]
            else:
                names = [node.module.split(".")] if node.module else []
        elif isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        else:
            continue
        for name in names:
            if name[0] == "step5_rlhf" and len(name) > 1:
                found.add(name[1])
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_downward_only(path):
    layer = _layer(path)
    assert layer in ALLOWED, f"{layer}: 新的一层，请在 ALLOWED 里写明它能导入什么"
    illegal = _imported_layers(path) - ALLOWED[layer] - {layer}
    assert not illegal, f"{path.relative_to(PACKAGE)} 导入了上层 {sorted(illegal)}"


def test_checks_and_grading_do_not_import_each_other_in_a_cycle():
    assert "grading" not in ALLOWED["checks"] and "checks" in ALLOWED["grading"]
