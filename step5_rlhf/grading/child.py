"""Child side: run one submission's cases behind the sandbox and stream plain outputs.

A submission is an exercise file (then its check cases run) or a notebook answer cell (then the
values of the requested variables are reported).

Two ways to start, same work (`serve`):

* fork server (Linux): `python -I -m step5_rlhf.grading.child --server FD` imports torch and
  the case builders once, then forks one child per submission on request from the grader
  (over the unix socket FD). Forking skips the ~2 s torch import per submission.
* one process per submission (elsewhere): `python -I -m step5_rlhf.grading.child` with the
  request as one JSON line on stdin.

A child locks itself down (`sandbox.lock_down`) before it runs a single line of the submission,
reports what the sandbox enforces, runs the submission's module code, then writes one JSON
line per case to the result pipe. It never compares anything: the grader does that.
"""

import base64
import json
import os
import signal
import sys
import traceback

MAX_REQUEST = 64 * 1024 * 1024
_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36


def prepare():
    """Import everything a case can need, before any lock-down (the checkout becomes unreadable)."""
    import torch
    import torch.nn.functional  # noqa: F401  (submissions do `import torch.nn.functional as F`)
    import torch.optim  # noqa: F401

    from step5_rlhf.checks import case, registry, wire  # noqa: F401
    from step5_rlhf.grading import sandbox  # noqa: F401

    torch.set_num_threads(1)  # also keeps the fork server single-threaded: fork is then safe
    _warm_up(torch, registry)


def _warm_up(torch, registry):
    """Build every case once and take one optimizer step on a case's tiny model (never the reference).

    Their lazy imports (an optimizer step pulls in torch._dynamo, ~800 modules and ~1.4 s) then
    happen here, before lock-down and, in the fork server, once instead of once per submission.
    """
    with torch.enable_grad():
        for case in registry.CASES:
            args = case.arguments(case.seed)
            if case.runner == "train_step":
                model = args["policy"]
                optimizer = torch.optim.SGD(model.parameters(), lr=args["lr"])
                model(input_ids=args["batch"]["input_ids"]).logits.square().mean().backward()
                optimizer.step()
        logits = torch.randn(2, 3, 5, requires_grad=True)
        torch.autograd.grad(logits.log_softmax(-1).sum(), [logits])


def _error(kind, exc, path):
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            line = frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename == path:
        line = exc.lineno
    try:
        message = "" if isinstance(exc, (SystemExit, KeyboardInterrupt)) else str(exc)
    except BaseException:  # a hostile exception's __str__ may raise too
        message = "?"
    return {"kind": kind, "type": type(exc).__name__[:60], "message": message[:300], "line": line}


def _classify(exc):
    if isinstance(exc, NotImplementedError):
        return "not_done"
    if isinstance(exc, (SystemExit, KeyboardInterrupt, GeneratorExit)):
        return "exit"
    if isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "allocate" in str(exc)[:500]):
        return "memory"
    return "exception"


def _too_big(value, budget):
    """True when the outputs hold more tensor elements than the wire accepts (skip a huge encode)."""
    import torch

    if isinstance(value, torch.Tensor):
        budget[0] -= value.numel()
    elif isinstance(value, dict):
        for item in list(value.values())[:1000]:
            _too_big(item, budget)
    elif isinstance(value, (list, tuple)):
        for item in list(value)[:1000]:
            _too_big(item, budget)
    return budget[0] < 0


def serve(request, source: bytes, out_fd: int):
    """Lock down, run the submission, stream results. Never returns normally: exits the process."""
    from step5_rlhf.checks import case as case_module
    from step5_rlhf.checks import registry, wire
    from step5_rlhf.grading import sandbox
    from step5_rlhf.todos import BY_NAME

    out = os.fdopen(out_fd, "w", encoding="utf-8", closefd=True)

    def send(record):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()

    import builtins

    # The submission may replace builtins (isinstance, print…): put them back around every case so
    # the child's own reporting keeps working. Replacing them only ever affects this child anyway.
    saved_builtins = dict(builtins.__dict__)

    def restore_builtins():
        for name, value in saved_builtins.items():
            if builtins.__dict__.get(name) is not value:
                builtins.__dict__[name] = value

    path = request["submission"]
    os.chdir(request["workdir"])
    report = sandbox.lock_down(request.get("limits", {}), workdir=request["workdir"])
    send({"locked": report})  # written before any submission code runs, so it can be trusted

    try:
        import types

        module = types.ModuleType("submission")
        module.__file__ = path
        sys.modules["submission"] = module
        exec(compile(source, path, "exec"), module.__dict__)
    except BaseException as exc:  # a broken or hostile file must still produce a report
        restore_builtins()
        send({"import_error": _error("syntax" if isinstance(exc, SyntaxError) else _classify(exc), exc, path)})
        os._exit(0)
    restore_builtins()
    send({"ready": True})

    if "variables" in request:  # a notebook answer cell: report the values it assigned, nothing else
        values = {}
        for name in request["variables"][:16]:
            value = module.__dict__.get(str(name))
            values[str(name)] = {"type": "other", "name": "太大的值"} if _too_big(value, [1000]) else wire.encode(value)
        send({"variables": values})
        os._exit(0)

    for run in request["runs"]:
        case = registry.BY_ID[run["case"]]
        restore_builtins()
        try:
            if case.runner in ("call", "raises") and not callable(getattr(module, case.todo, None)):
                if BY_NAME[case.todo].optional:  # a file from before the optional TODOs: not done, not wrong
                    raise NotImplementedError(f"找不到选做函数 {case.todo}")
                raise AttributeError(f"找不到函数 {case.todo}")
            outputs = case_module.run_case(module, case, int(run["seed"]))
            restore_builtins()
            if _too_big(outputs, [wire.MAX_ELEMENTS]):
                raise ValueError("输出的张量太大（元素个数远超预期）")
            record = {"case": run["key"], "outputs": wire.encode(outputs)}
        except BaseException as exc:
            restore_builtins()
            record = {"case": run["key"], "error": _error(_classify(exc), exc, path)}
        restore_builtins()
        send(record)
    # Skip interpreter teardown: a submission's atexit hooks or threads must not delay the grader.
    os._exit(0)


def _prctl(option, value):
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------- one process per submission
def main_single():
    request = json.loads(sys.stdin.readline())
    prepare()
    serve(request, base64.b64decode(request["source"]), request["result_fd"])


# ---------------------------------------------------------------- fork server
def _recv_exact(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _children(pid):
    """Direct children of `pid` (a single-threaded fork server), from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        pass
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def kill_strays():
    """Kill whatever a submission left behind (forked, daemonized, setsid'd processes).

    The fork server is a child subreaper: when a submission's process dies, every descendant it
    left (however detached: a new session, a double fork) is re-parented to the server. Between
    submissions the server has no legitimate children, so all of them go, until none is left.
    """
    me = os.getpid()
    for _ in range(10_000):
        strays = _children(me)
        if not strays:
            break
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def _exit_status(status):
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status)}
    return {"code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1}


def main_server(control_fd):
    import socket

    sock = socket.socket(fileno=control_fd)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # the server dies with the grader
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    prepare()
    devnull = os.open(os.devnull, os.O_RDWR)
    while True:
        try:
            header, fds, _, _ = socket.recv_fds(sock, 8, 1)
            if not header or len(fds) != 1:
                return
            header += _recv_exact(sock, 8 - len(header))
            size = int.from_bytes(header, "big")
            if size > MAX_REQUEST:
                return
            request = json.loads(_recv_exact(sock, size))
        except (EOFError, OSError, ValueError):
            return
        result_fd = fds[0]
        pid = os.fork()
        if pid == 0:  # the child: nothing of the server's may stay open in it
            try:
                _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
                os.setsid()
                for std in (0, 1, 2):
                    os.dup2(devnull, std)
                os.closerange(3, result_fd)
                os.closerange(result_fd + 1, 1 << 16)
                serve(request, base64.b64decode(request.pop("source")), result_fd)
            finally:
                os._exit(70)
        os.close(result_fd)
        try:
            pidfd = [os.pidfd_open(pid)]
        except (AttributeError, OSError):
            pidfd = []
        socket.send_fds(sock, [json.dumps({"pid": pid}).encode() + b"\n"], pidfd)
        for fd in pidfd:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        kill_strays()
        try:
            sock.sendall(json.dumps({"exit": _exit_status(status)}).encode() + b"\n")
        except OSError:
            return


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--server":
        main_server(int(sys.argv[2]))
    else:
        main_single()
    os._exit(0)
