"""Lock a grading child down before it runs a submission: resource limits and, on Linux, Landlock.

Landlock (Linux ≥ 5.13) lets an unprivileged process give up access to the file system for
itself and everything it starts, irreversibly. The child keeps read/execute access to what
Python and torch need (the interpreter, site-packages, system libraries), read/write access to
its private temp dir, and nothing else: not the repository checkout (reference solution, tests),
not other submissions, not the grader's output files. With ABI ≥ 4 TCP bind/connect are denied;
with ABI ≥ 6 it cannot signal processes outside its sandbox or use abstract unix sockets.

The syscalls are made through ctypes (x86-64/arm64 share the numbers 444/445/446), so no
compiled dependency is needed. Everything must be imported *before* `lock_down`: afterwards the
repository (where `step5_rlhf` lives in an editable install) is unreadable.
"""

import ctypes
import os
import resource
import sys

DEFAULT_LIMITS = {"memory_mb": 3072, "cpu_seconds": 120, "file_mb": 16, "open_files": 256}

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# File-system rights (uapi/linux/landlock.h), and the ABI that introduced the later ones.
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ABI1_ALL = (1 << 13) - 1  # execute … make_sym
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1

_READ = _EXECUTE | _READ_FILE | _READ_DIR
_FILE_ONLY = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV  # rights valid on a non-directory


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel struct is __attribute__((packed))
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when unavailable (not Linux, disabled, seccomp-blocked)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        abi = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(abi), 0)


def readable_paths() -> list:
    """What the child may still read after lock-down: Python, its packages, system libraries."""
    repo = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  os.path.dirname(os.path.realpath(sys.executable)),
                  "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/opt/conda",
                  "/etc/ld.so.cache", "/etc/localtime", "/dev/urandom", "/dev/random",
                  f"/proc/{os.getpid()}", "/sys/devices/system/cpu"]
    candidates += [entry for entry in sys.path if entry]
    # A virtual environment may live inside the checkout (.venv): it is readable, the rest is not.
    venvs = [os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix) if os.path.realpath(p) != repo]
    paths = []
    for path in candidates:
        real = os.path.realpath(path)
        if not os.path.exists(real) or real in paths or _inside(repo, real):
            continue  # a parent of the checkout would expose all of it
        if _inside(real, repo) and not any(_inside(real, venv) for venv in venvs):
            continue
        paths.append(real)
    return paths


def _inside(path, root) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _add_rule(libc, ruleset_fd, path, access) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not os.path.isdir(path):
            access &= _FILE_ONLY
        attr = _PathBeneathAttr(access, fd)
        return libc.syscall(_SYS_ADD_RULE, ruleset_fd, _RULE_PATH_BENEATH, ctypes.byref(attr), 0) == 0
    finally:
        os.close(fd)


def _landlock(workdir) -> dict:
    """Restrict this process (and its future children) with Landlock; report what is enforced."""
    abi = landlock_abi()
    if abi < 1:
        return {"filesystem": False, "network": False, "scoped": False, "landlock_abi": 0,
                "note": "本平台没有 Landlock：子进程仍可读写评分者能访问的文件"}
    fs = _ABI1_ALL | (_REFER if abi >= 2 else 0) | (_TRUNCATE if abi >= 3 else 0) | (_IOCTL_DEV if abi >= 5 else 0)
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # older kernels reject the fields they don't know
    libc = _libc()
    attr = _RulesetAttr(fs, net, scoped)
    ruleset_fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset_fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset 失败")
    try:
        for path in readable_paths():
            _add_rule(libc, ruleset_fd, path, _READ)
        _add_rule(libc, ruleset_fd, "/dev/null", _READ_FILE | _WRITE_FILE)
        _add_rule(libc, ruleset_fd, workdir, fs)  # its private temp dir: everything
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS 失败")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset_fd, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self 失败")
    finally:
        os.close(ruleset_fd)
    return {"filesystem": True, "network": bool(net), "scoped": bool(scoped), "landlock_abi": abi}


def lock_down(limits: dict, workdir: str) -> dict:
    """Apply resource limits and Landlock; return a report of what is enforced on this platform."""
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    memory = int(limits["memory_mb"]) * 1024 * 1024
    report = {"rlimits": True}
    for name, value in (("RLIMIT_AS", memory), ("RLIMIT_CPU", int(limits["cpu_seconds"])),
                        ("RLIMIT_FSIZE", int(limits["file_mb"]) * 1024 * 1024),
                        ("RLIMIT_NOFILE", int(limits["open_files"])), ("RLIMIT_CORE", 0)):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError, AttributeError):  # e.g. RLIMIT_AS is not enforced on macOS
            report["rlimits"] = False
    try:
        report.update(_landlock(workdir))
    except OSError as exc:
        report.update(filesystem=False, network=False, scoped=False, landlock_abi=landlock_abi(),
                      note=f"Landlock 启用失败：{exc}")
    return report
