"""载入学生（或参考答案）的函数，并在训练前逐个试跑，尽早发现还没完成的 TODO。

训练一定要 TODO 1–5；选做的 TODO 6、7 只在用到时才要（--loss-type 不是 sigmoid 时要 TODO 6，
compare 的奖励模型用 TODO 7）。"""

from pathlib import Path

from .. import paths
from ..checks import registry
from ..checks.case import run_case
from ..modules import load_file
from ..todos import BY_NAME, CORE

NAMES = tuple(todo.name for todo in CORE)


class ImplementationError(Exception):
    """练习文件不能用来训练（缺函数、语法错误、试跑出错）；消息是一行中文。"""


class TodoNotImplementedError(ImplementationError):
    """练习文件里还有没完成的 TODO（函数仍然 raise NotImplementedError）。"""


def resolve_path(impl="auto") -> Path:
    """"auto" / "solution" / "exercise" / 文件路径 → 文件路径。

    auto：课程仓库里用参考答案，学生环境里用当前文件夹的练习文件。参考答案只在仓库里有。
    """
    if impl in (None, "auto"):
        impl = "solution" if paths.repo_mode() else "exercise"
    if impl == "solution":
        if not paths.repo_mode():
            raise ImplementationError("这里没有参考答案（它只在课程仓库里）：用 --impl exercise 训练你自己的代码")
        return paths.SOLUTION
    if impl == "exercise":
        try:
            return paths.find_exercise()
        except FileNotFoundError as error:
            raise ImplementationError(str(error)) from None
    return Path(impl).expanduser().resolve()


def load_impl(impl="auto", also=()):
    """按路径把文件当模块载入，返回模块对象（不试跑）；TODO 1–5 和 also 里的函数都要有。"""
    path = resolve_path(impl)
    if not path.is_file():
        raise ImplementationError(f"找不到实现文件：{path}")
    name = f"_step5_impl_{abs(hash(str(path)))}"
    try:
        module = load_file(path, name)
    except Exception as error:  # a syntax error or a bad import in student code
        raise ImplementationError(f"载入 {path} 失败：{type(error).__name__}: {error}") from None
    missing = [n for n in (*NAMES, *also) if not callable(getattr(module, n, None))]
    if missing:
        raise ImplementationError(f"{path} 里缺少函数：{'、'.join(missing)}")
    return module


def _probes(module, names):
    # The first check case of each TODO: small, seeded, and built by hand (an unfinished TODO 3
    # does not hide TODO 5, whose case brings its own batch and tiny model).
    for name in names:
        case = registry.cases_for(name)[0]
        yield name, lambda case=case: run_case(module, case, case.seed)


def probe(module, also=()) -> None:
    """在极小的输入上试跑 TODO 1–5（和 also 里的选做 TODO）；有没完成或出错的就抛出一行中文的异常。"""
    unfinished, broken = [], None
    for name, call in _probes(module, (*NAMES, *also)):
        try:
            call()
        except NotImplementedError as error:
            # dpo_train_step calls the other four: only blame TODO 5 when its own stub raised.
            if name != "dpo_train_step" or "dpo_train_step" in str(error) or not unfinished:
                unfinished.append(name)
        except Exception as error:  # noqa: BLE001 - any bug in student code becomes one clear line
            if broken is None and not unfinished:
                broken = (name, error)
    if unfinished:
        names = "、".join(f"{BY_NAME[n].label}（{n}）" for n in unfinished)
        them = "它" if len(unfinished) == 1 else "它们"
        alternative = "，或用 --impl solution 运行参考答案" if paths.repo_mode() else ""
        raise TodoNotImplementedError(f"{names}还没有完成：先完成{them}{alternative}")
    if broken:
        name, error = broken
        raise ImplementationError(
            f"{BY_NAME[name].label}（{name}）试跑时出错：{type(error).__name__}: {error}。"
            f"先运行 step5-rlhf check {BY_NAME[name].number} 看看哪里不对"
        )


def load_checked(impl="auto", also=()):
    """载入并试跑（TODO 1–5 和 also 里的选做 TODO）；返回模块。"""
    module = load_impl(impl, also)
    probe(module, also)
    return module
