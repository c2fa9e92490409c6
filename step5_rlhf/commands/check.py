"""`step5-rlhf check [TODO…] [--submission PATH]`: the student's self-check in a terminal."""


def configure(parser):
    parser.add_argument("todos", nargs="*", metavar="TODO", help="要检查的 TODO：编号 1-7 或函数名（6、7 是选做）；不写就检查全部")
    parser.add_argument("--submission", default=None, metavar="PATH",
                        help="要检查的 .py 文件（默认：当前文件夹里的 train_dpo_exercise.py）")


def run(args) -> int:
    from pathlib import Path

    from .. import paths
    from ..assess import check_submission
    from ..checks.report import format_report
    from ..todos import select

    try:
        todos = [t.name for t in select(args.todos)]
        path = Path(args.submission) if args.submission else paths.find_exercise()
    except (ValueError, FileNotFoundError) as exc:
        print(exc)
        return 2
    if not path.is_file():
        print(f"找不到文件：{path}")
        return 2
    results = check_submission(path, todos)
    print(format_report(results, title=f"检查 {path}"))
    return 0 if all(r.acceptable for r in results) else 1  # an untouched optional TODO is fine
