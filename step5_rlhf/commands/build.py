"""`step5-rlhf build-exercise [--check]`: regenerate the exercise and the shipped expected outputs."""


def configure(parser):
    parser.add_argument("--check", action="store_true", help="只检查练习文件和 expected.json 是否与参考答案同步，不写文件")


def run(args) -> int:
    from .. import paths
    from ..build_exercise import build_all, stale

    if not paths.repo_mode():
        print("这个命令只能在课程仓库里运行（需要 solutions/ 里的参考答案）。")
        return 2
    if args.check:
        problems = stale()
        for line in problems:
            print(line)
        print("请运行 step5-rlhf build-exercise" if problems else "练习文件和 expected.json 都与参考答案同步。")
        return 1 if problems else 0
    changed = build_all()
    for path in changed:
        print(f"已重新生成 {path}")
    if not changed:
        print("练习文件和 expected.json 已是最新，无需改动")
    return 0
