"""Where the expected outputs of a run come from: shipped data, or the live reference.

* ``ShippedExpectations`` (student mode, and every self-check): the practice runs' outputs,
  precomputed from the reference solution by ``step5-rlhf build-exercise`` and shipped with the
  package as ``expected.json``, together with the outputs of every catalogued mistake on the same
  inputs, so a hint still names the mistake. No reference code is needed.
* ``LiveExpectations`` (instructor grading): runs the reference solution and the mistake catalogue
  in this trusted process, on any run, practice or graded.
"""

import itertools
import json
import threading
from pathlib import Path

import torch

from ..modules import load_file
from . import wire
from .case import run_call, run_case
from .mistake import Mistake

EXPECTED_FILE = Path(__file__).with_name("expected.json")
FORMAT = 1
_names = itertools.count()


class MissingReference(RuntimeError):
    """No expected outputs for this run here (graded runs need the instructor's reference)."""


def plain(outputs):
    """The same encode/decode round trip a child's outputs go through, so comparisons see one form."""
    return wire.decode(wire.encode(outputs))


class LiveExpectations:
    """Expected outputs computed by the reference solution (and hints from the mistake catalogue)."""

    def __init__(self, solution, mistakes=None):
        self.solution = Path(solution)
        self.module = load_file(self.solution, f"_step5_reference_{next(_names)}")
        self.catalogue = []
        if mistakes is not None and Path(mistakes).is_file():
            self.catalogue = list(load_file(mistakes, f"_step5_mistakes_{next(_names)}").MISTAKES)
        self._cache = {}
        self._lock = threading.Lock()  # batch grading judges from several threads

    def _cached(self, key, compute):
        with self._lock:
            if key not in self._cache:
                with torch.enable_grad():
                    self._cache[key] = compute()
            return self._cache[key]

    def expected(self, run):
        return self._cached(("expected", run.key, run.seed), lambda: plain(run_case(self.module, run.case, run.seed)))

    def mistakes(self, run) -> tuple:
        """(Mistake, returned value) for every catalogued mistake of the run's TODO that runs on it."""
        def compute():
            found = []
            for mistake in self.catalogue:
                if mistake.todo != run.case.todo or run.case.runner != "call":
                    continue
                try:
                    found.append((mistake, plain(run_call(mistake.func, run.case, run.seed))["value"]))
                except Exception:  # a mistake that cannot run on this case names nothing here
                    continue
            return tuple(found)

        return self._cached(("mistakes", run.key, run.seed), compute)

    def export(self, runs) -> dict:
        """The shipped form of these (practice) runs: what ``ShippedExpectations`` reads."""
        data = {}
        for run in runs:
            data[run.key] = {
                "seed": run.seed,
                "expected": _compact(wire.encode(self.expected(run))),
                "mistakes": [{"name": m.name, "hint": m.hint, "value": _compact(wire.encode(value))}
                             for m, value in self.mistakes(run)],
            }
        return {"format": FORMAT, "runs": data}


class ShippedExpectations:
    """Expected outputs of the practice runs, read from data shipped with the package."""

    def __init__(self, data: dict):
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise MissingReference("expected.json 的格式不对：请重新安装课程包")
        self.runs = data["runs"]
        self._decoded = {}

    @classmethod
    def load(cls, path=EXPECTED_FILE):
        try:
            return cls(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise MissingReference(f"找不到 {path}：课程包不完整，请重新安装") from None

    def _entry(self, run):
        entry = self.runs.get(run.key)
        if run.graded or entry is None or entry["seed"] != run.seed:
            raise MissingReference(f"用例「{run.what}」没有预先算好的结果：评分用例需要教师的参考答案")
        return entry

    def expected(self, run):
        key = ("expected", run.key)
        if key not in self._decoded:
            self._decoded[key] = wire.decode(self._entry(run)["expected"])
        return self._decoded[key]

    def mistakes(self, run) -> tuple:
        key = ("mistakes", run.key)
        if key not in self._decoded:
            self._decoded[key] = tuple((Mistake(run.case.todo, m["name"], m["hint"]), wire.decode(m["value"]))
                                       for m in self._entry(run)["mistakes"])
        return self._decoded[key]


_shipped = {}


def shipped() -> ShippedExpectations:
    """The package's own expected.json, read once per process."""
    if "value" not in _shipped:
        _shipped["value"] = ShippedExpectations.load()
    return _shipped["value"]


def _compact(encoded):
    """Float32 values need 9 significant digits to round-trip exactly; keeps expected.json small."""
    if isinstance(encoded, dict):
        if encoded.get("type") == "tensor" and encoded["dtype"] in ("float32", "float16", "bfloat16"):
            return {**encoded, "data": [float(f"{x:.9g}") if isinstance(x, float) else x for x in encoded["data"]]}
        return {k: _compact(v) for k, v in encoded.items()}
    if isinstance(encoded, list):
        return [_compact(v) for v in encoded]
    return encoded


def write(data: dict, path=EXPECTED_FILE) -> bool:
    """Write expected.json; True when it changed."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    path = Path(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def differences(shipped_data: dict, live_data: dict, limit=5) -> list:
    """What differs between shipped expectations and freshly computed ones (numbers within 1e-5)."""
    found = []
    shipped_runs, live_runs = shipped_data.get("runs", {}), live_data["runs"]
    if set(shipped_runs) != set(live_runs):
        found.append(f"用例不同：多了 {sorted(set(shipped_runs) - set(live_runs))}，少了 {sorted(set(live_runs) - set(shipped_runs))}")
    for key in sorted(set(shipped_runs) & set(live_runs)):
        old, new = shipped_runs[key], live_runs[key]
        if old["seed"] != new["seed"] or [(m["name"], m["hint"]) for m in old["mistakes"]] != \
                [(m["name"], m["hint"]) for m in new["mistakes"]]:
            found.append(f"{key}：种子或常见错误目录不同")
            continue
        pairs = [(old["expected"], new["expected"])] + [(a["value"], b["value"]) for a, b in zip(old["mistakes"], new["mistakes"])]
        if not all(_close(wire.decode(a), wire.decode(b)) for a, b in pairs):
            found.append(f"{key}：数值与参考答案现在的输出不同")
    return found[:limit]


def _close(a, b) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.is_floating_point():
            return torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-7, equal_nan=True)
        return torch.equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-7 + 1e-5 * abs(b) or (a != a and b != b)
    return type(a) is type(b) and a == b
