"""Loaded by every Python process whose PYTHONPATH starts here (tests/test_distributed.py).

In a non-main process of a torchrun launch (RANK ≠ 0) it records every file opened for writing,
every folder created and every rename, one JSON line per event, in $STEP5_AUDIT_DIR/rank<N>.jsonl.
The test then checks that those processes wrote nothing into the run's output or working folder.
"""

import json
import os
import sys

_RANK = os.environ.get("RANK", "0")
_FOLDER = os.environ.get("STEP5_AUDIT_DIR")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _writes(event, args):
    if event == "open":
        path, mode, flags = args
        if mode is not None:
            return any(c in str(mode) for c in "wax+") and path
        return isinstance(flags, int) and flags & _WRITE_FLAGS and path
    if event in ("os.mkdir", "os.rename", "os.replace", "os.symlink", "os.link"):
        return args[0] if event == "os.mkdir" else args[1]
    return None


if _FOLDER and _RANK != "0":
    _log = open(os.path.join(_FOLDER, f"rank{_RANK}.jsonl"), "a", encoding="utf-8", buffering=1)

    def _hook(event, args):
        path = _writes(event, args)
        if path and not isinstance(path, int):
            _log.write(json.dumps({"event": event, "path": os.path.abspath(os.fsdecode(path))}) + "\n")

    sys.addaudithook(_hook)
