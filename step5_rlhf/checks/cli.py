"""`step5-rlhf check [TODO…] [--submission PATH]`."""

from .. import paths
from ..todos import select
from .report import format_report


def configure(parser):
    parser.add_argument("todos", nargs="*", metavar="TODO", help="要检查的 TODO：编号 1-5 或函数名；不写就检查全部")
    parser.add_argument("--submission", default=str(paths.EXERCISE), metavar="PATH",
                        help="要检查的 .py 文件（默认：exercises/train_dpo_exercise.py）")


def run(args) -> int:
    from pathlib import Path

    from . import check_submission

    try:
        todos = [t.name for t in select(args.todos)]
    except ValueError as exc:
        print(exc)
        return 2
    if not Path(args.submission).is_file():
        print(f"找不到文件：{args.submission}")
        return 2
    results = check_submission(args.submission, todos)
    print(format_report(results, title=f"检查 {args.submission}"))
    return 0 if all(r.passed for r in results) else 1
