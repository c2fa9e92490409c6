"""The lesson notebooks: clean nbgrader sources, and they run top to bottom in a real kernel.

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

import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from notebook_runs import (NOTEBOOKS, TODO_CELLS, _by_grade_id, _nbgrader, _read, assert_notebook_run,  # noqa: E402
                           executed, solution_file)
from step5_rlhf import paths  # noqa: E402
from step5_rlhf.course import cell_points  # noqa: E402

# grade_id -> (notebook, points) for every graded cell; the TODO points come from todos.py.
GRADED = {
    "bt_probability": ("01_preferences.ipynb", 1),
    "implicit_reward": ("02_ppo_vs_dpo.ipynb", 1),
    "answer_dpo_vs_ppo": ("02_ppo_vs_dpo.ipynb", 2),
    "answer_beta": ("03_dpo_loss.ipynb", 2),
    "answer_beta_experiment": ("04_dpo_training.ipynb", 2),
    "dpo_gain": ("05_ppo_vs_dpo_measured.ipynb", 1),
    "answer_frontier": ("05_ppo_vs_dpo_measured.ipynb", 3),
    "robust_value": ("06_dpo_variants_lab.ipynb", 1),
    "answer_variants": ("06_dpo_variants_lab.ipynb", 3),
    # the TODO cells: 1–2 in lesson 3, 3–5 in lesson 4, the optional 6–7 in lesson 6 (0 points: extra credit)
    **{gid: ({1: "03_dpo_loss.ipynb", 2: "03_dpo_loss.ipynb", 6: "06_dpo_variants_lab.ipynb",
              7: "06_dpo_variants_lab.ipynb"}.get(t.number, "04_dpo_training.ipynb"), cell_points(t))
       for gid, t in TODO_CELLS.items()},
}
NBGRADER_KEYS = {"schema_version", "grade_id", "grade", "solution", "locked"}


# ---------------------------------------------------------------------------
# The committed sources
# ---------------------------------------------------------------------------
def test_exactly_these_notebooks():
    assert sorted(p.name for p in paths.NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_a_clean_valid_source(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        # a control character is a formula's backslash eaten by a string escape ("\varepsilon" → "\x0barepsilon")
        assert not re.search(r"[\x00-\x08\x0b-\x1f]", cell.source), f"{name}: 单元里有控制字符：{cell.source[:60]!r}"
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
        if meta["grade"]:  # only an optional TODO's cell has 0 points (its points are extra credit)
            optional = meta["grade_id"] in TODO_CELLS and TODO_CELLS[meta["grade_id"]].optional
            assert isinstance(meta.get("points"), int) and (meta["points"] > 0 or optional)
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
            assert (meta["grade"], meta["solution"], meta["locked"], meta["points"]) == (True, False, True, cell_points(todo))
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


@pytest.mark.parametrize("gid, variable", [("bt_probability", "p_chosen"), ("implicit_reward", "implicit_reward"),
                                           ("dpo_gain", "dpo_gain_points"), ("robust_value", "robust_value")])
def test_autograded_answers(gid, variable):
    nb = _read(GRADED[gid][0])
    cells = _by_grade_id(nb)
    answer, test = cells[f"{gid}_answer"], cells[gid]
    assert nb.cells.index(answer) + 1 == nb.cells.index(test), "答案单元后面紧跟测试单元"
    a, t = _nbgrader(answer), _nbgrader(test)
    assert (a["grade"], a["solution"], a["locked"]) == (False, True, False)
    assert (t["grade"], t["solution"], t["locked"], t["points"]) == (True, False, True, 1)
    assert re.search(rf"### BEGIN SOLUTION\n(.*\n)*{variable} = .*\n### END SOLUTION", answer.source)
    visible, hidden = test.source.split("### BEGIN HIDDEN TESTS")
    assert "isinstance" in visible and "abs(" not in visible  # type and range only: the value stays hidden
    assert f"assert abs({variable} - " in hidden


@pytest.mark.parametrize("gid", ["answer_dpo_vs_ppo", "answer_beta", "answer_beta_experiment", "answer_frontier",
                                 "answer_variants"])
def test_manually_graded_answers_carry_a_rubric_for_graders_only(gid):
    nb = _read(GRADED[gid][0])
    cell = _by_grade_id(nb)[gid]
    meta = _nbgrader(cell)
    assert cell.cell_type == "markdown"
    points = GRADED[gid][1]
    assert (meta["grade"], meta["solution"], meta["locked"], meta["points"]) == (True, True, False, points)
    # The instructor version holds a reference answer and the point scheme; the student version
    # (nbgrader's ClearSolutions, the same as `step5-rlhf student`) an empty place to write.
    assert "参考答案" in cell.source and f"评分标准（{points} 分）" in cell.source
    assert cell.source.count("- 1 分：") == points
    from step5_rlhf.course.student_copy import student_notebook

    released = _by_grade_id(student_notebook(nb))[gid]
    assert released.source.startswith("✏️") and "参考答案" not in released.source
    question = nb.cells[nb.cells.index(cell) - 1]
    assert "人工评分" in question.source and f"（{points} 分" in question.source


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
        "- [ ] 理解 β 参数的作用",
        "Step 6",
    ):
        assert piece in text, piece
    assert "](../step6_vlm" not in text  # Step 6 is not part of this module: named, never linked


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

def test_lessons_2_and_3_say_what_beta_is_and_define_their_rl_terms():
    cells = {name: _read(name).cells for name in ("02_ppo_vs_dpo.ipynb", "03_dpo_loss.ipynb")}
    text = {name: "\n".join(c.source for c in nb) for name, nb in cells.items()}
    solution = paths.SOLUTION.read_text(encoding="utf-8")
    # β is the KL coefficient and, in the DPO loss, a soft scale for the margin; not a bound on how far the policy moves
    for where, body in (*text.items(), ("solution", solution)):
        assert "控制策略模型能偏离参考模型多远" not in body.replace("只写“β 控制策略模型能偏离参考模型多远”", ""), where
        assert "KL 惩罚的系数" in body, where
    rubric = next(c.source for c in cells["03_dpo_loss.ipynb"] if "answer_beta" == (_nbgrader(c) or {}).get("grade_id"))
    assert "不给这 1 分" in rubric and "间隔" in rubric
    # lesson 2: every RL term is explained where it is first used, and the KL divergence is written out
    lesson2 = text["02_ppo_vs_dpo.ipynb"]
    for term in ("**rollout**", "**on-policy**", "**策略梯度**", "**价值模型**", "**GAE**", "**裁剪**", "γ", "λ", "ε"):
        assert term in lesson2, term
    assert r"\mathrm{KL}(\pi_\theta \,\|\, \pi_{ref}) = \mathbb{E}_{y \sim \pi_\theta(\cdot \mid x)}" in lesson2
    assert "即可验证" not in lesson2 and "理论上" in lesson2 and "实践中" in lesson2
    assert "两者优化的是**同一个**目标" not in lesson2
    # lesson 3: chosen/rejected are labels (some flipped), never the judge's "好回答"; the length bias comes from the sum
    lesson3 = text["03_dpo_loss.ipynb"]
    assert "chosen 总是更好" not in lesson3 and "标反" in lesson3
    assert "chosen（好回答）" not in lesson3 + lesson2 and "rejected（差回答）" not in lesson3 + lesson2
    assert "log 概率之和的绝对值越大" not in lesson3 and "代理" in lesson3


# ---------------------------------------------------------------------------
# Executing the notebooks
# ---------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("case,name", [("solution", name) for name in NOTEBOOKS[:3]]
                         + [("student", name) for name in NOTEBOOKS]
                         # Lesson 4 falls back to the reference through the same call as lesson 3 and would then
                         # repeat the solution run's training exactly, so the repository fallback is run on 1–3.
                         # The solution run of lesson 4 (it trains) is in test_notebook_training.py.
                         + [("exercise", name) for name in NOTEBOOKS[:3]])
def test_notebook_runs(executed, name, case):
    nb, seconds = executed(case, name)
    assert_notebook_run(nb, seconds, name, case)
