"""Running a lesson notebook through nbclient and checking what a student would see (shared by
test_notebooks.py and test_notebook_training.py, which are separate files so that pytest-xdist can
run the long training notebook next to the others)."""

import os
import re
import shutil
import time

import nbclient
import nbformat
import pytest

from step5_rlhf import paths
from step5_rlhf.notebook_support import FALLBACK_MARK, SKIP_MARK, SMOKE_ENV
from step5_rlhf.todos import TODOS

NOTEBOOKS = ("01_preferences.ipynb", "02_ppo_vs_dpo.ipynb", "03_dpo_loss.ipynb", "04_dpo_training.ipynb",
             "05_ppo_vs_dpo_measured.ipynb", "06_dpo_variants_lab.ipynb")
# Notebooks whose graded answer reads their own run's output: each run gets a folder of its own, so one
# case never reads what another wrote (lesson 05 reads runs/compare/frontier.json).
OWN_FOLDER = {"05_ppo_vs_dpo_measured.ipynb"}
TODO_CELLS = {f"todo{t.number}_{t.name}": t for t in TODOS}
ENV_VAR = paths.EXERCISE_ENV
# The cells of lesson 05's question on the student's own comparison run fail when the run was skipped
# (unfinished TODOs): the answer cell says in Chinese to run the comparison first.
RUN_QUESTION = {"dpo_gain_answer": "先运行上面的比较实验", "dpo_gain": "dpo_gain_points"}


def _read(name):
    return nbformat.read(paths.NOTEBOOKS_DIR / name, as_version=4)


def _nbgrader(cell):
    return cell.metadata.get("nbgrader")


def _by_grade_id(nb):
    return {_nbgrader(c)["grade_id"]: c for c in nb.cells if _nbgrader(c)}


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


def _execute(name, exercise_file, student_mode=False, folder=paths.NOTEBOOKS_DIR):
    nb = _read(name)
    keys = (ENV_VAR, "MPLBACKEND", paths.STUDENT_MODE_ENV, SMOKE_ENV)
    saved = {key: os.environ.get(key) for key in keys}
    os.environ[ENV_VAR] = str(exercise_file)
    os.environ[SMOKE_ENV] = "1"  # lesson experiments run a tiny setting: the tests check that lessons run
    os.environ.pop("MPLBACKEND", None)  # let the kernel use its inline backend, as in JupyterLab
    if student_mode:
        os.environ[paths.STUDENT_MODE_ENV] = "1"
    try:
        started = time.perf_counter()
        # allow_errors: the graded TODO cells at the end fail while a TODO is unfinished (checked below)
        client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                         resources={"metadata": {"path": str(folder)}})
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
def executed(solution_file, tmp_path_factory):
    """(case, notebook) -> (executed notebook, seconds), filled lazily."""
    cache = {}

    def run(case, name):
        if (case, name) not in cache:
            exercise = solution_file if case == "solution" else paths.EXERCISE
            folder = paths.NOTEBOOKS_DIR
            if name in OWN_FOLDER:
                folder = tmp_path_factory.mktemp(f"{case}_{name[:2]}")
                (folder / "data").symlink_to(paths.DATA_DIR)  # student mode finds data next to the notebook
            cache[case, name] = _execute(name, exercise, student_mode=case == "student", folder=folder)
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
        own_run = [(c, o) for c, o in errors if (_nbgrader(c) or {}).get("grade_id") in RUN_QUESTION]
        for cell, output in own_run:  # a question about the student's own run, asked before any run
            assert RUN_QUESTION[_nbgrader(cell)["grade_id"]] in output.evalue, output.evalue
        errors = [e for e in errors if e not in own_run]
        for cell, output in errors:
            todo = TODO_CELLS.get((_nbgrader(cell) or {}).get("grade_id"))
            assert todo, f"{name}: 出错的单元不是 TODO 评分单元：{cell.source[:80]!r} → {output.evalue}"
            assert output.ename == "TodoCheckFailed" and f"{todo.label}（{todo.name}）还没有完成" in output.evalue
            assert output.traceback == [f"❌ {output.evalue}"]
        # an optional TODO's graded cell says "选做，还没做" and does not fail
        graded_todos = [c for c in nb.cells if (_nbgrader(c) or {}).get("grade_id") in TODO_CELLS
                        and not TODO_CELLS[_nbgrader(c)["grade_id"]].optional]
        assert len(errors) == len(graded_todos)
        for cell in nb.cells:
            todo = TODO_CELLS.get((_nbgrader(cell) or {}).get("grade_id"))
            if todo and todo.optional:
                assert "选做，还没做" in _outputs_text(cell), _outputs_text(cell)
    setup_out = _outputs_text(next(c for c in nb.cells if c.cell_type == "code"))
    assert "练习文件：" in setup_out


def assert_notebook_run(nb, seconds, name, case):
    """Everything a student should see after running `name` top to bottom as `case`."""
    _check_common(nb, seconds, name, case)
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
    if name in ("03_dpo_loss.ipynb", "04_dpo_training.ipynb", "06_dpo_variants_lab.ipynb"):
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
    if name == "05_ppo_vs_dpo_measured.ipynb":
        assert "def gae(" in everything and "def clipped_losses(" in everything  # PPO's core, shown as it is
        if case == "student":
            assert SKIP_MARK in everything and "奖励模型在留出偏好对上的准确率" not in everything
        else:
            assert ("用的是：你的代码" if case == "solution" else "用的是：参考答案") in everything
            for text in ("奖励模型在留出偏好对上的准确率", "参考模型（SFT）", "PPO", "RLOO", "GRPO", "best-of-N", "（估计；上界",
                         "裁判（规则奖励）", "① 随机误差", "② 每种方法在 KL ≤ 2 内最好的点", "④ best-of-N 的 KL",
                         "每个点的秒数", "训练时内存里的模型"):
                assert text in everything, text
            graded = _outputs_text(_by_grade_id(nb)["dpo_gain"])
            assert "格式正确" in graded and "✅ 正确" in graded  # the hidden test, run on this run's frontier.json
            images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
            assert images == 1  # the frontier
    if name == "06_dpo_variants_lab.ipynb":
        graded = _outputs_text(_by_grade_id(nb)["robust_value"])
        assert "格式正确" in graded and "✅ 正确" in graded
        if case == "student":
            assert SKIP_MARK in everything and "留出集准确率（干净标注）" not in everything
        else:
            for text in ("训练集里标反的比例（以裁判为准）", "留出集准确率（干净标注）", "回答平均长度（字）",
                         "训练集里 chosen 比 rejected 长的比例", "最后一步的训练损失", "参考模型准备好了"):
                assert text in everything, text
            images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
            assert images == 1  # the over-fitting curves
    if name in ("01_preferences.ipynb", "03_dpo_loss.ipynb"):
        images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
        assert images == {"01_preferences.ipynb": 1, "03_dpo_loss.ipynb": 2}[name]

