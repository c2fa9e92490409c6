"""Lock a grading child down before it imports a submission (resource limits; file access)."""

import resource

DEFAULT_LIMITS = {"memory_mb": 3072, "cpu_seconds": 120, "file_mb": 16, "open_files": 256}


def lock_down(limits: dict, workdir: str) -> dict:
    """Apply resource limits; return a report of what is enforced on this platform."""
    limits = {**DEFAULT_LIMITS, **(limits or {})}
    memory = limits["memory_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"]))
    file_size = limits["file_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    return {"rlimits": True, "filesystem": False}
