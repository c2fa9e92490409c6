"""`step5-rlhf course build|release|autograde|feedback|export|crosscheck`: thin nbgrader wrappers.

Every wrapper runs the plain nbgrader command in COURSE_DIR (so its nbgrader_config.py applies),
with this Python's bin folder first on PATH: nbgrader calls `alembic` by name, which fails when
the virtual environment is not activated. The README shows the same commands without the wrappers.
"""

import os
import subprocess
import sys
from pathlib import Path

from ..course import ASSIGNMENT

NBGRADER_STEPS = {
    "release": ["generate_assignment", ASSIGNMENT],
    "autograde": ["autograde", ASSIGNMENT],
    "feedback": ["generate_feedback", ASSIGNMENT],
    "export": ["export", "--to", "grades.csv"],
}


def configure(parser):
    sub = parser.add_subparsers(dest="course_command", metavar="步骤")
    sub.required = True
    build = sub.add_parser("build", help="从仓库生成课程目录：source/、grading/（评分用，只给教师）、dist/*.whl 与 nbgrader_config.py")
    build.add_argument("course_dir", metavar="COURSE_DIR")
    build.add_argument("--force", action="store_true", help="覆盖已有的 source/step5_rlhf/")
    build.add_argument("--timeout", type=int, default=300, help="nbgrader 每个单元的时间上限（秒，默认 300）")
    build.add_argument("--seed", type=int, default=None,
                       help="评分种子（默认：沿用上次 build 的；第一次 build 时随机生成）")
    build.add_argument("--no-wheel", action="store_true", help="不打包给学生安装的 wheel")
    build.add_argument("--run-notebooks", action="store_true",
                       help="自动评分时也运行讲义（只为在评分后的讲义里看到输出；分数与此无关，默认不运行）")
    for name, args in NBGRADER_STEPS.items():
        step = sub.add_parser(name, help=f"在课程目录里运行 nbgrader {' '.join(args)}")
        step.add_argument("course_dir", metavar="COURSE_DIR")
        step.add_argument("extra", nargs="*", metavar="参数", help="原样传给 nbgrader 的其他参数（前面加 --）")
    cross = sub.add_parser("crosscheck", help="在 nbgrader 之外用同样的参考答案和种子重新评分，与成绩库对比")
    cross.add_argument("course_dir", metavar="COURSE_DIR")


def nbgrader_env() -> dict:
    """The environment for nbgrader: this interpreter's bin folder first on PATH (for `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run(args) -> int:
    course = Path(args.course_dir).resolve()
    if args.course_command == "build":
        from ..course.builder import build

        try:
            source = build(course, force=args.force, timeout=args.timeout, seed=args.seed, wheel=not args.no_wheel,
                           run_notebooks=args.run_notebooks)
        except (FileExistsError, FileNotFoundError, ValueError, RuntimeError) as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"已生成 {source}、{course / 'grading'}（只给教师）和 {course / 'nbgrader_config.py'}")
        wheels = sorted((course / "dist").glob("*.whl"))
        if wheels:
            print(f"给学生安装的包：{wheels[-1]}")
        print(f"下一步：cd {course} && nbgrader generate_assignment {ASSIGNMENT}")
        return 0
    if not (course / "nbgrader_config.py").is_file():
        print(f"{course} 里没有 nbgrader_config.py：先运行 step5-rlhf course build {course}", file=sys.stderr)
        return 2
    if args.course_command == "crosscheck":
        from ..course.crosscheck import crosscheck

        return crosscheck(course)
    command = [sys.executable, "-m", "nbgrader", *NBGRADER_STEPS[args.course_command], *args.extra]
    return subprocess.call(command, cwd=course, env=nbgrader_env())
