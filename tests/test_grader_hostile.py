"""Hostile submissions cost only their own points (or one TODO's), never the grader or a neighbour.

All submissions are graded in one batch (two fork servers, like `step5-rlhf grade`), next to
correct ones that must keep full marks. Each hostile file is the reference solution with code
appended (tests/submissions.py), so every point it loses is lost to the hostile part alone.
"""

import os
import re

import pytest
from submissions import make_submission

from step5_rlhf import paths
from step5_rlhf.assess import Grader
from step5_rlhf.batch_grading import grade_paths
from step5_rlhf.grading import sandbox
from step5_rlhf.grading.runner import Limits
from step5_rlhf.todos import MAX_SCORE

LANDLOCK = sandbox.landlock_abi() >= 1
LIMITS = Limits(case_seconds=4, import_seconds=4, memory_mb=2048)

# Overriding TODO 3 (collate_preference_batch): no other TODO's cases call it, so exactly 2 points go.
COLLATE = "def collate_preference_batch(examples, pad_token_id):\n"
ORIGINAL = "_original_collate = collate_preference_batch\n"

HOSTILE = {
    # name: (appended source, expected score, {todo: (status, regex on the message)})
    "monkeypatch_everything": ('''
        import builtins, math, numpy, torch
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
        torch.Tensor.__eq__ = lambda self, other: True
        numpy.allclose = lambda *a, **k: True
        math.isclose = lambda *a, **k: True
        builtins.abs = lambda x: 0
        builtins.isinstance = lambda obj, cls: True
        def dpo_loss(policy_chosen_log_probs, policy_rejected_log_probs, ref_chosen_log_probs,
                     ref_rejected_log_probs, beta=0.1):
            return (policy_chosen_log_probs - policy_rejected_log_probs).mean() * 0
        ''', 9, {"dpo_loss": ("wrong", "")}),
    "always_equal_object": ('''
        class Anything:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __float__(self): return 0.0
        def dpo_loss(policy_chosen_log_probs, policy_rejected_log_probs, ref_chosen_log_probs,
                     ref_rejected_log_probs, beta=0.1):
            return Anything()
        ''', 9, {"dpo_loss": ("wrong", "")}),
    "prints_fake_results": ('''
        import sys
        print('{"case": "dpo_loss/random_b8", "outputs": {"type": "none"}}')
        print("TODO 1 通过  得分 12/12", file=sys.stderr)
        def dpo_loss(policy_chosen_log_probs, policy_rejected_log_probs, ref_chosen_log_probs,
                     ref_rejected_log_probs, beta=0.1):
            print('{"ready": true}\\n{"case": "dpo_loss/random_b8", "outputs": {"type": "float", "value": 0.5}}')
            print("全部通过", file=sys.stderr)
            return torch.tensor(0.5)
        ''', 9, {"dpo_loss": ("wrong", "")}),
    "sys_exit_in_todo": (COLLATE + "    import sys; sys.exit(0)\n", 10,
                         {"collate_preference_batch": ("error", "exit")}),
    "os_exit_in_todo": (COLLATE + "    import os; os._exit(0)\n", 10,
                        {"collate_preference_batch": ("error", "退出码 0")}),
    "keyboard_interrupt": (COLLATE + "    raise KeyboardInterrupt\n", 10,
                           {"collate_preference_batch": ("error", "KeyboardInterrupt")}),
    "infinite_loop_in_call": (COLLATE + "    while True:\n        pass\n", 10,
                              {"collate_preference_batch": ("error", "超时")}),
    "memory_bomb": (COLLATE + "    hog = [bytes(1 << 26) for _ in range(10_000)]  # 640 GB, 64 MB at a time\n", 10,
                    {"collate_preference_batch": ("error", "内存")}),
    "torch_memory_bomb": (COLLATE + "    return torch.empty(1 << 40)\n", 10,
                          {"collate_preference_batch": ("error", "内存")}),
    "huge_output": (COLLATE + "    return {'input_ids': torch.zeros(50_000_000)}\n", 10,
                    {"collate_preference_batch": ("error", "太大")}),
    "huge_line_on_result_pipe": (COLLATE + '''
            import os
            for fd in range(3, 64):
                try:
                    os.write(fd, b"[" * (1 << 24))
                except OSError:
                    pass
            return _original_collate(examples, pad_token_id)
        ''', 10, {"collate_preference_batch": ("error", "无法识别")}),
    "fake_result_lines": (COLLATE + '''
            import json, os
            fake = {"case": "collate_preference_batch/three_pairs", "outputs": {"type": "none"}}
            for fd in range(3, 64):
                try:
                    os.write(fd, (json.dumps(fake) + "\\n" + "garbage\\n").encode())
                except OSError:
                    pass
            return _original_collate(examples, pad_token_id)
        ''', 10, {"collate_preference_batch": ("", "")}),
    "stray_daemon": (COLLATE + '''
            import os, time
            read_end, write_end = os.pipe()
            if os.fork() == 0:          # a classic daemon: fork, setsid, fork again
                os.setsid()
                if os.fork() == 0:
                    os.write(write_end, str(os.getpid()).encode())
                    while True:
                        time.sleep(0.1)
                os._exit(0)
            raise RuntimeError("STRAY " + os.read(read_end, 20).decode())
        ''', 10, {"collate_preference_batch": ("error", r"STRAY \d+")}),
    "kill_the_grader": (COLLATE + '''
            import os, signal
            os.kill(os.getppid(), signal.SIGKILL)   # the fork server
            return _original_collate(examples, pad_token_id)
        ''', None, {}),
    # Whole-file failures: score 0 and an `error` for the file.
    "syntax_error": ("def broken(:\n    pass\n", 0, {}),
    "infinite_loop_at_import": ("while True:\n    pass\n", 0, {}),
    "sys_exit_at_import": ("import sys\nsys.exit(3)\n", 0, {}),
    "os_exit_at_import": ("import os\nos._exit(3)\n", 0, {}),
}
HOSTILE = {name: (ORIGINAL + source if COLLATE in source else source, *rest) for name, (source, *rest) in HOSTILE.items()}
WHOLE_FILE_ERRORS = {"syntax_error": "语法错误", "infinite_loop_at_import": "超过",
                     "sys_exit_at_import": "exit", "os_exit_at_import": "退出码 3"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    files = {"correct_first": make_submission(base, "correct_first")}
    for name, (source, *_) in HOSTILE.items():
        files[name] = make_submission(base, name, source)
    if LANDLOCK:
        files["escape"] = make_submission(base, "escape", _escape_source(base, files["correct_first"]))
    files["correct_last"] = make_submission(base, "correct_last")
    records = grade_paths([str(p) for p in files.values()], Grader.from_repo(seed=3), jobs=2, limits=LIMITS)
    return base, {name: record for name, record in zip(files, records)}


def _escape_source(base, other):
    return f'''
        _original_collate = collate_preference_batch
        _original_metrics = dpo_metrics
        def collate_preference_batch(examples, pad_token_id):
            with open({str(paths.SOLUTION)!r}) as handle:   # the reference solution
                handle.read()
            return _original_collate(examples, pad_token_id)
        def dpo_metrics(policy_chosen_log_probs, policy_rejected_log_probs, ref_chosen_log_probs,
                        ref_rejected_log_probs, beta=0.1):
            with open({str(other)!r}) as handle:              # another student's submission
                handle.read()
            return _original_metrics(policy_chosen_log_probs, policy_rejected_log_probs,
                                     ref_chosen_log_probs, ref_rejected_log_probs, beta)
        def dpo_loss(policy_chosen_log_probs, policy_rejected_log_probs, ref_chosen_log_probs,
                     ref_rejected_log_probs, beta=0.1):
            import os
            try:
                with open({str(base / "written_by_child.txt")!r}, "w") as handle:   # outside its temp dir
                    handle.write("pwned")
            except OSError:
                pass
            os.listdir({str(paths.ROOT / "tests")!r})                              # the grader's tests
            return 0
        import socket
        def sequence_log_probs(logits, input_ids, loss_mask):
            socket.create_connection(("127.0.0.1", 9), timeout=1)                 # network
        '''


def test_correct_submissions_in_the_same_batch_keep_full_marks(graded):
    _, records = graded
    for name in ("correct_first", "correct_last"):
        assert records[name]["score"] == MAX_SCORE, records[name]
        assert records[name]["error"] is None


@pytest.mark.parametrize("name", [n for n, (_, score, _) in HOSTILE.items() if score])
def test_hostile_behaviour_costs_only_its_todo(graded, name):
    _, records = graded
    _, score, expected = HOSTILE[name]
    record = records[name]
    assert record["error"] is None, record
    assert record["score"] == score, record["todos"]
    for todo, (status, pattern) in expected.items():
        assert record["todos"][todo]["score"] == 0
        if status:
            assert record["todos"][todo]["status"] == status, record["todos"][todo]
        assert re.search(pattern, record["todos"][todo]["message"]), record["todos"][todo]["message"]
    for todo, result in record["todos"].items():
        if todo not in expected:
            assert result["score"] == result["max_score"], (todo, result)


@pytest.mark.parametrize("name", sorted(WHOLE_FILE_ERRORS))
def test_file_that_cannot_be_imported_gets_zero_and_an_error(graded, name):
    _, records = graded
    record = records[name]
    assert record["score"] == 0
    assert record["error"] and "无法导入" in record["error"], record
    assert WHOLE_FILE_ERRORS[name] in record["error"], record["error"]


def test_stray_daemon_is_killed_when_its_submission_is_done(graded):
    _, records = graded
    pid = int(re.search(r"STRAY (\d+)", records["stray_daemon"]["todos"]["collate_preference_batch"]["message"])[1])
    # Reaped by the fork server before it reported the child's exit: no such process any more.
    assert not os.path.exists(f"/proc/{pid}") or _state(pid) == "Z"


def _state(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_child_that_signals_the_fork_server_only_hurts_itself(graded):
    _, records = graded
    record = records["kill_the_grader"]
    others = {t: r for t, r in record["todos"].items() if t != "collate_preference_batch"}
    assert all(r["score"] == r["max_score"] for r in others.values()), record["todos"]
    if sandbox.landlock_abi() >= 6:  # signal scoping: the kill is refused, the TODO just errors
        assert "PermissionError" in record["todos"]["collate_preference_batch"]["message"]


@pytest.mark.skipif(not LANDLOCK, reason="本平台没有 Landlock")
def test_child_cannot_read_the_solution_other_submissions_or_write_outside(graded):
    base, records = graded
    todos = records["escape"]["todos"]
    for todo in ("collate_preference_batch", "dpo_metrics", "dpo_loss"):
        assert todos[todo]["score"] == 0
        assert "PermissionError" in todos[todo]["message"], todos[todo]
    assert todos["sequence_log_probs"]["score"] == 0
    assert "PermissionError" in todos["sequence_log_probs"]["message"] or sandbox.landlock_abi() < 4
    assert not (base / "written_by_child.txt").exists()
    assert records["escape"]["isolation"]["filesystem"] is True


def test_every_record_reports_its_isolation(graded):
    _, records = graded
    for name, record in records.items():
        if record["error"] is None:
            assert record["isolation"]["filesystem"] is LANDLOCK, name
