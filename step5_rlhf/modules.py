"""Load a Python file by path as a fresh module: the reference, a student's file, a notebook's copy."""

import importlib.util
import sys
from pathlib import Path


def load_file(path, name: str):
    """Execute the file at `path` as module `name`; registered in sys.modules (dataclasses look there)."""
    spec = importlib.util.spec_from_file_location(name, Path(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
