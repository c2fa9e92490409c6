"""Shared pytest options: `--submission PATH` points the TODO checks at any student file."""

import pytest

from step5_rlhf import paths


def pytest_addoption(parser):
    parser.addoption("--submission", default=None, metavar="PATH",
                     help="run the TODO checks on this file (default: the reference solution)")


@pytest.fixture(scope="session")
def submission_path(request):
    return request.config.getoption("--submission") or str(paths.SOLUTION)
