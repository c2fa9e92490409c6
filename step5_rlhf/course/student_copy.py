"""`step5-rlhf student DIR`: a student's working folder, for self-study from a clone.

The repository's notebooks/ are the nbgrader sources: every numeric answer sits in a visible
``### BEGIN SOLUTION`` block and every expected value in ``### BEGIN HIDDEN TESTS``. The student
folder gets the same notebooks nbgrader would release (nbgrader's own ClearSolutions,
ClearHiddenTests and ClearMarkScheme, the course's stubs), the exercise stub and data/.
"""

import shutil
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearOutput, ClearSolutions

from .. import paths
from ..build_exercise import exercise_source
from . import CODE_STUB, TEXT_STUB
from .builder import copy_data


def student_notebook(nb):
    """The released form of an instructor notebook (same cell sources as `nbgrader generate_assignment`)."""
    resources = {}
    for preprocessor in (ClearSolutions(code_stub={"python": CODE_STUB}, text_stub=TEXT_STUB),
                         ClearOutput(), ClearHiddenTests(), ClearMarkScheme()):
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def make_student_folder(dest, force: bool = False) -> Path:
    """Write the notebooks (student form), train_dpo_exercise.py and data/ into `dest`; return it."""
    if not paths.repo_mode():
        raise FileNotFoundError("step5-rlhf student 只能在课程仓库里运行")
    dest = Path(dest).resolve()
    if dest.exists() and any(dest.iterdir()):
        if not force:
            raise FileExistsError(f"{dest} 已存在而且不是空的；加 --force 覆盖（你在里面写的代码会丢失）")
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for source in sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb")):
        nbformat.write(student_notebook(nbformat.read(source, as_version=4)), dest / source.name)
    (dest / paths.EXERCISE_NAME).write_text(exercise_source(paths.SOLUTION.read_text(encoding="utf-8")),
                                            encoding="utf-8")
    copy_data(dest / "data")
    return dest
