"""`step5-rlhf grade PATH… [--json FILE] [--csv FILE] [--jobs N]`: grade many exercise files.

Exit code 0 once grading finished, whatever the scores; 2 for usage errors.
"""


def configure(parser):
    from .runner import Limits

    defaults = Limits()
    parser.add_argument("paths", nargs="+", metavar="PATH", help="练习文件，或包含 .py 文件的目录（递归查找）")
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


def run(args) -> int:
    import sys

    from .grade import collect, grade_paths, print_progress, summary, write_csv, write_json
    from .runner import Limits

    if args.jobs < 1 or args.case_seconds <= 0 or args.import_seconds <= 0 or args.memory_mb < 256:
        print("参数不对：--jobs ≥ 1，时间限制 > 0，--memory-mb ≥ 256。", file=sys.stderr)
        return 2
    if not collect(args.paths):
        print("没有找到要评分的 .py 文件。", file=sys.stderr)
        return 2
    limits = Limits(case_seconds=args.case_seconds, import_seconds=args.import_seconds, memory_mb=args.memory_mb)
    records = grade_paths(args.paths, jobs=args.jobs, limits=limits, progress=None if args.quiet else print_progress)
    print(summary(records))
    for path, write, what in ((args.json, write_json, "JSON"), (args.csv, write_csv, "CSV")):
        if path:
            try:
                write(records, path)
            except OSError as exc:
                print(f"无法写入 {what} 文件 {path}：{exc.strerror or exc}", file=sys.stderr)
                return 1
            print(f"已写入 {what}：{path}")
    return 0
