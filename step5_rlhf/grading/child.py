"""Child process: import one submission, run the requested cases, stream plain outputs.

Started by `step5_rlhf.grading.runner` with a JSON request on stdin. It locks itself down
(see `sandbox`) *before* importing the submission, then writes one JSON line per case to the
result pipe. It never compares anything: the grader does that in its own process.
"""

import importlib.util
import json
import os
import sys
import traceback


def _error(kind, exc, path):
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == path:
            line = frame.lineno
    message = str(exc) if not isinstance(exc, (SystemExit, KeyboardInterrupt)) else ""
    return {"kind": kind, "type": type(exc).__name__[:60], "message": message[:300], "line": line}


def _classify(exc):
    if isinstance(exc, NotImplementedError):
        return "not_done"
    if isinstance(exc, (SystemExit, KeyboardInterrupt, GeneratorExit)):
        return "exit"
    if isinstance(exc, MemoryError):
        return "memory"
    return "exception"


def main():
    request = json.loads(sys.stdin.readline())
    out = os.fdopen(request["result_fd"], "w", encoding="utf-8", closefd=True)

    # Everything the checks need is imported before the lock-down and before the submission runs.
    import torch

    from step5_rlhf.checks import cases as case_module
    from step5_rlhf.checks import wire
    from step5_rlhf.grading import sandbox

    torch.set_num_threads(1)
    path = os.path.abspath(request["submission"])
    with open(path, "rb") as handle:
        source = handle.read()
    sandbox.lock_down(request.get("limits", {}), workdir=request["workdir"])

    def send(record):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()

    try:
        spec = importlib.util.spec_from_loader("submission", loader=None, origin=path)
        module = importlib.util.module_from_spec(spec)
        module.__file__ = path
        sys.modules["submission"] = module
        exec(compile(source, path, "exec"), module.__dict__)
    except BaseException as exc:  # a broken or hostile file must still produce a report
        send({"import_error": _error("syntax" if isinstance(exc, SyntaxError) else _classify(exc), exc, path)})
        return
    send({"ready": True})

    for case_id in request["cases"]:
        case = case_module.BY_ID[case_id]
        try:
            if case.runner == "call" and not callable(getattr(module, case.todo, None)):
                raise AttributeError(f"找不到函数 {case.todo}")
            record = {"case": case_id, "outputs": wire.encode(case_module.run_case(module, case))}
        except BaseException as exc:
            record = {"case": case_id, "error": _error(_classify(exc), exc, path)}
        send(record)


if __name__ == "__main__":
    main()
    # Skip interpreter teardown: a submission's atexit hooks or threads must not delay the grader.
    sys.stdout.flush()
    os._exit(0)
