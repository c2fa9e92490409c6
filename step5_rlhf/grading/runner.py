"""Parent side: run a submission's cases in a sandboxed child process, with time limits per case.

The grader never imports the submission. It reads the file, hands the source to a child (forked
from a fork server on Linux, or a fresh `python -I -m step5_rlhf.grading.child` elsewhere), reads
one JSON line per case from a private pipe, and decodes it with `wire.decode`, which trusts
nothing. A case that hangs or kills its child costs that TODO only: the runner kills the child
(the fork server then kills anything it left behind) and a fresh child runs the TODOs still to run.
"""

import base64
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..checks import wire

MAX_LINE = 8 * 1024 * 1024  # one case's outputs are far smaller; more is garbage
MAX_SOURCE = 2 * 1024 * 1024  # an exercise file is ~10 KB
SERVER_START_SECONDS = 180.0  # importing torch on a busy machine


@dataclass
class Limits:
    case_seconds: float = 10.0  # wall time for one case
    import_seconds: float = 20.0  # wall time to run the submission's module code (torch is already loaded)
    memory_mb: int = 3072  # address space of the child (RLIMIT_AS), torch's own mappings included
    cpu_seconds: int = 120

    def for_child(self) -> dict:
        return {"memory_mb": self.memory_mb, "cpu_seconds": self.cpu_seconds}


@dataclass
class CaseResult:
    outputs: object = None  # decoded outputs when the case ran
    error: dict = field(default_factory=dict)  # {"kind", "type", "message", "line"} otherwise

    @property
    def ok(self) -> bool:
        return not self.error


class Results(dict):
    """case id -> CaseResult, plus what the sandbox enforced (`isolation`, reported by the child)."""

    isolation: dict = None


def _env(workdir):
    # One thread everywhere: fork is only safe from a single-threaded server, and 2 cores are shared.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": workdir, "TMPDIR": workdir,
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}


def use_fork_server() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def _describe_exit(status):
    if status is None:
        return "子进程没有回应"
    if "signal" in status:
        number = status["signal"]
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        hint = "（可能超出了内存或 CPU 限制）" if number in (signal.SIGKILL, signal.SIGXCPU, signal.SIGSEGV) else ""
        return f"子进程被信号 {name} 终止{hint}"
    return f"子进程提前退出（退出码 {status.get('code')}，例如调用了 os._exit 或关掉了结果管道）"


class _Child:
    """One running child and the pipe it reports on (common to both ways of starting it)."""

    def __init__(self, read_fd):
        self.pipe = os.fdopen(read_fd, "rb", buffering=0)
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.pipe, selectors.EVENT_READ)
        self.status = None

    def read_line(self, deadline):
        """The next line, or None at EOF; raises TimeoutError past the deadline."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.selector.select(remaining):
                raise TimeoutError
            chunk = self.pipe.read(1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE:
                raise ValueError("输出过大")
        line, self.buffer = self.buffer.split(b"\n", 1)
        if len(line) > MAX_LINE:
            raise ValueError("输出过大")
        return line

    def close(self):
        self.kill()
        self.status = self.collect()
        self.selector.close()
        self.pipe.close()

    def exit_description(self):
        if self.status is None:
            self.kill()
            self.status = self.collect()
        return _describe_exit(self.status)


class _SpawnedChild(_Child):
    """A fresh interpreter per child (platforms without the fork server). Strays: process group only."""

    def __init__(self, request, source, workdir):
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "step5_rlhf.grading.child"], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_fd,), cwd=workdir,
            env=_env(workdir), start_new_session=True)
        os.close(write_fd)
        super().__init__(read_fd)
        line = json.dumps({**request, "result_fd": write_fd, "source": base64.b64encode(source).decode()})
        try:
            self.process.stdin.write(line.encode() + b"\n")
            self.process.stdin.close()
        except BrokenPipeError:
            pass

    def kill(self):
        for kill in (lambda: os.killpg(self.process.pid, signal.SIGKILL), self.process.kill):
            try:
                kill()
            except (ProcessLookupError, PermissionError):
                pass

    def collect(self):
        code = self.process.wait()
        return {"signal": -code} if code < 0 else {"code": code}


class ServerError(RuntimeError):
    pass


class ForkServer:
    """A process that has imported torch once and forks one sandboxed child per request.

    It is a child subreaper: when a child is gone it kills everything the child left behind
    before it reports the exit status, so strays never outlive their submission.
    """

    def __init__(self):
        self.process = None
        self.sock = None

    def start(self):
        """Start the server process now (it imports torch, ~2 s); the first child would otherwise wait for it."""
        if self.process is None or self.process.poll() is not None:
            self._start()
        return self

    def _start(self):
        self.close()
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "step5_rlhf.grading.child", "--server", str(theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), cwd="/", env=_env(tempfile.gettempdir()), start_new_session=True)
        theirs.close()
        self.sock, self.buffer, self.fds = ours, b"", []

    def _message(self, timeout):
        """Next JSON message from the server (and any fds that came with it)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerError("评分子进程服务没有回应")
            self.sock.settimeout(remaining)
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, 4096, 4)
            except (OSError, TimeoutError) as exc:
                raise ServerError(f"评分子进程服务出错：{exc}") from exc
            if not data:
                raise ServerError("评分子进程服务意外退出")
            self.buffer += data
            self.fds += fds
        line, self.buffer = self.buffer.split(b"\n", 1)
        fds, self.fds = self.fds, []
        return json.loads(line), fds

    def start_child(self, request, source):
        self.start()
        read_fd, write_fd = os.pipe()
        try:
            body = json.dumps({**request, "source": base64.b64encode(source).decode()}).encode()
            header = len(body).to_bytes(8, "big")
            self.sock.settimeout(SERVER_START_SECONDS)
            socket.send_fds(self.sock, [header], [write_fd])
            self.sock.sendall(body)
        except OSError as exc:
            os.close(read_fd)
            self.close()
            raise ServerError(f"评分子进程服务出错：{exc}") from exc
        finally:
            os.close(write_fd)
        try:
            message, fds = self._message(SERVER_START_SECONDS)
        except ServerError:
            os.close(read_fd)
            self.close()
            raise
        return _ServerChild(self, message["pid"], fds[0] if fds else None, read_fd)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.kill()
            self.process.wait()
            self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _ServerChild(_Child):
    def __init__(self, server, pid, pidfd, read_fd):
        super().__init__(read_fd)
        self.server, self.pid, self.pidfd = server, pid, pidfd

    def kill(self):
        if self.status is not None:
            return
        try:
            if self.pidfd is not None:  # exact even if the pid were reused
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, OSError):
            pass

    def collect(self):
        if self.status is not None:
            return self.status
        try:
            message, fds = self.server._message(30)
            for fd in fds:
                os.close(fd)
            status = message["exit"]
        except (ServerError, ValueError, KeyError, TypeError):
            self.server.close()  # the next submission gets a fresh server
            status = None
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        return status


# ---------------------------------------------------------------- one submission
def _parse(line, expected_case):
    """A case record from untrusted bytes; anything odd is a ValueError."""
    try:
        record = json.loads(line.decode("utf-8"))
        if not isinstance(record, dict) or record.get("case") != expected_case:
            raise ValueError("输出顺序不对")
        if "error" in record:
            return CaseResult(error=_clean_error(record["error"]))
        return CaseResult(outputs=wire.decode(record["outputs"]))
    except ValueError:
        raise
    except Exception as exc:  # deep nesting (RecursionError), wrong types…: all just garbage
        raise ValueError(f"输出格式不对（{type(exc).__name__}）") from exc


def _clean_error(error):
    if not isinstance(error, dict):
        return {"kind": "exception", "type": "?", "message": "", "line": None}
    kind = error.get("kind") if error.get("kind") in ("not_done", "exit", "memory", "exception", "syntax") else "exception"
    line = error.get("line") if type(error.get("line")) is int else None
    return {"kind": kind, "type": str(error.get("type", ""))[:60], "message": str(error.get("message", ""))[:300], "line": line}


def _read_source(path):
    with open(path, "rb") as handle:
        source = handle.read(MAX_SOURCE + 1)
    if len(source) > MAX_SOURCE:
        raise ValueError(f"文件太大（超过 {MAX_SOURCE // 1024} KB）")
    return source


def run_submission(submission, runs, limits: Limits = None, server: ForkServer = None) -> dict:
    """Run key -> CaseResult for every run (`checks.case.Run`), whatever the submission does.

    `server`: a ForkServer to reuse across submissions (grading many files); by default one is
    started for this call (Linux) or a fresh interpreter per child is used (elsewhere).
    """
    limits = limits or Limits()
    pending = [run.request() for run in runs]
    results = Results()
    path = os.path.abspath(submission)
    try:
        source = _read_source(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        for run in pending:
            results[run["key"]] = CaseResult(error={"kind": "unreadable", "type": "", "line": None, "import": True,
                                                 "message": f"无法读取文件：{reason}"})
        return results
    with _sandbox(server, "step5-grade-") as (server, workdir):
        retries = 1
        while pending:
            request = {"submission": path, "runs": list(pending), "workdir": workdir, "limits": limits.for_child()}
            try:
                child = server.start_child(request, source) if server else _SpawnedChild(request, source, workdir)
            except ServerError:
                if retries:  # a server that died (e.g. killed from outside) is restarted once
                    retries -= 1
                    continue
                raise
            try:
                if not _run_child(child, pending, results, limits):
                    break
            finally:
                child.close()
    return results


@contextlib.contextmanager
def _sandbox(server, prefix):
    """(fork server, private temp folder) for one call: the caller's server, or one of our own that is
    closed afterwards (None where children are spawned instead)."""
    own_server = server is None and use_fork_server()
    if own_server:
        server = ForkServer()
    try:
        with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as workdir:
            os.chmod(workdir, 0o700)
            yield server, workdir
    finally:
        if own_server:
            server.close()


def write_files(folder, files) -> None:
    """Write {relative path: bytes} under `folder` (a student's run outputs, where an answer reads them)."""
    for relative, data in (files or {}).items():
        target = Path(folder) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def run_snippet(source: str, variables, limits: Limits = None, server: ForkServer = None,
                label: str = "答案单元", files=None) -> dict:
    """Run a notebook answer cell's code in a sandboxed child: {"values": {name: value}} or {"error": {...}}.

    Only plain values come back (float, int, bool, str, lists, tensors; anything else as `wire.Other`),
    so an object that fakes equality or a float subclass cannot pass a test run on it here.
    `files` ({relative path: bytes}) are written into the child's private folder first (a student's
    own run outputs that the answer reads).
    """
    limits = limits or Limits()
    with _sandbox(server, "step5-answer-") as (server, workdir):
        write_files(workdir, files)
        request = {"submission": label, "runs": [], "variables": list(variables), "workdir": workdir,
                   "limits": limits.for_child()}
        raw = source.encode("utf-8")
        child = server.start_child(request, raw) if server else _SpawnedChild(request, raw, workdir)
        try:
            ready = _wait_ready(child, limits, Results())
            if ready is not True:
                return {"error": ready}
            record = _record(child, time.monotonic() + limits.case_seconds)
            values = record["variables"]
            if not isinstance(values, dict):
                raise ValueError
            return {"values": {name: wire.decode(values[name]) for name in variables if name in values}}
        except (TimeoutError, EOFError, ValueError, KeyError, UnicodeDecodeError, RecursionError):
            return {"error": {"kind": "protocol", "type": "", "line": None, "message": "子进程的输出无法识别"}}
        finally:
            child.close()


def _run_child(child, pending, results, limits) -> bool:
    """Collect what one child reports; False when the whole submission is done for (import failed)."""
    ready = _wait_ready(child, limits, results)
    if ready is not True:
        for run in pending:
            results[run["key"]] = CaseResult(error={**ready, "import": True})
        pending.clear()
        return False
    deadline = time.monotonic() + limits.case_seconds
    while pending:
        key = pending[0]["key"]
        try:
            line = child.read_line(deadline)
            if line is None:
                raise EOFError
            parsed = _parse(line, key)
        except TimeoutError:
            _fail_todo(results, pending, {"kind": "timeout", "type": "", "line": None,
                                          "message": f"超过时间限制（每个用例 {limits.case_seconds:g} 秒）"})
            return True
        except EOFError:
            _fail_todo(results, pending, {"kind": "crash", "type": "", "line": None, "message": child.exit_description()})
            return True
        except (ValueError, UnicodeDecodeError) as exc:
            _fail_todo(results, pending, {"kind": "protocol", "type": "", "line": None,
                                          "message": f"子进程的输出无法识别：{exc}"[:200]})
            return True
        results[key] = parsed
        pending.pop(0)
        deadline = time.monotonic() + limits.case_seconds
    return True


def _record(child, deadline):
    line = child.read_line(deadline)
    if line is None:
        raise EOFError
    record = json.loads(line.decode("utf-8"))
    if not isinstance(record, dict):
        raise ValueError
    return record


def _wait_ready(child, limits, results):
    """True once the child is locked down and has run the submission's module code; else the error."""
    deadline = time.monotonic() + limits.import_seconds
    try:
        locked = _record(child, deadline)  # written before any submission code ran
        if not isinstance(locked.get("locked"), dict):
            raise ValueError
        results.isolation = {k: v for k, v in locked["locked"].items() if isinstance(v, (bool, int, str))}
        record = _record(child, deadline)
    except TimeoutError:
        return {"kind": "timeout", "type": "", "line": None,
                "message": f"导入文件超过 {limits.import_seconds:g} 秒（模块顶层是否有死循环？）"}
    except EOFError:
        return {"kind": "crash", "type": "", "line": None, "message": "导入时" + child.exit_description()}
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {"kind": "protocol", "type": "", "line": None, "message": "子进程的输出无法识别"}
    if record.get("ready") is True:
        return True
    if "import_error" in record:
        return _clean_error(record["import_error"])
    return {"kind": "protocol", "type": "", "line": None, "message": "子进程的输出无法识别"}


def _fail_todo(results, pending, error):
    """Mark the current case and the rest of its TODO as failed; later TODOs get a new child."""
    todo = pending[0]["case"].split("/")[0]
    results[pending.pop(0)["key"]] = CaseResult(error=error)
    while pending and pending[0]["case"].split("/")[0] == todo:
        results[pending.pop(0)["key"]] = CaseResult(error={**error, "skipped": True})
