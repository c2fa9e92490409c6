"""`step5-rlhf grade PATH… [--seed N | --course DIR] [--json FILE] [--csv FILE] [--jobs N]`.

Instructor grading of many exercise files, against the live reference: in the repository, or
with the reference and grading seed of a course built by `step5-rlhf course build` (--course).
Exit code 0 once grading finished, whatever the scores; 2 for usage errors.
"""


def configure(parser):
    from ..grading.runner import Limits

    defaults = Limits()
    parser.add_argument("paths", nargs="+", metavar="PATH", help="练习文件，或包含 .py 文件的目录（递归查找）")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--seed", type=int, default=None, metavar="N",
                        help="评分种子：决定评分用的新输入（默认随机，并写进报告，用同一个种子可以复现分数）")
    source.add_argument("--course", metavar="DIR", help="课程目录（step5-rlhf course build 生成）：用它的参考答案和评分种子")
    parser.add_argument("--json", metavar="FILE", help="把每份作业的分数与说明写成 JSON")
    parser.add_argument("--csv", metavar="FILE", help="把分数写成 CSV（每份作业一行，每个 TODO 一列）")
    parser.add_argument("--jobs", type=int, default=2, metavar="N", help="同时评分的文件数（默认 2）")
    parser.add_argument("--case-seconds", type=float, default=defaults.case_seconds, metavar="S",
                        help=f"每个用例的时间限制，秒（默认 {defaults.case_seconds:g}）")
    parser.add_argument("--import-seconds", type=float, default=defaults.import_seconds, metavar="S",
                        help=f"导入文件（运行模块顶层代码）的时间限制，秒（默认 {defaults.import_seconds:g}）")
    parser.add_argument("--memory-mb", type=int, default=defaults.memory_mb, metavar="MB",
                        help=f"每个子进程的内存上限（地址空间，含 torch 本身），MB（默认 {defaults.memory_mb}）")
    parser.add_argument("--quiet", action="store_true", help="不显示进度")


def grader_for(args):
    """The Grader of these arguments; raises MissingReference (Chinese) when there is no reference."""
    from pathlib import Path

    from ..assess import Grader
    from ..course import GRADING_DIR

    if args.course:
        return Grader.from_folder(Path(args.course) / GRADING_DIR)
    return Grader.from_repo(seed=args.seed)


def run(args) -> int:
    import sys

    from ..batch_grading import collect, grade_paths, print_progress, summary, write_csv, write_json
    from ..checks.expectations import MissingReference
    from ..grading.runner import Limits

    if args.jobs < 1 or args.case_seconds <= 0 or args.import_seconds <= 0 or args.memory_mb < 256:
        print("参数不对：--jobs ≥ 1，时间限制 > 0，--memory-mb ≥ 256。", file=sys.stderr)
        return 2
    if not collect(args.paths):
        print("没有找到要评分的 .py 文件。", file=sys.stderr)
        return 2
    try:
        grader = grader_for(args)
    except MissingReference as exc:
        print(exc, file=sys.stderr)
        return 2
    limits = Limits(case_seconds=args.case_seconds, import_seconds=args.import_seconds, memory_mb=args.memory_mb)
    records = grade_paths(args.paths, grader, jobs=args.jobs, limits=limits,
                          progress=None if args.quiet else print_progress)
    print(summary(records))
    print(f"评分种子：{grader.seed}（用 --seed {grader.seed} 可以复现同样的分数）")
    for path, write, what in ((args.json, write_json, "JSON"), (args.csv, write_csv, "CSV")):
        if path:
            try:
                write(records, path)
            except OSError as exc:
                print(f"无法写入 {what} 文件 {path}：{exc.strerror or exc}", file=sys.stderr)
                return 1
            print(f"已写入 {what}：{path}")
    return 0
