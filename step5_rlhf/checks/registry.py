"""All TODO check modules in course order, and their cases."""

from ..todos import TODOS
from . import (todo1_dpo_loss, todo2_sequence_log_probs, todo3_collate, todo4_metrics, todo5_train_step,
               todo6_preference_loss, todo7_reward_model_loss)
from .case import graded_run, practice_run

MODULES = {m.TODO: m for m in (todo1_dpo_loss, todo2_sequence_log_probs, todo3_collate, todo4_metrics,
                               todo5_train_step, todo6_preference_loss, todo7_reward_model_loss)}
assert list(MODULES) == [t.name for t in TODOS], "one check module per TODO, in course order"

CASES = [case for module in MODULES.values() for case in module.CASES]
BY_ID = {case.id: case for case in CASES}


def cases_for(todo_name: str) -> list:
    return list(MODULES[todo_name].CASES)


def practice_runs(todo_names) -> list:
    """The runs of a student's self-check: every case of the named TODOs with its practice seed."""
    return [practice_run(case) for name in todo_names for case in cases_for(name)]


def graded_runs(todo_names, grading_seed: int) -> list:
    """Instructor grading: the practice runs, then every case again on inputs derived from the grading seed."""
    runs = []
    for name in todo_names:
        runs += [practice_run(case) for case in cases_for(name)]
        runs += [graded_run(case, grading_seed) for case in cases_for(name)]
    return runs
