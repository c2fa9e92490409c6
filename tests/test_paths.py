"""Where things are found: in the repository (instructor / self-study) and in a student's folder."""

import shutil

import pytest

from step5_rlhf import paths


@pytest.fixture
def clean_env(monkeypatch):
    for name in (paths.EXERCISE_ENV, paths.DATA_ENV, paths.CACHE_ENV, paths.STUDENT_MODE_ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_exercise_is_found_next_to_the_notebook_then_in_the_repository(tmp_path, clean_env):
    shutil.copy(paths.EXERCISE, tmp_path / paths.EXERCISE_NAME)
    clean_env.chdir(tmp_path)  # nbgrader assignment layout: the exercise sits next to the notebook
    assert paths.find_exercise() == (tmp_path / paths.EXERCISE_NAME).resolve()
    clean_env.chdir(paths.NOTEBOOKS_DIR)  # the repository layout
    assert paths.find_exercise() == paths.EXERCISE.resolve()
    clean_env.chdir(paths.ROOT)
    assert paths.find_exercise() == paths.EXERCISE.resolve()
    clean_env.setenv(paths.EXERCISE_ENV, str(tmp_path))  # a folder works too
    assert paths.find_exercise() == (tmp_path / paths.EXERCISE_NAME).resolve()
    clean_env.setenv(paths.EXERCISE_ENV, str(tmp_path / "nowhere.py"))
    with pytest.raises(FileNotFoundError, match="nowhere.py"):
        paths.find_exercise()


def test_student_mode_never_reaches_into_the_repository(tmp_path, clean_env):
    clean_env.setenv(paths.STUDENT_MODE_ENV, "1")
    assert not paths.repo_mode()
    clean_env.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="找不到练习文件"):
        paths.find_exercise()
    with pytest.raises(FileNotFoundError, match="找不到数据文件夹"):
        paths.find_data_dir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text("{}\n", encoding="utf-8")
    assert paths.find_data_dir() == tmp_path / "data"
    assert paths.runs_dir() == tmp_path / "runs"


def test_cache_is_per_user_not_in_the_package(tmp_path, clean_env):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.cache_dir() == tmp_path / "step5_rlhf"
    clean_env.setenv(paths.CACHE_ENV, str(tmp_path / "mine"))
    assert paths.cache_dir() == tmp_path / "mine"


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "step5_rlhf", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "check" in proc.stdout and "student" in proc.stdout
