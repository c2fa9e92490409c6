"""`step5-rlhf student DIR`: a working folder for self-study (student notebooks, exercise, data)."""


def configure(parser):
    parser.add_argument("folder", metavar="DIR", help="要生成的文件夹，例如 ~/step5")
    parser.add_argument("--force", action="store_true", help="文件夹已存在时覆盖（里面的代码会丢失）")


def run(args) -> int:
    import sys

    from ..course.student_copy import make_student_folder

    try:
        folder = make_student_folder(args.folder, force=args.force)
    except (FileExistsError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"已生成学生文件夹 {folder}：讲义、train_dpo_exercise.py 和 data/")
    print(f"下一步：cd {folder} && jupyter lab")
    return 0
