"""Expected outputs: the reference solution and the catalogued mistakes, run in this (trusted) process."""

import functools

import torch

from .. import paths
from ..modules import load_file
from . import cases, mistakes, wire


@functools.cache
def solution_module():
    return load_file(paths.SOLUTION, "step5_reference")


def _plain(outputs):
    # The same encode/decode round trip a child's outputs go through, so comparisons see one form.
    return wire.decode(wire.encode(outputs))


@functools.cache
def expected(case_id: str):
    with torch.enable_grad():
        return _plain(cases.run_case(solution_module(), cases.BY_ID[case_id]))


@functools.cache
def mistake_outputs(case_id: str) -> tuple:
    """(mistake, outputs) for every catalogued mistake of this case's TODO that runs on it."""
    case = cases.BY_ID[case_id]
    found = []
    for mistake in mistakes.BY_TODO.get(case.todo, []):
        try:
            with torch.enable_grad():
                found.append((mistake, _plain(cases.run_call(mistake.func, case))))
        except Exception:
            continue
    return tuple(found)


@functools.cache
def initial_params(case_id: str) -> torch.Tensor:
    model = cases.BY_ID[case_id].build()["policy"]
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])

