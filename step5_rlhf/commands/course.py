"""`step5-rlhf course build|release|autograde|feedback|export|crosscheck`: thin nbgrader wrappers.

Every wrapper runs the plain nbgrader command in COURSE_DIR (so its nbgrader_config.py applies);
the README shows the same commands without the wrappers.
"""

import subprocess
import sys
from pathlib import Path

from . import ASSIGNMENT, EXERCISE_FILE

NBGRADER_STEPS = {
    "release": ["generate_assignment", ASSIGNMENT],
    "autograde": ["autograde", ASSIGNMENT],
    "feedback": ["generate_feedback", ASSIGNMENT],
    "export": ["export", "--to", "grades.csv"],
}


def configure(parser):
    sub = parser.add_subparsers(dest="course_command", metavar="步骤")
    sub.required = True
    build = sub.add_parser("build", help="从仓库生成课程目录：source/step5_rlhf/ 与 nbgrader_config.py")
    build.add_argument("course_dir", metavar="COURSE_DIR")
    build.add_argument("--force", action="store_true", help="覆盖已有的 source/step5_rlhf/")
    build.add_argument("--timeout", type=int, default=300, help="nbgrader 每个单元的时间上限（秒，默认 300）")
    build.add_argument("--run-all-cells", action="store_true",
                       help="自动评分时也运行最后一个评分单元之后的单元（例如完整训练；默认跳过，不影响分数）")
    for name, args in NBGRADER_STEPS.items():
        step = sub.add_parser(name, help=f"在课程目录里运行 nbgrader {' '.join(args)}")
        step.add_argument("course_dir", metavar="COURSE_DIR")
        step.add_argument("extra", nargs="*", metavar="参数", help="原样传给 nbgrader 的其他参数（前面加 --）")
    cross = sub.add_parser("crosscheck", help="用 check_submission 重新给 autograded/ 里的练习文件打分，与成绩库对比")
    cross.add_argument("course_dir", metavar="COURSE_DIR")


def _crosscheck(course: Path) -> int:
    """TODO points in the gradebook vs. the same .py files checked outside any notebook kernel."""
    from nbgrader.api import Gradebook

    from ..checks import check_submission
    from ..todos import TODOS

    grade_ids = {f"todo{t.number}_{t.name}": t.name for t in TODOS}
    mismatches = 0
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for folder in sorted((course / "autograded").glob(f"*/{ASSIGNMENT}")):
            student = folder.parent.name
            recorded = {}
            for nb in gb.find_submission(ASSIGNMENT, student).notebooks:
                recorded.update({grade_ids[g.name]: g.score for g in nb.grades if g.name in grade_ids})
            checked = {r.todo.name: r.score for r in check_submission(folder / EXERCISE_FILE)}
            extra = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.py") if p.name != EXERCISE_FILE)
            ok = recorded == checked and not extra
            mismatches += not ok
            line = f"{'✅' if ok else '❌'} {student}：nbgrader {sum(recorded.values()):g} 分，独立检查 {sum(checked.values())} 分"
            if recorded != checked:
                line += f"（不一致：nbgrader {recorded}，独立检查 {checked}）"
            if extra:
                line += f"（提交里有多余的 .py 文件，可能遮蔽评分代码：{', '.join(extra)}）"
            print(line)
    print("全部一致" if not mismatches else f"{mismatches} 名学生需要人工复查")
    return 0 if not mismatches else 1


def run(args) -> int:
    course = Path(args.course_dir).resolve()
    if args.course_command == "build":
        from .builder import build

        try:
            source = build(course, force=args.force, timeout=args.timeout, skip_tail=not args.run_all_cells)
        except (FileExistsError, FileNotFoundError, ValueError) as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"已生成 {source} 和 {course / 'nbgrader_config.py'}")
        print(f"下一步：cd {course} && nbgrader generate_assignment {ASSIGNMENT}")
        return 0
    if not (course / "nbgrader_config.py").is_file():
        print(f"{course} 里没有 nbgrader_config.py：先运行 step5-rlhf course build {course}", file=sys.stderr)
        return 2
    if args.course_command == "crosscheck":
        return _crosscheck(course)
    command = [sys.executable, "-m", "nbgrader", *NBGRADER_STEPS[args.course_command], *args.extra]
    return subprocess.call(command, cwd=course)
