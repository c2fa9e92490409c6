"""`step5-rlhf course build COURSE_DIR`: the nbgrader course directory, regenerated from the repo.

    COURSE_DIR/
      nbgrader_config.py
      source/step5_rlhf/
        01_….ipynb …                 notebooks/*.ipynb (with solutions and hidden tests)
        train_dpo_exercise.py        the student stub, generated from solutions/ (never the solution)
        data/*.jsonl
"""

import json
import shutil
from pathlib import Path

from .. import paths
from ..build_exercise import exercise_source
from . import ASSIGNMENT, COURSE_ID, EXERCISE_FILE

CONFIG_TEMPLATE = '''\
# nbgrader 课程配置：由 `step5-rlhf course build` 生成，重新生成会覆盖本文件。
# 所有 nbgrader 命令都在本文件所在的目录里运行，例如：
#   nbgrader generate_assignment {assignment}
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, GetGrades, IgnorePattern,
                                    LimitOutput, SaveAutoGrades)

from step5_rlhf.course.preprocessors import HideHiddenTests, RestoreSkippedCells, SkipUngradedTail

c = get_config()  # noqa: F821 (nbgrader provides it)
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = here
c.CourseDirectory.course_id = "{course_id}"
# 不碰 /srv 和 $HOME：交换目录放在课程目录里（只用 collect/release_assignment 时才需要）
c.Exchange.root = os.path.join(here, "exchange")

# 隐藏测试（step5_rlhf.checks.nbgrader.assert_todo_passes）只在设置了这个环境变量时真正评分；
# nbgrader 启动的 kernel 继承本进程的环境变量。
os.environ["STEP5_RLHF_AUTOGRADE"] = "1"
# 评分时讲义必须使用作业文件夹里学生自己的练习文件，不能被外部的 STEP5_EXERCISE 改向别处。
os.environ.pop("STEP5_EXERCISE", None)

# autograde 默认用 source/ 里的同名文件覆盖学生提交的 .py；学生的练习文件必须保留。
c.Autograde.exclude_overwriting = {{"{assignment}": ["{exercise}"]}}

# 每个单元的时间上限（秒）。TODO 的检查各自在子进程里限时（每个用例 10 秒），
# 一个 TODO 死循环只让这个 TODO 不得分；这里再兜底学生自己在单元里写的死循环。
c.Execute.timeout = {timeout}

# 最后一个评分单元之后的代码单元（例如 04 讲义里的完整训练）不影响分数，自动评分时不运行，
# 学生的代码原样保留在评分后的 notebook 里。想照常运行它们：改成 False。
c.SkipUngradedTail.enabled = {skip_tail}
c.Autograde.autograde_preprocessors = [
    SkipUngradedTail, Execute, RestoreSkippedCells, IgnorePattern, ClearMetadataPreprocessor,
    LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]

# 学生版里替换答案的中文提示
c.ClearSolutions.code_stub = {{"python": "# 在这里写你的代码\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "在这里写下你的回答。"

# 反馈 HTML 不显示隐藏测试的代码和报错行（nbgrader 0.9.6 默认会显示）
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
'''


def config_text(timeout: int = 300, skip_tail: bool = True) -> str:
    return CONFIG_TEMPLATE.format(assignment=ASSIGNMENT, course_id=COURSE_ID, exercise=EXERCISE_FILE,
                                  timeout=timeout, skip_tail=skip_tail)


def _check_notebook(path: Path) -> None:
    """Refuse notebooks that nbgrader would silently mis-grade: a test cell needs a grade_id."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and (meta.get("grade") or meta.get("solution")) and not meta.get("grade_id"):
            raise ValueError(f"{path.name}：有评分/答案单元缺少 grade_id")


def build(course_dir, notebooks_dir=paths.NOTEBOOKS_DIR, force: bool = False, timeout: int = 300,
          skip_tail: bool = True) -> Path:
    """Write COURSE_DIR/source/step5_rlhf and nbgrader_config.py; return the assignment folder."""
    course_dir = Path(course_dir).resolve()
    notebooks = sorted(Path(notebooks_dir).glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"{notebooks_dir} 里没有 notebook")
    source = course_dir / "source" / ASSIGNMENT
    if source.exists():
        if not force:
            raise FileExistsError(f"{source} 已存在；加 --force 重新生成（会覆盖 source/{ASSIGNMENT}）")
        shutil.rmtree(source)
    source.mkdir(parents=True)

    for nb in notebooks:
        _check_notebook(nb)
        shutil.copy2(nb, source / nb.name)
    # The stub comes from the solution, so a stale exercises/ file can never leak into a release.
    stub = exercise_source(paths.SOLUTION.read_text(encoding="utf-8"))
    (source / EXERCISE_FILE).write_text(stub, encoding="utf-8")
    shutil.copytree(paths.DATA_DIR, source / "data", ignore=shutil.ignore_patterns(".*", "__pycache__"))
    (course_dir / "nbgrader_config.py").write_text(config_text(timeout, skip_tail), encoding="utf-8")
    _load_config(course_dir)
    return source


def _load_config(course_dir: Path):
    """Load the written config once: nbgrader only logs a config file that raises and runs without it."""
    import os

    from traitlets.config.loader import PyFileConfigLoader

    saved = dict(os.environ)
    try:
        return PyFileConfigLoader("nbgrader_config.py", path=str(course_dir)).load_config()
    finally:  # the config sets environment variables for nbgrader's kernels, not for us
        os.environ.clear()
        os.environ.update(saved)
