"""`step5-rlhf grade`: what an instructor gets — JSON, CSV, a Chinese summary, exit code 0."""

import contextlib
import csv
import io
import json

import pytest
from submissions import make_submission

from step5_rlhf import paths
from step5_rlhf.cli import main
from step5_rlhf.todos import BONUS_MAX, MAX_SCORE, TODOS


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grade")
    folder = base / "class"
    folder.mkdir()
    make_submission(folder, "alice")  # a directory is expanded to its .py files, sorted
    (folder / "bob.py").write_text("def dpo_loss(:\n", encoding="utf-8")
    out_json, out_csv = base / "out.json", base / "out.csv"
    argv = ["grade", str(paths.SOLUTION), str(paths.EXERCISE), str(folder), str(base / "missing.py"),
            "--json", str(out_json), "--csv", str(out_csv), "--quiet", "--seed", "11"]
    return {"argv": argv, "json": out_json, "csv": out_csv}


@pytest.fixture(scope="module")
def run(graded):
    """Grade once for all the tests below; (exit code, what was printed)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(graded["argv"])
    return code, buffer.getvalue()


@pytest.fixture(scope="module")
def records(run, graded):
    return {r["submission"].rsplit("/", 1)[-1]: r for r in json.loads(graded["json"].read_text(encoding="utf-8"))}


def test_exit_code_is_zero_whatever_the_scores(run):
    code, _ = run
    assert code == 0


def test_json_has_one_record_per_file_in_order(records, graded):
    assert list(records) == ["train_dpo_solution.py", "train_dpo_exercise.py", "alice.py", "bob.py", "missing.py"]
    for record in records.values():
        assert set(record) >= {"submission", "score", "max_score", "bonus", "bonus_max", "todos", "error"}
        assert (record["max_score"], record["bonus_max"]) == (MAX_SCORE, BONUS_MAX) == (12, 3)
        assert list(record["todos"]) == [t.name for t in TODOS]
        for todo in TODOS:
            entry = record["todos"][todo.name]
            assert set(entry) >= {"score", "max_score", "message"}
            assert entry["max_score"] == todo.points and entry["optional"] == todo.optional
        # core points and bonus points are always kept apart
        assert record["score"] == sum(e["score"] for e in record["todos"].values() if not e["optional"])
        assert record["bonus"] == sum(e["score"] for e in record["todos"].values() if e["optional"])
        assert record["seed"] == 11


def test_reference_solution_gets_full_marks(records):
    for name in ("train_dpo_solution.py", "alice.py"):
        assert records[name]["score"] == MAX_SCORE
        assert records[name]["bonus"] == BONUS_MAX
        assert records[name]["error"] is None


def test_untouched_exercise_gets_zero_with_not_done_messages(records):
    record = records["train_dpo_exercise.py"]
    assert record["score"] == record["bonus"] == 0
    assert record["error"] is None
    for todo in TODOS:
        assert ("选做，还没做" if todo.optional else "还没有完成") in record["todos"][todo.name]["message"]


def test_missing_file_and_syntax_error_are_reported_as_errors(records):
    assert "找不到文件" in records["missing.py"]["error"]
    assert "语法错误" in records["bob.py"]["error"] and "第 1 行" in records["bob.py"]["error"]
    for name in ("missing.py", "bob.py"):
        assert records[name]["score"] == 0


def test_csv_has_a_column_per_todo(run, graded):
    with open(graded["csv"], encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["submission", "score", "max_score", "bonus", "bonus_max", *[t.name for t in TODOS], "error"]
    assert [int(r["score"]) for r in rows] == [MAX_SCORE, 0, MAX_SCORE, 0, 0]
    assert [int(r["bonus"]) for r in rows] == [BONUS_MAX, 0, BONUS_MAX, 0, 0]
    assert rows[0]["dpo_loss"] == "3" and rows[0]["error"] == ""
    assert "语法错误" in rows[3]["error"]


def test_terminal_summary_is_in_chinese_and_reports_isolation(run):
    _, output = run
    assert "共 5 份" in output and "满分 2 份" in output and "无法评分 2 份" in output
    assert "隔离" in output  # enforced or not, the instructor is told
    assert "评分种子：11" in output


def test_student_mode_has_no_reference_to_grade_with(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(paths.STUDENT_MODE_ENV, "1")
    assert main(["grade", str(paths.SOLUTION)]) == 2
    assert "评分需要参考答案" in capsys.readouterr().err


def test_usage_errors_exit_non_zero(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["grade"])
    assert exc.value.code == 2
    assert main(["grade", str(tmp_path)]) == 2  # a directory without any .py file


def test_todo6_message_wording_costs_no_bonus_and_is_reported_as_advice(tmp_path):
    # A right TODO 6 whose ValueError for an unknown loss_type has a bare, non-Chinese message.
    path = make_submission(tmp_path, "dave", '''
_reference_preference_loss = preference_loss
def preference_loss(pc, pr, rc, rr, beta=0.1, loss_type="sigmoid", label_smoothing=0.0, chosen_lengths=None,
                    rejected_lengths=None):
    if loss_type not in LOSS_TYPES:
        raise ValueError(loss_type)
    return _reference_preference_loss(pc, pr, rc, rr, beta, loss_type, label_smoothing, chosen_lengths, rejected_lengths)
''')
    out_json = tmp_path / "out.json"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["grade", str(path), "--json", str(out_json), "--quiet", "--seed", "11"]) == 0
    (record,) = json.loads(out_json.read_text(encoding="utf-8"))
    assert (record["score"], record["bonus"]) == (MAX_SCORE, BONUS_MAX)
    entry = record["todos"]["preference_loss"]
    assert entry["status"] == "passed" and entry["score"] == 2
    assert "不扣分" in entry["hint"] and "建议" in entry["message"]
