"""讲义（notebooks/）的辅助函数：找到练习文件、设置中文字体、在 TODO 没完成时改用参考答案。

每本讲义的第一个代码单元都这样开头：

    from step5_rlhf.notebook_support import setup
    EXERCISE = setup()          # 让 `import train_dpo_exercise` 指向你的练习文件

需要用到你写的函数时：

    from step5_rlhf.notebook_support import use_student_or_reference
    impl = use_student_or_reference(["dpo_loss", "sequence_log_probs"])

练习文件按下面的顺序查找（第一个存在的就用）：

1. 环境变量 STEP5_EXERCISE（一个 .py 文件，或含 train_dpo_exercise.py 的文件夹）——测试用它；
2. 当前目录下的 train_dpo_exercise.py——nbgrader 作业文件夹里，练习文件就在讲义旁边；
3. 当前目录上一级的 exercises/train_dpo_exercise.py——在仓库的 notebooks/ 里打开讲义时；
4. 仓库里的 exercises/train_dpo_exercise.py。
"""

import os
import sys
from pathlib import Path

from . import paths
from .modules import load_file
from .todos import select

ENV_VAR = "STEP5_EXERCISE"
MODULE_NAME = "train_dpo_exercise"
FILE_NAME = MODULE_NAME + ".py"

# Shown when a cell falls back to the reference solution; the tests look for this text.
FALLBACK_MARK = "改用参考答案"

_state = {"exercise": None, "checked": {}}


def find_exercise() -> Path:
    """练习文件的路径（查找顺序见模块说明）；找不到时抛出一行中文的 FileNotFoundError。"""
    override = os.environ.get(ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if path.is_dir():
            path = path / FILE_NAME
        if not path.is_file():
            raise FileNotFoundError(f"环境变量 {ENV_VAR}={override}，但那里没有练习文件 {FILE_NAME}")
        return path.resolve()
    here = Path.cwd()
    for candidate in (here / FILE_NAME, here.parent / "exercises" / FILE_NAME, paths.EXERCISE):
        if candidate.is_file():
            return candidate.resolve()
    raise FileNotFoundError(f"找不到练习文件 {FILE_NAME}：把它放在讲义旁边，或在仓库的 notebooks/ 里打开讲义")


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


def setup(verbose=True) -> Path:
    """讲义第一个代码单元调用：找到练习文件、准备好 import、设置中文字体。返回练习文件路径。"""
    path = find_exercise()
    _prepare_import(path)
    _state["exercise"] = path
    quiet_library_progress_bars()
    font = setup_fonts()
    if verbose:
        print(f"练习文件：{path}")
        print(f"画图字体：{font}" if font else "画图字体：没有找到中文字体，图里的文字改用英文")
    return path


def exercise_path() -> Path:
    """setup() 找到的练习文件（还没调用 setup 时现找一次）。"""
    return _state["exercise"] or find_exercise()


def load_module(path, name=None):
    """按路径把一个 .py 文件载入成新的模块对象（每次都重新执行文件，能拿到最新保存的代码）。"""
    path = Path(path).resolve()
    name = name or f"_step5_notebook_{abs(hash((str(path), path.stat().st_mtime_ns)))}"
    return load_file(path, name)


def unfinished_todos(todos, path=None) -> list:
    """todos 里还没通过检查的 TODO（Todo 对象的列表）。同一个文件没改过就不重复检查。"""
    from .checks import check_submission

    path = Path(path or exercise_path()).resolve()
    chosen = select(todos)
    key = (str(path), path.stat().st_mtime_ns, tuple(t.name for t in chosen))
    if key not in _state["checked"]:
        try:
            results = check_submission(path, [t.name for t in chosen])
            _state["checked"][key] = [r.todo for r in results if not r.passed]
        except Exception as error:  # a broken checker must not stop the lesson: use the reference
            print(f"⚠️ 检查器出错（{type(error).__name__}: {error}），当作还没完成处理。")
            return list(chosen)
    return _state["checked"][key]


def use_student_or_reference(todos=None, path=None):
    """todos 都通过检查时返回你的练习模块，否则返回参考答案模块，并打印一行中文说明。

    返回的模块多一个属性 STEP5_SOURCE："student" 或 "reference"。
    """
    path = Path(path or exercise_path()).resolve()
    missing = unfinished_todos(todos, path)
    if not missing:
        module = load_module(path)
        module.STEP5_SOURCE = "student"
        print(f"✅ 用你自己的代码：{path.name}（{'、'.join(t.label for t in select(todos))} 都通过了检查）")
        return module
    if not paths.SOLUTION.is_file():
        raise FileNotFoundError(f"{'、'.join(t.label for t in missing)} 还没有通过检查，而参考答案 {paths.SOLUTION} 不存在")
    module = load_module(paths.SOLUTION)
    module.STEP5_SOURCE = "reference"
    names = "、".join(f"{t.label}（{t.name}）" for t in missing)
    print(f"⚠️ 注意：{names}还没有通过检查，下面{FALLBACK_MARK}（{paths.SOLUTION.name}）来运行。")
    print("   完成并保存练习文件、通过检查后，重新运行这个单元，就会用上你自己的代码。")
    return module


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
    """显示一张表：JupyterLab 里是 Markdown 表格，纯文本环境里是对齐的文字表格。"""
    from IPython.display import display

    cells = [[str(v).replace("|", "\\|") for v in row] for row in rows]
    markdown = "\n".join(
        ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
        + ["| " + " | ".join(row) + " |" for row in cells]
    )
    display({"text/markdown": markdown, "text/plain": format_table(headers, rows)}, raw=True)
