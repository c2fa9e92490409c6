"""讲义（notebook）的辅助函数：找到练习文件、设置中文字体、检查 TODO、在 TODO 没完成时怎么办。

每本讲义的第一个代码单元都这样开头：

    from step5_rlhf.notebook_support import setup
    EXERCISE = setup()          # 让 `import train_dpo_exercise` 指向你的练习文件

需要用到你写的函数时：

    from step5_rlhf.notebook_support import use_student_or_reference
    impl = use_student_or_reference(["dpo_loss", "sequence_log_probs"])

练习文件的查找顺序见 `step5_rlhf.paths.find_exercise`：环境变量 STEP5_EXERCISE、讲义旁边（当前文件夹）、
仓库的 exercises/。TODO 还没通过检查时：在课程仓库里改用参考答案（并打印一行说明）；
在学生环境里（没有参考答案）打印该先完成哪个 TODO，返回 None，后面的单元据此跳过，不会报错。
"""

import os
import sys
from pathlib import Path

from . import paths
from .modules import load_file
from .todos import CORE, select

MODULE_NAME = "train_dpo_exercise"

# Printed when a cell falls back to the reference solution / skips; the tests look for these texts.
FALLBACK_MARK = "改用参考答案"
SKIP_MARK = "先跳过"
AUTOGRADE_NOTE = "自动评分中：TODO 的分数由评分程序在 notebook 之外检查练习文件得出，这里不再重复检查。"

# The course's own notebook tests set this: lesson experiments then run a tiny setting, which only
# checks that a lesson runs top to bottom (the full settings are what students run, and benchmarks/).
SMOKE_ENV = "STEP5_RLHF_LESSON_SMOKE"
SMOKE_NOTE = "（测试用的极小设置：只检查讲义能从头跑到尾，下面的数没有意义）"

_state = {"exercise": None, "checked": {}}


def autograding() -> bool:
    """nbgrader sets NBGRADER_EXECUTION=autograde while it runs a submission's kernel."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def smoke_test() -> bool:
    return bool(os.environ.get(SMOKE_ENV))


def _prepare_import(path: Path) -> None:
    """让 `import train_dpo_exercise` 载入 path 这个文件（而不是别处同名的文件）。"""
    folder = str(path.parent)
    if folder in sys.path:
        sys.path.remove(folder)
    sys.path.insert(0, folder)
    loaded = sys.modules.get(MODULE_NAME)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() != path:
        del sys.modules[MODULE_NAME]  # an older import from another folder; the next import finds ours


def setup_fonts():
    """设置 matplotlib 的中文字体；返回字体名，没有中文字体时返回 None（图里改用英文标签）。"""
    from .plots import setup_chinese_font

    return setup_chinese_font()


def quiet_library_progress_bars() -> None:
    """关掉 transformers 读写模型权重时的进度条（讲义输出更干净）；训练本身的进度条不受影响。"""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # read when transformers is imported
    if "transformers" in sys.modules:  # already imported in this kernel
        sys.modules["transformers"].utils.logging.disable_progress_bar()


def shown_path(path: Path) -> str:
    """The path as the student sees it: relative to the notebook's folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def setup(verbose=True) -> Path:
    """讲义第一个代码单元调用：找到练习文件、准备好 import、设置中文字体。返回练习文件路径。"""
    path = paths.find_exercise()
    _prepare_import(path)
    _state["exercise"] = path
    quiet_library_progress_bars()
    font = setup_fonts()
    if verbose:
        print(f"练习文件：{shown_path(path)}")
        print(f"画图字体：{font}" if font else "画图字体：没有找到中文字体，图里的文字改用英文")
    return path


def exercise_path() -> Path:
    """setup() 找到的练习文件（还没调用 setup 时现找一次）。"""
    return _state["exercise"] or paths.find_exercise()


def load_module(path, name=None):
    """按路径把一个 .py 文件载入成新的模块对象（每次都重新执行文件，能拿到最新保存的代码）。"""
    path = Path(path).resolve()
    name = name or f"_step5_notebook_{abs(hash((str(path), path.stat().st_mtime_ns)))}"
    return load_file(path, name)


# ---------------------------------------------------------------- checks
def check_exercise(path, todos=()):
    """练习文件里 test_*() 调用的检查：返回一张结果表（在 notebook 里显示成表格），全部通过时为真。

    检查在单独的子进程里运行你保存在磁盘上的文件，和预先算好的正确结果比较；从不抛出异常。
    """
    from .assess import CheckFailure, check_file, kept_server

    if autograding():
        return CheckFailure(AUTOGRADE_NOTE)
    return check_file(path, todos, server=kept_server())


class TodoCheckFailed(AssertionError):
    """A graded check cell's failure: one short Chinese line in the notebook, no traceback."""

    def _render_traceback_(self):  # IPython shows this instead of the traceback
        return [f"❌ {self}"]


def assert_todo(name) -> None:
    """评分单元调用：这个 TODO 没通过检查时抛出一行中文的 AssertionError（nbgrader 的 Validate 会显示它）。

    自动评分时什么也不做：分数由评分程序在 notebook 之外检查练习文件得出。
    """
    from IPython.display import display

    from .assess import check_submission, kept_server
    from .checks.report import format_report, report_html

    (todo,) = select([name])
    if autograding():
        print(AUTOGRADE_NOTE)
        return
    (result,) = check_submission(exercise_path(), [todo.name], server=kept_server())
    if result.acceptable and not result.passed:  # an optional TODO left untouched: costs nothing
        print(f"⬜ {result.message}")
        return
    if not result.passed:
        raise TodoCheckFailed(f"{todo.label}（{todo.name}）{result.message if result.status != 'not_done' else '还没有完成'}"
                              + (f"。提示：{result.hint}" if result.hint and result.status != "not_done" else ""))
    display({"text/html": report_html([result]), "text/plain": format_report([result])}, raw=True)


def unfinished_todos(todos, path=None) -> list:
    """todos 里还没通过检查的 TODO（Todo 对象的列表）。同一个文件没改过就不重复检查。"""
    from .assess import check_submission, kept_server

    path = Path(path or exercise_path()).resolve()
    chosen = select(todos)
    key = (str(path), path.stat().st_mtime_ns, tuple(t.name for t in chosen))
    if key not in _state["checked"]:
        try:
            results = check_submission(path, [t.name for t in chosen], server=kept_server())
            _state["checked"][key] = [r.todo for r in results if not r.passed]
        except Exception as error:  # a broken checker must not stop the lesson
            print(f"⚠️ 检查器出错（{type(error).__name__}: {error}），当作还没完成处理。")
            return list(chosen)
    return _state["checked"][key]


def use_student_or_reference(todos=None, path=None):
    """todos 都通过检查时返回你的练习模块；否则在课程仓库里返回参考答案模块，在学生环境里返回 None。

    返回的模块多一个属性 STEP5_SOURCE："student" 或 "reference"。返回 None 时已打印该先完成哪些 TODO，
    后面用到它的单元会跳过。
    """
    path = Path(path or exercise_path()).resolve()
    todos = todos or [t.name for t in CORE]  # training needs the core TODOs; optional ones are asked for by name
    missing = unfinished_todos(todos, path)
    if not missing:
        module = load_module(path)
        module.STEP5_SOURCE = "student"
        print(f"✅ 用你自己的代码：{path.name}（{'、'.join(t.label for t in select(todos))} 都通过了检查）")
        return module
    names = "、".join(f"{t.label}（{t.name}）" for t in missing)
    if not paths.repo_mode():
        print(f"⏭ {names}还没有通过检查，下面用到它们的单元{SKIP_MARK}。完成并保存练习文件、通过检查后，重新运行这个单元。")
        return None
    module = load_module(paths.SOLUTION)
    module.STEP5_SOURCE = "reference"
    print(f"⚠️ 注意：{names}还没有通过检查，下面{FALLBACK_MARK}（{paths.SOLUTION.name}）来运行。")
    print("   完成并保存练习文件、通过检查后，重新运行这个单元，就会用上你自己的代码。")
    return module


def skipped(value, what="这个单元") -> bool:
    """value 是 None（TODO 还没完成、没有参考答案）时打印一行说明并返回 True：单元里写 `if not skipped(impl):`。"""
    if value is None:
        print("⏭ 自动评分中：这个单元不计分，跳过。" if autograding() else f"⏭ {what}{SKIP_MARK}：先完成上面提到的 TODO。")
        return True
    return False


# ---------------------------------------------------------------- tables
def percent(value) -> str:
    """0.123 → "12.3%": how the lessons' tables show rates."""
    return f"{value:.1%}"


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(headers, rows) -> str:
    """纯文本表格，按显示宽度对齐（一个汉字占两列）。"""
    table = [[str(h) for h in headers]] + [[str(v) for v in row] for row in rows]
    widths = [max(_width(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def show_table(headers, rows) -> None:
    """显示一张表：JupyterLab 里是 HTML 表格，纯文本环境里是对齐的文字表格。"""
    import html

    from IPython import get_ipython
    from IPython.display import display

    if get_ipython() is None:  # a plain Python process (a benchmark, a script): the text table
        print(format_table(headers, rows))
        return
    cell = 'style="text-align:left;padding:2px 10px"'
    head = "".join(f"<th {cell}>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td {cell}>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    display({"text/html": f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
             "text/plain": format_table(headers, rows)}, raw=True)
