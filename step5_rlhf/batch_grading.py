"""Grade many exercise files: one record per file, as JSON / CSV rows and a Chinese summary.

    from step5_rlhf.assess import Grader
    from step5_rlhf.batch_grading import grade_paths
    records = grade_paths(["submissions/"], Grader.from_repo(seed=1234), jobs=2)

Each file runs in its own sandboxed child (see `grading.runner`); comparisons and scores are
computed here, in the grader. A file that cannot be graded at all (missing, unreadable, syntax
error, crash or time-out while importing) gets score 0 and a Chinese `error`; grading goes on.
"""

import csv
import json
import os
import queue
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .assess import Grader, grade_submission
from .checks import registry
from .checks.report import MARK, pad
from .grading import runner
from .todos import BONUS_MAX, MAX_SCORE, TODOS


def collect(paths) -> list:
    """Files as given; directories expanded to their .py files (recursively, sorted)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(str(p) for p in path.rglob("*.py")
                            if p.is_file() and not any(part.startswith(".") or part == "__pycache__"
                                                       for part in p.relative_to(path).parts))
        else:
            found.append(str(path))
    return found


def warm_reference(grader: Grader):
    # Expected outputs are cached; computing them once up front keeps worker threads from waiting on each other.
    for run in registry.graded_runs([t.name for t in TODOS], grader.seed):
        grader.expectations.expected(run)
        grader.expectations.mistakes(run)


def _isolation(report):
    if not report:
        return None
    return {"filesystem": bool(report.get("filesystem")), "network": bool(report.get("network")),
            "scoped": bool(report.get("scoped")), "landlock_abi": report.get("landlock_abi", 0),
            "rlimits": bool(report.get("rlimits")), "note": report.get("note", "")}


def grade_file(path, grader: Grader, limits=None, server=None) -> dict:
    """The record of one file: core score, bonus (optional TODOs, kept apart), per-TODO score and message,
    whole-file error, isolation."""
    record = {"submission": str(path), "score": 0, "max_score": MAX_SCORE, "bonus": 0, "bonus_max": BONUS_MAX,
              "todos": {}, "error": None, "isolation": None, "seed": grader.seed}
    if not os.path.isfile(path):
        record["error"] = f"找不到文件：{path}" if not os.path.exists(path) else f"不是文件：{path}"
        for todo in TODOS:
            record["todos"][todo.name] = {"score": 0, "max_score": todo.points, "optional": todo.optional,
                                          "status": "error", "message": record["error"], "hint": ""}
        return record
    assessment = grade_submission(path, grader, limits=limits, server=server)
    record["isolation"] = _isolation(assessment.isolation)
    for result in assessment.todos:
        record["todos"][result.todo.name] = {"score": result.score, "max_score": result.max_score,
                                             "optional": result.todo.optional, "status": result.status,
                                             "message": result.message, "hint": result.hint}
        record["bonus" if result.todo.optional else "score"] += result.score
    if all(result.case == "import" for result in assessment.todos):
        # every TODO failed the same way: report it once, for the whole file
        record["error"] = assessment.todos[0].message
    return record


def grade_paths(paths, grader: Grader, jobs=2, limits=None, progress=None) -> list:
    """Records for every file under `paths`, in order; `jobs` files are graded at the same time."""
    files = collect(paths)
    if not files:
        return []
    jobs = max(1, min(int(jobs), len(files)))
    servers = queue.Queue()
    for _ in range(jobs):  # the servers import torch while the reference runs
        servers.put(runner.ForkServer().start() if runner.use_fork_server() else None)
    warm_reference(grader)
    done = [0]

    def grade_one(path):
        server = servers.get()
        try:
            record = grade_file(path, grader, limits, server)
        finally:
            servers.put(server)
        done[0] += 1
        if progress:
            progress(done[0], len(files), record)
        return record

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(grade_one, files))
    finally:
        while not servers.empty():
            server = servers.get()
            if server is not None:
                server.close()


# ---------------------------------------------------------------- outputs
def write_json(records, path):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(records, handle, ensure_ascii=False, indent=2)
        handle.write("\n")


def write_csv(records, path):
    # utf-8-sig: Excel opens the Chinese messages correctly.
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "max_score", "bonus", "bonus_max", *[t.name for t in TODOS], "error"])
        for r in records:
            writer.writerow([r["submission"], r["score"], r["max_score"], r["bonus"], r["bonus_max"],
                             *[r["todos"][t.name]["score"] for t in TODOS], r["error"] or ""])


def isolation_line(records) -> str:
    reports = [r["isolation"] for r in records if r.get("isolation")]
    if not reports:
        return ""
    if all(rep["filesystem"] for rep in reports):
        abi = min(rep["landlock_abi"] for rep in reports)
        extra = "、".join(name for name, key in (("禁止 TCP 连接", "network"), ("信号与抽象套接字隔离", "scoped"))
                         if all(rep[key] for rep in reports))
        return f"隔离：Landlock ABI {abi}（学生代码只能读 Python/torch 与自己的临时目录{'；' + extra if extra else ''}），有时间与内存限制。"
    note = next((rep["note"] for rep in reports if rep.get("note")), "")
    return ("⚠️ 本平台无法强制文件隔离：学生代码仍可读写评分者能访问的文件（包括参考答案）。"
            f"只有时间与内存限制生效。{note}")


def summary(records) -> str:
    lines = [pad("文件", 40) + pad("得分", 8) + pad("加分", 6) + " ".join(f"T{t.number}" for t in TODOS) + "  备注"]
    for r in records:
        marks = " ".join(MARK[r["todos"][t.name]["status"]].strip() for t in TODOS)
        note = (r["error"] or "")[:60]
        name = r["submission"] if len(r["submission"]) <= 38 else "…" + r["submission"][-37:]
        lines.append(pad(name, 40) + pad(f"{r['score']}/{r['max_score']}", 8) + pad(f"+{r['bonus']}", 6) + marks + "  " + note)
    if records:
        scores = [r["score"] for r in records]
        full = sum(s == MAX_SCORE for s in scores)
        broken = sum(r["error"] is not None for r in records)
        bonus = sum(r["bonus"] for r in records)
        lines.append(f"共 {len(records)} 份：平均 {sum(scores) / len(scores):.1f}/{MAX_SCORE} 分，"
                     f"满分 {full} 份，无法评分 {broken} 份；选做 TODO（T6、T7，加分另计，最多 +{BONUS_MAX}）"
                     f"平均加分 {bonus / len(records):.1f}。")
    line = isolation_line(records)
    if line:
        lines.append(line)
    return "\n".join(lines)


def print_progress(done, total, record):
    print(f"[{done}/{total}] {record['submission']}：{record['score']}/{record['max_score']}"
          f"（选做加分 +{record['bonus']}）", file=sys.stderr)
