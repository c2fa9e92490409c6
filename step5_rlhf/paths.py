"""Where the course files are, in the two ways this package is used.

* Repo mode (instructor, maintainer, self-study from a clone): the package runs from a checkout
  that has ``solutions/``. The reference solution, the mistake catalogue, the notebooks and the
  data live there, and the constants below point at them.
* Student mode: the package is installed (for example from the wheel ``course build`` makes) and
  none of that exists. Everything a student runs resolves from the folder they work in: the
  exercise next to the notebook, ``./data`` of the release, runs written under ``./runs``.

``STEP5_RLHF_STUDENT_MODE=1`` forces student mode inside a checkout (tests use it).
"""

import os
from pathlib import Path

EXERCISE_NAME = "train_dpo_exercise.py"
SOLUTION_NAME = "train_dpo_solution.py"
MISTAKES_NAME = "mistakes.py"

# The repository layout (only meaningful in repo mode).
ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / SOLUTION_NAME
MISTAKES = ROOT / "solutions" / MISTAKES_NAME
EXERCISE = ROOT / "exercises" / EXERCISE_NAME
DATA_DIR = ROOT / "data"
NOTEBOOKS_DIR = ROOT / "notebooks"

STUDENT_MODE_ENV = "STEP5_RLHF_STUDENT_MODE"
EXERCISE_ENV = "STEP5_EXERCISE"
DATA_ENV = "STEP5_DATA"
CACHE_ENV = "STEP5_RLHF_CACHE"


def repo_mode() -> bool:
    """True in a checkout with the reference solution (and not forced into student mode)."""
    return os.environ.get(STUDENT_MODE_ENV) != "1" and SOLUTION.is_file()


def find_exercise(where=None) -> Path:
    """The student's exercise file; FileNotFoundError (one Chinese line) when there is none.

    Looked for in this order: $STEP5_EXERCISE (a file, or a folder holding it); ``where`` (default:
    the current folder), i.e. next to the notebook; its ``exercises/`` (the repository root); its
    parent's ``exercises/`` (a notebook opened in the repository's ``notebooks/``); the repository's.
    """
    override = os.environ.get(EXERCISE_ENV)
    if override:
        path = Path(override).expanduser()
        if path.is_dir():
            path = path / EXERCISE_NAME
        if not path.is_file():
            raise FileNotFoundError(f"环境变量 {EXERCISE_ENV}={override}，但那里没有练习文件 {EXERCISE_NAME}")
        return path.resolve()
    here = Path(where or Path.cwd())
    candidates = [here / EXERCISE_NAME, here / "exercises" / EXERCISE_NAME, here.parent / "exercises" / EXERCISE_NAME]
    if repo_mode():
        candidates.append(EXERCISE)
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    raise FileNotFoundError(f"找不到练习文件 {EXERCISE_NAME}：在练习文件所在的文件夹里运行（或把它放在讲义旁边）")


def find_data_dir(explicit=None) -> Path:
    """The folder with train.jsonl / eval.jsonl: ``explicit``, $STEP5_DATA, ./data, ../data, the repository's."""
    if explicit:
        return Path(explicit).expanduser()
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser()
    here = Path.cwd()
    candidates = [here / "data", here.parent / "data"] + ([DATA_DIR] if repo_mode() else [])
    for candidate in candidates:
        if (candidate / "train.jsonl").is_file():
            return candidate
    raise FileNotFoundError("找不到数据文件夹 data/（里面应有 train.jsonl）：在课程文件夹里运行，或用 --data 指定")


def runs_dir() -> Path:
    """Training runs go under the folder the student works in."""
    return Path.cwd() / "runs"


def cache_dir() -> Path:
    """Per-user cache (the SFT warm start): $STEP5_RLHF_CACHE, else $XDG_CACHE_HOME/step5_rlhf or ~/.cache/step5_rlhf."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "step5_rlhf"
