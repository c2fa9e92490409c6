"""The four lesson notebooks: clean nbgrader sources, and they run top to bottom in a real kernel.

Three students run the notebooks through nbclient:
  * "solution": the reference solution copied as train_dpo_exercise.py into a temp folder
    (every check passes, the notebooks use the student's own code, no fallback notice);
  * "exercise": the untouched exercise file in the repository (every lesson check says "还没做",
    cells that need the student's code fall back to the reference with a visible notice, and
    only the graded TODO cells at the end fail, each with one short Chinese line); lessons 1–3;
  * "student": the untouched exercise in student mode (no reference anywhere): cells that need
    the student's code say which TODO to finish and skip; nothing else fails.
The kernel finds the file through STEP5_EXERCISE (see step5_rlhf.paths.find_exercise).
"""

import os
import re
import shutil
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from step5_rlhf import paths  # noqa: E402
from step5_rlhf.notebook_support import FALLBACK_MARK, SKIP_MARK  # noqa: E402
from step5_rlhf.todos import TODOS  # noqa: E402

NOTEBOOKS = ("01_preferences.ipynb", "02_ppo_vs_dpo.ipynb", "03_dpo_loss.ipynb", "04_dpo_training.ipynb")

# grade_id -> (notebook, points) for every graded cell; the TODO points come from todos.py.
TODO_CELLS = {f"todo{t.number}_{t.name}": t for t in TODOS}
GRADED = {
    "bt_probability": ("01_preferences.ipynb", 1),
    "implicit_reward": ("02_ppo_vs_dpo.ipynb", 1),
    "answer_dpo_vs_ppo": ("02_ppo_vs_dpo.ipynb", 2),
    "answer_beta": ("03_dpo_loss.ipynb", 2),
    "answer_beta_experiment": ("04_dpo_training.ipynb", 2),
    **{gid: ("03_dpo_loss.ipynb" if t.number <= 2 else "04_dpo_training.ipynb", t.points) for gid, t in TODO_CELLS.items()},
}
NBGRADER_KEYS = {"schema_version", "grade_id", "grade", "solution", "locked"}
ENV_VAR = paths.EXERCISE_ENV


def _read(name):
    return nbformat.read(paths.NOTEBOOKS_DIR / name, as_version=4)


def _nbgrader(cell):
    return cell.metadata.get("nbgrader")


def _by_grade_id(nb):
    return {_nbgrader(c)["grade_id"]: c for c in nb.cells if _nbgrader(c)}


# ---------------------------------------------------------------------------
# The committed sources
# ---------------------------------------------------------------------------
def test_exactly_the_four_notebooks():
    assert sorted(p.name for p in paths.NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_a_clean_valid_source(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: 提交的 notebook 不能带输出：{cell.source[:60]!r}"
            assert cell.execution_count is None, f"{name}: 提交的 notebook 不能带执行编号"
        assert "attachments" not in cell or not cell.attachments
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "setup()" in first_code.source, f"{name}: 第一个代码单元应调用 notebook_support.setup()"
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and "验证清单" in last.source and "下一步" in last.source


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbgrader_metadata(name):
    nb = _read(name)
    ids = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c)]
    assert len(ids) == len(set(ids)), f"{name}: grade_id 重复"
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if not meta:
            continue
        assert NBGRADER_KEYS <= set(meta), meta
        assert meta["schema_version"] == 3
        if meta["grade"]:
            assert isinstance(meta.get("points"), int) and meta["points"] > 0
    expected = {gid: pts for gid, (nb_name, pts) in GRADED.items() if nb_name == name}
    graded = {_nbgrader(c)["grade_id"]: _nbgrader(c)["points"] for c in nb.cells if _nbgrader(c) and _nbgrader(c)["grade"]}
    assert graded == expected


def test_todo_cells_follow_the_convention():
    """A lesson check next to each TODO (prints, never fails), and a graded cell per TODO at the end
    of its notebook (asserts; no hidden tests, so an untouched copy keeps its checksum)."""
    for name in NOTEBOOKS:
        nb = _read(name)
        graded = [i for i, c in enumerate(nb.cells) if _nbgrader(c) and _nbgrader(c)["grade_id"] in TODO_CELLS]
        for index in graded:
            cell, todo = nb.cells[index], TODO_CELLS[_nbgrader(nb.cells[index])["grade_id"]]
            meta = _nbgrader(cell)
            assert (meta["grade"], meta["solution"], meta["locked"], meta["points"]) == (True, False, True, todo.points)
            assert cell.source.endswith(f'from step5_rlhf.notebook_support import assert_todo\n\nassert_todo("{todo.name}")')
            assert "HIDDEN TESTS" not in cell.source
            lesson = [i for i, c in enumerate(nb.cells) if f"train_dpo_exercise.test_{todo.name}()" in c.source]
            assert len(lesson) == 1 and not _nbgrader(nb.cells[lesson[0]]) and lesson[0] < min(graded)
        if graded:  # nothing but Markdown after the graded cells: the lesson runs to the end first
            assert graded == list(range(graded[0], graded[0] + len(graded)))
            assert all(c.cell_type == "markdown" for c in nb.cells[graded[-1] + 1:])
    # TODOs appear in course order
    order = [gid for name in NOTEBOOKS for gid in _by_grade_id(_read(name)) if gid in TODO_CELLS]
    assert order == list(TODO_CELLS)


@pytest.mark.parametrize("gid, variable", [("bt_probability", "p_chosen"), ("implicit_reward", "implicit_reward")])
def test_autograded_answers(gid, variable):
    nb = _read(GRADED[gid][0])
    cells = _by_grade_id(nb)
    answer, test = cells[f"{gid}_answer"], cells[gid]
    assert nb.cells.index(answer) + 1 == nb.cells.index(test), "答案单元后面紧跟测试单元"
    a, t = _nbgrader(answer), _nbgrader(test)
    assert (a["grade"], a["solution"], a["locked"]) == (False, True, False)
    assert (t["grade"], t["solution"], t["locked"], t["points"]) == (True, False, True, 1)
    assert re.search(rf"### BEGIN SOLUTION\n{variable} = .*\n### END SOLUTION", answer.source)
    visible, hidden = test.source.split("### BEGIN HIDDEN TESTS")
    assert "isinstance" in visible and "abs(" not in visible  # type and range only: the value stays hidden
    assert f"assert abs({variable} - " in hidden


@pytest.mark.parametrize("gid", ["answer_dpo_vs_ppo", "answer_beta", "answer_beta_experiment"])
def test_manually_graded_answers_carry_a_rubric_for_graders_only(gid):
    nb = _read(GRADED[gid][0])
    cell = _by_grade_id(nb)[gid]
    meta = _nbgrader(cell)
    assert cell.cell_type == "markdown"
    assert (meta["grade"], meta["solution"], meta["locked"], meta["points"]) == (True, True, False, 2)
    # The instructor version holds a reference answer and the point scheme; the student version
    # (nbgrader's ClearSolutions, the same as `step5-rlhf student`) an empty place to write.
    assert "参考答案" in cell.source and "评分标准（2 分）" in cell.source
    assert cell.source.count("- 1 分：") == 2
    from step5_rlhf.course.student_copy import student_notebook

    released = _by_grade_id(student_notebook(nb))[gid]
    assert released.source.startswith("✏️") and "参考答案" not in released.source
    question = nb.cells[nb.cells.index(cell) - 1]
    assert "人工评分" in question.source and "（2 分" in question.source


def test_seed_material_is_kept():
    text = "\n".join(c.source for name in NOTEBOOKS for c in _read(name).cells)
    for piece in (
        '问题: "什么是AI？"',
        'AI就是机器人。',
        "policy_chosen=torch.tensor(-1.0)",
        "policy_rejected=torch.tensor(-2.0)",
        "ref_chosen=torch.tensor(-1.5)",
        "ref_rejected=torch.tensor(-1.6)",
        "beta=0.1",
        "importlib.reload(train_dpo_exercise)",
        "- [ ] 解释 RLHF 的目标（让模型输出符合人类偏好）",
        "- [ ] 解释 DPO 相比 PPO 的优势（无需奖励模型）",
        "- [ ] 实现 DPO Loss",
        "- [ ] 理解 β 参数的作用（控制偏离程度）",
        "Step 6",
        "../step6_vlm/",
    ):
        assert piece in text, piece


def test_one_term_per_idea_and_the_lesson_structure():
    cells = {name: _read(name).cells for name in NOTEBOOKS}
    prose = "\n".join(c.source for name in NOTEBOOKS for c in cells[name] if c.cell_type == "markdown")
    titles = re.compile(r"\*[A-Z][^*]*\*")  # English paper titles in italics may say what they say
    assert "Reward Model" not in titles.sub("", prose) and "对数比" not in prose  # 奖励模型; "log ratio" throughout
    assert not re.search(r"^#+ \d+(\.\d+)* ", prose, re.M), "no leftover seed section numbers"
    assert "术语表" in "\n".join(c.source for c in cells["01_preferences.ipynb"])
    last = "\n".join(c.source for c in cells["04_dpo_training.ipynb"])
    for reading in ("Rafailov", "Ouyang", "Azar", "DPOTrainer"):
        assert reading in last, reading
    # the β question of lesson 3 asks about the β values lesson 4 runs
    beta_question = next(c.source for c in cells["03_dpo_loss.ipynb"] if "问答：β 的作用" in c.source)
    assert "0.05、0.1、0.5" in beta_question and "betas=(0.05, 0.5)" in last
    # lesson 4 uses the package's public functions, not its internals
    code_04 = "\n".join(c.source for c in cells["04_dpo_training.ipynb"] if c.cell_type == "code")
    assert "train_dpo(" not in code_04 and "prepare(" not in code_04 and "build_reference" not in code_04

# ---------------------------------------------------------------------------
# Executing the notebooks
# ---------------------------------------------------------------------------
def _outputs_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)


def _execute(name, exercise_file, student_mode=False):
    nb = _read(name)
    keys = (ENV_VAR, "MPLBACKEND", paths.STUDENT_MODE_ENV)
    saved = {key: os.environ.get(key) for key in keys}
    os.environ[ENV_VAR] = str(exercise_file)
    os.environ.pop("MPLBACKEND", None)  # let the kernel use its inline backend, as in JupyterLab
    if student_mode:
        os.environ[paths.STUDENT_MODE_ENV] = "1"
    try:
        started = time.perf_counter()
        # allow_errors: the graded TODO cells at the end fail while a TODO is unfinished (checked below)
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                         resources={"metadata": {"path": str(paths.NOTEBOOKS_DIR)}})
        client.execute()
        seconds = time.perf_counter() - started
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb, seconds


@pytest.fixture(scope="module")
def warm_sft_cache():
    """The SFT warm start is cached; a cold cache is not the notebook's time."""
    import torch

    from step5_rlhf.training import TrainConfig
    from step5_rlhf.training.run import build_reference, prepare

    config = TrainConfig(data=str(paths.DATA_DIR), progress=False)
    build_reference(prepare(config), config, torch.device("cpu"))


@pytest.fixture(scope="module")
def solution_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("solution_student")
    shutil.copy(paths.SOLUTION, folder / "train_dpo_exercise.py")
    return folder / "train_dpo_exercise.py"


@pytest.fixture(scope="module")
def executed(solution_file, warm_sft_cache):
    """(case, notebook) -> (executed notebook, seconds), filled lazily."""
    cache = {}

    def run(case, name):
        if (case, name) not in cache:
            exercise = solution_file if case == "solution" else paths.EXERCISE
            cache[case, name] = _execute(name, exercise, student_mode=case == "student")
        return cache[case, name]

    return run


def _errors(nb):
    return [(c, o) for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]


def _check_common(nb, seconds, name, case):
    print(f"{case:>9} {name}: {seconds:.1f} s (load average {os.getloadavg()[0]:.1f})")
    errors = _errors(nb)
    if case == "solution":
        assert not errors, [o.evalue for _, o in errors]
    else:  # only the graded TODO cells fail, each with one Chinese line and no traceback
        for cell, output in errors:
            todo = TODO_CELLS.get((_nbgrader(cell) or {}).get("grade_id"))
            assert todo, f"{name}: 出错的单元不是 TODO 评分单元：{cell.source[:80]!r} → {output.evalue}"
            assert output.ename == "TodoCheckFailed" and f"{todo.label}（{todo.name}）还没有完成" in output.evalue
            assert output.traceback == [f"❌ {output.evalue}"]
        graded_todos = [c for c in nb.cells if (_nbgrader(c) or {}).get("grade_id") in TODO_CELLS]
        assert len(errors) == len(graded_todos)
    setup_out = _outputs_text(next(c for c in nb.cells if c.cell_type == "code"))
    assert "练习文件：" in setup_out


@pytest.mark.slow
@pytest.mark.parametrize("case,name", [("solution", name) for name in NOTEBOOKS] + [("student", name) for name in NOTEBOOKS]
                         # Lesson 4 falls back to the reference through the same call as lesson 3 and would then
                         # repeat the solution run's training exactly, so the repository fallback is run on 1–3.
                         + [("exercise", name) for name in NOTEBOOKS[:3]])
def test_notebook_runs(executed, name, case):
    nb, seconds = executed(case, name)
    _check_common(nb, seconds, name, case)
    everything = "\n".join(_outputs_text(c) for c in nb.cells)

    # lesson check cells: the verdict the checker prints, never an exception
    for todo in TODOS:
        lesson = [c for c in nb.cells if f"train_dpo_exercise.test_{todo.name}()" in c.source]
        if lesson:
            out = _outputs_text(lesson[0])
            verdict = "✅ 通过" if case == "solution" else "⬜ 还没做"
            assert verdict in out and todo.name in out, out
            assert not [o for o in lesson[0].outputs if o.output_type == "execute_result"
                        and o.data.get("text/plain") in ("True", "False")]

    # the fallback notice appears exactly when a TODO is unfinished and a reference exists
    if name in ("03_dpo_loss.ipynb", "04_dpo_training.ipynb"):
        if case == "solution":
            assert FALLBACK_MARK not in everything and SKIP_MARK not in everything
            assert "✅ 用你自己的代码" in everything
        elif case == "exercise":
            assert FALLBACK_MARK in everything and "还没有通过检查" in everything
        else:
            assert FALLBACK_MARK not in everything and SKIP_MARK in everything
    else:
        assert FALLBACK_MARK not in everything

    if name == "01_preferences.ipynb":
        assert "格式正确" in _outputs_text(_by_grade_id(nb)["bt_probability"])
        assert "P(chosen 优于 rejected) = 0.8176" in everything
    if name == "02_ppo_vs_dpo.ipynb":
        assert "格式正确" in _outputs_text(_by_grade_id(nb)["implicit_reward"])
    if name == "03_dpo_loss.ipynb":
        for line in ("策略模型 log ratio: 1.0000", "参考模型 log ratio: 0.1000", "相对改进: 0.9000", "DPO Loss: 0.6492"):
            assert line in everything
        if case != "student":
            assert "策略模型 = 参考模型时的 DPO 损失：0.6931" in everything
            logps = re.search(r"sequence_log_probs: (\[.*\])\n逐个 token 手算   : (\[.*\])", everything)
            assert logps and logps.group(1) == logps.group(2)
    if name == "04_dpo_training.ipynb" and case != "student":
        assert ("用的是：你的代码" if case == "solution" else "用的是：参考答案") in everything
        assert "留出集：奖励准确率" in everything and "分布外留出集：奖励准确率" in everything
        assert "隐式奖励准确率 rewards/accuracies" in everything and "捷径基线" in everything
        assert "裁判好回答率：参考模型 → DPO 之后" in everything and "好回答率变化的 95% 区间" in everything
        assert "def train_dpo(" in everything  # the training loop, shown as it is
        assert "β" in everything and "KL(策略‖参考)" in everything
        images = sum(o.output_type == "display_data" and "image/png" in o.get("data", {})
                     for c in nb.cells for o in c.get("outputs", []))
        assert images >= 2  # the training curves and the β experiment
    if name in ("01_preferences.ipynb", "03_dpo_loss.ipynb"):
        images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        assert images == {"01_preferences.ipynb": 1, "03_dpo_loss.ipynb": 2}[name]

