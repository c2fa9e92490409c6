"""Parent side: run a submission's cases in child processes, with time limits per TODO.

The grader never imports the submission. It starts `step5_rlhf.grading.child`, reads one
JSON line per case from a private pipe, and decodes it with `wire.decode`, which trusts
nothing. A TODO that hangs or kills its child costs that TODO only: the runner kills the
child's whole process group and starts a fresh child for the TODOs still to run.
"""

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from ..checks import cases as case_module
from ..checks import wire

MAX_LINE = 8 * 1024 * 1024  # one case's outputs are far smaller; more is garbage


@dataclass
class Limits:
    case_seconds: float = 10.0  # wall time for one case
    import_seconds: float = 60.0  # wall time to start: torch import plus the submission's module code
    memory_mb: int = 3072
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


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.kill()
    except ProcessLookupError:
        pass
    process.wait()


class _Child:
    """One child process and the pipe it reports on."""

    def __init__(self, submission, case_ids, limits: Limits, workdir):
        read_fd, write_fd = os.pipe()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": workdir,
            "TMPDIR": workdir,
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-m", "step5_rlhf.grading.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_fd,),
            cwd=workdir,
            env=env,
            start_new_session=True,  # its own process group, so strays die with it
        )
        os.close(write_fd)
        self.pipe = os.fdopen(read_fd, "rb", buffering=0)
        self.buffer = b""
        request = {"submission": os.path.abspath(submission), "cases": list(case_ids), "result_fd": write_fd,
                   "workdir": workdir, "limits": limits.for_child()}
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.pipe, selectors.EVENT_READ)

    def read_line(self, deadline):
        """The next line, or None at EOF; raises TimeoutError past the deadline."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.selector.select(remaining):
                raise TimeoutError
            chunk = self.pipe.read(65536)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE:
                raise ValueError("输出过大")
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line

    def close(self):
        _kill_group(self.process)
        self.selector.close()
        self.pipe.close()

    def exit_description(self):
        code = self.process.poll()
        if code is None:
            return "子进程没有回应"
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = "（可能超出了内存或 CPU 限制）" if -code in (signal.SIGKILL, signal.SIGXCPU, signal.SIGSEGV) else ""
            return f"子进程被信号 {name} 终止{hint}"
        return f"子进程提前退出（退出码 {code}，例如调用了 os._exit 或 sys.exit）"


def _parse(line, expected_case):
    record = json.loads(line.decode("utf-8"))
    if not isinstance(record, dict):
        raise ValueError("输出格式不对")
    if record.get("case") != expected_case:
        raise ValueError("输出顺序不对")
    if "error" in record:
        return CaseResult(error=_clean_error(record["error"]))
    return CaseResult(outputs=wire.decode(record["outputs"]))


def _clean_error(error):
    if not isinstance(error, dict):
        return {"kind": "exception", "type": "?", "message": "", "line": None}
    kind = error.get("kind") if error.get("kind") in ("not_done", "exit", "memory", "exception", "syntax") else "exception"
    line = error.get("line") if type(error.get("line")) is int else None
    return {"kind": kind, "type": str(error.get("type", ""))[:60], "message": str(error.get("message", ""))[:300], "line": line}


def run_submission(submission, todo_names, limits: Limits = None) -> dict:
    """Case id -> CaseResult for every case of the named TODOs, whatever the submission does."""
    limits = limits or Limits()
    pending = [f"{c.todo}/{c.name}" for name in todo_names for c in case_module.cases_for(name)]
    results = {}
    with tempfile.TemporaryDirectory(prefix="step5-grade-") as workdir:
        os.chmod(workdir, 0o700)
        while pending:
            child = _Child(submission, pending, limits, workdir)
            try:
                ready = _wait_ready(child, limits)
                if ready is not True:
                    for case_id in pending:
                        results[case_id] = CaseResult(error={**ready, "import": True})
                    pending.clear()
                    break
                deadline = time.monotonic() + limits.case_seconds
                while pending:
                    case_id = pending[0]
                    try:
                        line = child.read_line(deadline)
                        if line is None:
                            child.process.wait(timeout=5)
                            raise EOFError
                        parsed = _parse(line, case_id)
                    except TimeoutError:
                        _fail_todo(results, pending, {"kind": "timeout", "type": "", "line": None,
                                                      "message": f"超过时间限制（每个用例 {limits.case_seconds:g} 秒）"})
                        break
                    except EOFError:
                        _fail_todo(results, pending, {"kind": "crash", "type": "", "line": None,
                                                      "message": child.exit_description()})
                        break
                    except (ValueError, UnicodeDecodeError) as exc:
                        _fail_todo(results, pending, {"kind": "protocol", "type": "", "line": None,
                                                      "message": f"子进程的输出无法识别：{exc}"[:200]})
                        break
                    results[case_id] = parsed
                    pending.pop(0)
                    deadline = time.monotonic() + limits.case_seconds
            finally:
                child.close()
    return results


def _wait_ready(child, limits):
    """True once the child has imported the submission; otherwise the error that stops every TODO."""
    try:
        line = child.read_line(time.monotonic() + limits.import_seconds)
        if line is None:
            child.process.wait(timeout=5)
            return {"kind": "crash", "type": "", "line": None, "message": "导入时" + child.exit_description()}
        record = json.loads(line.decode("utf-8"))
    except TimeoutError:
        return {"kind": "timeout", "type": "", "line": None,
                "message": f"导入文件超过 {limits.import_seconds:g} 秒（模块顶层是否有死循环？）"}
    except (ValueError, UnicodeDecodeError):
        return {"kind": "protocol", "type": "", "line": None, "message": "子进程的输出无法识别"}
    if isinstance(record, dict) and record.get("ready") is True:
        return True
    if isinstance(record, dict) and "import_error" in record:
        return _clean_error(record["import_error"])
    return {"kind": "protocol", "type": "", "line": None, "message": "子进程的输出无法识别"}


def _fail_todo(results, pending, error):
    """Mark the current case and the rest of its TODO as failed; later TODOs get a new child."""
    todo = pending[0].split("/")[0]
    results[pending[0]] = CaseResult(error=error)
    pending.pop(0)
    while pending and pending[0].split("/")[0] == todo:
        results[pending.pop(0)] = CaseResult(error={**error, "skipped": True})
