"""`step5-rlhf build-exercise`: regenerate exercises/ from solutions/."""

from . import paths
from .build_exercise import build


def configure(parser):
    parser.add_argument("--check", action="store_true", help="只检查练习文件是否与参考答案同步，不写文件")


def run(args) -> int:
    if args.check:
        from .build_exercise import exercise_source

        expected = exercise_source(paths.SOLUTION.read_text(encoding="utf-8"))
        actual = paths.EXERCISE.read_text(encoding="utf-8") if paths.EXERCISE.exists() else ""
        if expected != actual:
            print(f"{paths.EXERCISE} 与参考答案不同步：请运行 step5-rlhf build-exercise")
            return 1
        print("练习文件与参考答案同步。")
        return 0
    changed = build()
    print(f"已重新生成 {paths.EXERCISE}" if changed else f"{paths.EXERCISE} 已是最新，无需改动")
    return 0
