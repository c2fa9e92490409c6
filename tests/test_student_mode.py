"""A student with only what an instructor hands out: the release folder and the wheel from `course build`.

The wheel goes into a fresh virtual environment with no repository on the path (the heavy
dependencies come from this environment's site-packages through a .pth file, so nothing is
downloaded). Checks, the exercise's own self-check and the notebooks then work from the release
folder; nothing the student gets carries a line of the reference answers.
"""

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from leaks import answer_lines, leaked
from step5_rlhf import paths

pytestmark = pytest.mark.slow

SIGN_BUG = ("losses = -F.logsigmoid(beta * logits)", "losses = -F.logsigmoid(-beta * logits)")


@pytest.fixture(scope="module")
def student(released_course, tmp_path_factory):
    """(venv python, venv bin, a fresh copy of the release folder, the wheel)."""
    course, release = released_course
    root = tmp_path_factory.mktemp("student")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    (wheel,) = sorted((course / "dist").glob("step5_rlhf-*.whl"))
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)

    def fresh_folder(name, exercise_text=None):
        folder = root / name
        shutil.copytree(release, folder)
        if exercise_text is not None:
            (folder / paths.EXERCISE_NAME).write_text(exercise_text, encoding="utf-8")
        return folder

    return python, venv / "bin", fresh_folder, wheel


def _run(args, cwd, timeout=300):
    env = {"PATH": f"{Path(args[0]).parent}:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_the_installed_package_runs_in_student_mode(student):
    python, _, fresh_folder, _ = student
    folder = fresh_folder("probe")
    proc = _run([python, "-c", "import json, sys, step5_rlhf; from step5_rlhf import paths; "
                 "print(json.dumps([step5_rlhf.__file__, paths.repo_mode(), sys.path]))"], folder)
    location, repo_mode, sys_path = json.loads(proc.stdout)
    assert str(Path(python).parent.parent) in location and not repo_mode
    assert not [p for p in sys_path if p and Path(p).resolve() == paths.ROOT]


def test_untouched_exercise_says_not_done(student):
    python, _, fresh_folder, _ = student
    proc = _run([python, paths.EXERCISE_NAME], fresh_folder("untouched"))
    # every TODO says "还没做"; the two optional ones cost nothing and are counted apart
    assert proc.returncode == 1 and proc.stdout.count("还没做") == 7, proc.stdout + proc.stderr
    assert "得分 0/12；选做加分 0/3" in proc.stdout


def test_a_correct_exercise_passes_the_self_check_and_step5_check(student):
    python, bin_dir, fresh_folder, _ = student
    folder = fresh_folder("correct", paths.SOLUTION.read_text(encoding="utf-8"))
    own = _run([python, paths.EXERCISE_NAME], folder)
    assert own.returncode == 0 and "5/5 个 TODO 通过，得分 12/12" in own.stdout, own.stdout + own.stderr
    check = _run([bin_dir / "step5-rlhf", "check"], folder)  # finds the exercise in the current folder
    assert check.returncode == 0 and "得分 12/12" in check.stdout, check.stdout + check.stderr


def test_a_sign_bug_fails_with_its_hint(student):
    _, bin_dir, fresh_folder, _ = student
    wrong = paths.SOLUTION.read_text(encoding="utf-8").replace(*SIGN_BUG)
    proc = _run([bin_dir / "step5-rlhf", "check", "1"], fresh_folder("sign_bug", wrong))
    assert proc.returncode == 1 and "不对" in proc.stdout and "符号反了" in proc.stdout, proc.stdout + proc.stderr


def test_no_reference_to_fall_back_on(student):
    _, bin_dir, fresh_folder, _ = student
    folder = fresh_folder("no_reference")
    train = _run([bin_dir / "step5-rlhf", "train", "--impl", "solution", "--quiet"], folder)
    assert train.returncode == 2 and "这里没有参考答案" in train.stderr, train.stderr
    untouched = _run([bin_dir / "step5-rlhf", "train", "--quiet"], folder)  # default: the exercise here
    assert untouched.returncode == 2 and "TODO 1（dpo_loss）" in untouched.stderr and "--impl solution" not in untouched.stderr
    grade = _run([bin_dir / "step5-rlhf", "grade", paths.EXERCISE_NAME], folder)
    assert grade.returncode == 2 and "评分需要参考答案" in grade.stderr


def test_notebooks_run_from_the_release_folder_and_skip_what_needs_unfinished_todos(student):
    python, _, fresh_folder, _ = student
    folder = fresh_folder("notebooks")
    script = """
import json, sys, nbclient, nbformat
result = {}
for name in sys.argv[1:]:
    nb = nbformat.read(name, as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True).execute()
    errors = [o.ename + ": " + o.evalue for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream")
    result[name] = {"errors": errors, "text": text}
print(json.dumps(result, ensure_ascii=False))
"""
    proc = _run([python, "-c", script, "01_preferences.ipynb", "04_dpo_training.ipynb"], folder, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # only the unanswered numeric question fails (its answer cell is still the stub)
    assert result["01_preferences.ipynb"]["errors"] == ["NotImplementedError: ", "NameError: name 'p_chosen' is not defined"]
    assert "练习文件：train_dpo_exercise.py" in result["01_preferences.ipynb"]["text"]  # no machine path
    assert "训练集" in result["01_preferences.ipynb"]["text"]  # read ./data of the release
    training = result["04_dpo_training.ipynb"]
    assert "先跳过" in training["text"] and "改用参考答案" not in training["text"]
    assert all(error.startswith("TodoCheckFailed: TODO") for error in training["errors"]) and len(training["errors"]) == 3
    assert not (folder / "runs").exists()  # nothing was trained without the student's code


def test_nothing_the_student_gets_holds_reference_code(student):
    _, _, fresh_folder, wheel = student
    lines = answer_lines()
    assert len(lines) > 40
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert not [n for n in names if "solution" in n or n.endswith("mistakes.py") or n.startswith("tests/")]
        assert "step5_rlhf/checks/expected.json" in names
        for name in names:
            found = leaked(archive.read(name).decode("utf-8", "replace"), lines)
            assert not found, f"{name}: {found[:3]}"
    folder = fresh_folder("leak_scan")
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".ipynb", ".json", ".jsonl"):
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".ipynb":
                text = "\n".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                                 for c in json.loads(text)["cells"])
            found = leaked(text, lines)
            assert not found, f"{path.name}: {found[:3]}"
