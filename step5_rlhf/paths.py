"""Where the course files live, relative to the repository checkout."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "train_dpo_solution.py"
EXERCISE = ROOT / "exercises" / "train_dpo_exercise.py"
DATA_DIR = ROOT / "data"
NOTEBOOKS_DIR = ROOT / "notebooks"
