"""`step5-rlhf course crosscheck COURSE_DIR`: an audit of the gradebook's TODO points.

The TODO points in nbgrader already come from the isolated grader (course.autograde); this reruns
the same grading (same reference, same seed) on the autograded .py files, outside nbgrader, and
flags any difference and any extra .py file in a submission (it could shadow grading code).
"""

from pathlib import Path

from ..assess import Grader, grade_submission
from . import ASSIGNMENT, EXERCISE_FILE, GRADING_DIR, TODO_GRADE_IDS


def crosscheck(course: Path) -> int:
    from nbgrader.api import Gradebook

    from ..grading.runner import ForkServer, use_fork_server

    grader = Grader.from_folder(course / GRADING_DIR)
    server = ForkServer().start() if use_fork_server() else None
    mismatches = 0
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for folder in sorted((course / "autograded").glob(f"*/{ASSIGNMENT}")):
            student = folder.parent.name
            recorded = {}
            for nb in gb.find_submission(ASSIGNMENT, student).notebooks:
                recorded.update({TODO_GRADE_IDS[g.name].name: g.score for g in nb.grades if g.name in TODO_GRADE_IDS})
            checked = {r.todo.name: r.score for r in grade_submission(folder / EXERCISE_FILE, grader, server=server).todos}
            extra = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.py") if p.name != EXERCISE_FILE)
            ok = recorded == checked and not extra
            mismatches += not ok
            line = f"{'✅' if ok else '❌'} {student}：nbgrader {sum(recorded.values()):g} 分，独立检查 {sum(checked.values())} 分"
            if recorded != checked:
                line += f"（不一致：nbgrader {recorded}，独立检查 {checked}）"
            if extra:
                line += f"（提交里有多余的 .py 文件，可能遮蔽评分代码：{', '.join(extra)}）"
            print(line)
    if server:
        server.close()
    print("全部一致" if not mismatches else f"{mismatches} 名学生需要人工复查")
    return 0 if not mismatches else 1
