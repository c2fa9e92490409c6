"""`step5-rlhf course build COURSE_DIR`: the nbgrader course directory, regenerated from the repo.

    COURSE_DIR/
      nbgrader_config.py
      source/step5_rlhf/
        01_….ipynb …                 notebooks/*.ipynb (with solutions and hidden tests)
        train_dpo_exercise.py        the student stub, generated from solutions/ (never the solution)
        data/*.jsonl
      grading/                       instructor-only: reference, mistake catalogue, grading seed
      dist/step5_rlhf-*.whl          the package students install (no reference code in it)
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from .. import paths
from ..assess import GRADING_FILE, write_grading_folder
from ..build_exercise import exercise_source
from . import ASSIGNMENT, CODE_STUB, COURSE_ID, EXERCISE_FILE, GRADING_DIR, TEXT_STUB

CONFIG_TEMPLATE = '''\
# nbgrader 课程配置：由 `step5-rlhf course build` 生成，重新生成会覆盖本文件。
# 所有 nbgrader 命令都在本文件所在的目录里运行，例如：
#   nbgrader generate_assignment {assignment}
import os

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, GetGrades,
                                    IgnorePattern, LimitOutput, OverwriteKernelspec, SaveAutoGrades)

from step5_rlhf.course.autograde import (ExecuteWhenAsked, GradeOutsideKernel, OverwriteReleasedCells,
                                         SaveBonusCredit, WriteOutsideGrades)
from step5_rlhf.course.feedback import HideHiddenTests, OfflineFeedbackExporter, RenderMath

c = get_config()  # noqa: F821 (nbgrader provides it)
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = here
c.CourseDirectory.course_id = "{course_id}"
# 不碰 /srv 和 $HOME：交换目录放在课程目录里（只用 collect/release_assignment 时才需要）
c.Exchange.root = os.path.join(here, "exchange")
# 评分时讲义必须使用作业文件夹里学生自己的练习文件，不能被外部的 STEP5_EXERCISE 改向别处。
os.environ.pop("STEP5_EXERCISE", None)

# autograde 默认用 source/ 里的同名文件覆盖学生提交的 .py；学生的练习文件必须保留。
c.Autograde.exclude_overwriting = {{"{assignment}": ["{exercise}"]}}

# 锁定的单元：与发布版相同的不再报“checksum has changed”，只有真被改过的才警告；被删掉的评分单元补回来。
c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteReleasedCells,
                                      CheckCellMetadata]
c.OverwriteReleasedCells.add_missing_cells = True

# 分数都在 notebook 之外算出，notebook 里的代码改变不了它们：
# TODO 由隔离的评分程序检查 {exercise}（参考答案、常见错误目录、评分种子在 {grading}/，只给教师），
# 数值题把答案单元单独放进沙箱运行，再用评分单元（含隐藏测试）检查它给出的数。
c.GradeOutsideKernel.grading_dir = os.path.join(here, "{grading}")
# 没有分数依赖 kernel，所以默认不运行讲义（每名学生约 1 秒）。想在评分后的讲义里看到输出，改成 True：
# 运行时跳过标了 skip-autograde 的单元（训练、画图）。
c.ExecuteWhenAsked.run_notebooks = {run_notebooks}
c.Execute.timeout = {timeout}
c.Autograde.autograde_preprocessors = [
    GradeOutsideKernel, ExecuteWhenAsked, WriteOutsideGrades, IgnorePattern, ClearMetadataPreprocessor,
    LimitOutput, SaveAutoGrades, SaveBonusCredit, AssignLatePenalties, CheckCellMetadata,
]
# 选做的 TODO 6、7：评分单元 0 分，通过时记为 extra credit（加分另计，不改变满分）。

# 学生版里替换答案的中文提示
c.ClearSolutions.code_stub = {{"python": {code_stub!r}}}
c.ClearSolutions.text_stub = {text_stub!r}

# 反馈 HTML：不显示隐藏测试；公式在这里转成 MathML，页面不从 CDN 加载 MathJax，离线也能看。
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, RenderMath, CSSHTMLHeaderPreprocessor]
c.GenerateFeedback.exporter_class = OfflineFeedbackExporter
'''

def config_text(timeout: int = 300, run_notebooks: bool = False) -> str:
    return CONFIG_TEMPLATE.format(assignment=ASSIGNMENT, course_id=COURSE_ID, exercise=EXERCISE_FILE,
                                  timeout=timeout, grading=GRADING_DIR, code_stub=CODE_STUB, text_stub=TEXT_STUB,
                                  run_notebooks=run_notebooks)


def _check_notebook(path: Path) -> None:
    """Refuse notebooks that nbgrader would silently mis-grade: a test cell needs a grade_id."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta and (meta.get("grade") or meta.get("solution")) and not meta.get("grade_id"):
            raise ValueError(f"{path.name}：有评分/答案单元缺少 grade_id")


def build(course_dir, notebooks_dir=paths.NOTEBOOKS_DIR, force: bool = False, timeout: int = 300,
          seed=None, wheel: bool = True, run_notebooks: bool = False) -> Path:
    """Write source/, grading/, dist/ and nbgrader_config.py under COURSE_DIR; return the assignment folder.

    The grading seed is `seed`, else the one an earlier build wrote (so a rebuild grades like before),
    else a new random one.
    """
    if not paths.repo_mode():
        raise FileNotFoundError("course build 只能在课程仓库里运行（需要 solutions/ 里的参考答案和 notebooks/）")
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
    copy_data(source / "data")
    grading = course_dir / GRADING_DIR
    if seed is None and (grading / GRADING_FILE).is_file():
        seed = json.loads((grading / GRADING_FILE).read_text(encoding="utf-8"))["seed"]
    write_grading_folder(grading, seed)
    if wheel:
        build_wheel(course_dir / "dist")
    (course_dir / "nbgrader_config.py").write_text(config_text(timeout, run_notebooks), encoding="utf-8")
    _load_config(course_dir)
    return source


def copy_data(dest: Path) -> None:
    shutil.copytree(paths.DATA_DIR, dest, ignore=shutil.ignore_patterns(".*", "__pycache__"))


def build_wheel(out_dir: Path) -> Path:
    """The package as a wheel (what students install): no solutions/, no tests, no notebooks."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("step5_rlhf-*.whl"):
        old.unlink()
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out_dir), str(paths.ROOT)], capture_output=True, text=True)
    wheels = sorted(out_dir.glob("step5_rlhf-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise RuntimeError(f"打包 wheel 失败：{proc.stderr.strip()[-500:]}")
    return wheels[-1]


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
