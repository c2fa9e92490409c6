"""`step5-rlhf` 命令行：每个子命令住在自己的模块里，这里只负责分发。"""

import argparse
import importlib
import sys

# name -> (module, one-line Chinese help). Each module has configure(parser) and run(args) -> int.
COMMANDS = {
    "check": ("step5_rlhf.commands.check", "检查你的练习文件：每个 TODO 一行，对 / 还没做 / 错（附提示）"),
    "train": ("step5_rlhf.commands.train", "运行小型 DPO 训练（SFT 热启动 → DPO → 评估 → 画图）"),
    "compare": ("step5_rlhf.commands.compare", "DPO、PPO、RLOO、GRPO、best-of-N 的奖励–KL 前沿（frontier.json、frontier.png）"),
    "student": ("step5_rlhf.commands.student", "生成自学用的学生文件夹（讲义、练习文件、数据）"),
    "lab-setup": ("step5_rlhf.commands.lab_setup", "设置 JupyterLab：中文界面，关掉 nbgrader 的教师面板"),
    "grade": ("step5_rlhf.commands.grade", "教师用：批量给练习文件打分，输出 JSON / CSV"),
    "course": ("step5_rlhf.commands.course", "教师用：生成 nbgrader 课程目录并运行 nbgrader 各步骤"),
    "build-exercise": ("step5_rlhf.commands.build", "维护者用：从参考答案重新生成练习文件和 expected.json"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="step5-rlhf", description="Step 5: RLHF 人类偏好对齐 (DPO) 课程工具")
    sub = parser.add_subparsers(dest="command", metavar="命令")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        try:
            importlib.import_module(module_name).configure(sub_parser)
        except ModuleNotFoundError as error:
            if not error.name or not module_name.startswith(error.name):
                raise
            sub_parser.set_defaults(_missing=True)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "_missing", False):
        print(f"子命令 {args.command} 尚未提供。", file=sys.stderr)
        return 2
    return importlib.import_module(args._module).run(args)


if __name__ == "__main__":  # python -m step5_rlhf.cli (torchrun needs a module path)
    sys.exit(main())
