"""The nbgrader course of this module, built from the repository (notebooks/, the solution, data/).

    step5-rlhf course build COURSE_DIR      # COURSE_DIR/source/step5_rlhf/ + nbgrader_config.py
    cd COURSE_DIR && nbgrader generate_assignment step5_rlhf && ...

Nothing of the course is kept in the repository: every build regenerates it from one source.
"""

ASSIGNMENT = "step5_rlhf"
COURSE_ID = "step5-rlhf-dpo"
EXERCISE_FILE = "train_dpo_exercise.py"
