"""A check case: the inputs fed to one TODO, built from a seed, and how one case is run.

Every case has a practice seed: the inputs a student's self-check uses, whose expected outputs
are shipped with the package (``expected.json``). Instructor grading also runs each case with
seeds derived from a grading seed that students never see, so an answer that only remembers the
practice inputs fails there. A case builds its inputs from a private ``torch.Generator``: the
grader and a child process rebuild exactly the same tensors from (case, seed) without sending them.

``run_case`` calls the function under test and returns plain outputs (values, gradients, whether
inputs were modified); judging them happens elsewhere, in the trusted grader process.
"""

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import torch


@dataclass(frozen=True)
class Case:
    todo: str  # function name of the TODO
    name: str  # stable id, used in messages and reports
    what: str  # the case in the student's words
    build: Callable[[torch.Generator], dict]  # fresh arguments for the call, in signature order
    seed: int  # the practice seed
    grad_of: tuple = ()  # arguments whose gradient is part of the output
    runner: str = "call"  # "call", "raises" (the call must raise) or "train_step"
    options: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.todo}/{self.name}"

    def arguments(self, seed: int) -> dict:
        return self.build(torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class Run:
    """One case with one seed. Practice runs use the case's own seed; graded runs a derived one."""

    case: Case
    seed: int
    graded: bool = False

    @property
    def key(self) -> str:
        return f"{self.case.id}#graded" if self.graded else self.case.id

    @property
    def what(self) -> str:
        return f"{self.case.what}（评分用的新输入）" if self.graded else self.case.what

    def request(self) -> dict:
        return {"key": self.key, "case": self.case.id, "seed": self.seed}


def practice_run(case: Case) -> Run:
    return Run(case, case.seed)


def graded_run(case: Case, grading_seed: int) -> Run:
    digest = hashlib.sha256(f"{grading_seed}:{case.id}".encode()).digest()
    return Run(case, int.from_bytes(digest[:7], "big"), graded=True)


def randint(g: torch.Generator, low: int, high: int) -> int:
    """One integer in [low, high) drawn from g."""
    return int(torch.randint(low, high, (1,), generator=g))


# ---------------------------------------------------------------- running one case
def _snapshot(args):
    return {k: v.detach().clone() for k, v in args.items() if isinstance(v, torch.Tensor)}


def _modified(args, snapshot):
    changed = []
    for name, before in snapshot.items():
        after = args[name]
        if not isinstance(after, torch.Tensor) or after.shape != before.shape or not torch.equal(after.detach(), before):
            changed.append(name)
    return changed


def _gradients(result, args, names):
    """Gradients of a weighted sum of the result, so every output element matters."""
    if not isinstance(result, torch.Tensor) or not result.requires_grad:
        return None
    weights = torch.arange(1, result.numel() + 1, dtype=result.dtype).reshape(result.shape)
    grads = torch.autograd.grad((result * weights).sum(), [args[n] for n in names], allow_unused=True)
    return {n: g for n, g in zip(names, grads)}


def run_call(func, case: Case, seed: int) -> dict:
    args = case.arguments(seed)
    snapshot = _snapshot(args)
    for name in case.grad_of:
        args[name] = args[name].detach().clone().requires_grad_(True)
    result = func(*args.values())  # positional: a student may rename the parameters
    out = {"value": result, "modified": _modified(args, snapshot)}
    if case.grad_of:
        out["grads"] = _gradients(result, args, case.grad_of)
    return out


# Stand-ins for TODO 1/2/4 in the "spied" TODO 5 case: simple, differentiable, and not the answer.
def _spy_sequence_log_probs(logits, input_ids, loss_mask):
    return (logits.tanh().mean(-1) * loss_mask.to(logits.dtype)).sum(-1) - 3.0


def _spy_dpo_loss(pc, pr, rc, rr, beta=0.1):
    return (beta * ((pc - 2 * pr) - (rc - rr))).sin().mean() + 1.0


def _spy_dpo_metrics(pc, pr, rc, rr, beta=0.1):
    with torch.no_grad():
        return {"rewards/chosen": float((pc - rc).sum()) * beta, "rewards/rejected": float((pr - rr).sum()) * beta,
                "rewards/margins": float(pc.max()), "rewards/accuracies": float(pr.min())}


SPIES = {"sequence_log_probs": _spy_sequence_log_probs, "dpo_loss": _spy_dpo_loss, "dpo_metrics": _spy_dpo_metrics}


def flat_params(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def run_train_step(module, case: Case, seed: int) -> dict:
    """Run `steps` optimisation steps of the module's dpo_train_step on a tiny model."""
    args = case.arguments(seed)
    model, lr = args.pop("policy"), args.pop("lr")
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    saved = {}
    if case.options.get("spies"):
        saved = {name: getattr(module, name, None) for name in SPIES}
        for name, spy in SPIES.items():
            setattr(module, name, spy)
    steps, params = [], []
    try:
        for _ in range(case.options["steps"]):
            batch = {k: v.clone() for k, v in args["batch"].items()}
            calls_before = model.forward_calls
            result = module.dpo_train_step(model, batch, args["ref_chosen_log_probs"].clone(),
                                           args["ref_rejected_log_probs"].clone(), optimizer, args["beta"])
            steps.append({"result": result, "forward_calls": model.forward_calls - calls_before})
            params.append(flat_params(model))
    finally:
        for name, original in saved.items():
            setattr(module, name, original)
    return {"steps": steps, "params": params}


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def run_raises(func, case: Case, seed: int) -> dict:
    """A case on bad input: whether the call raised, a ValueError, with a Chinese message that names
    every valid choice (``case.options["choices"]``). Booleans only: the grader gets plain values.

    Whether it raised, and what, decides the case; the message's wording is advice (a note on a
    passing case, see the TODO's check module). NotImplementedError still propagates: an untouched
    stub is "not done", not a wrong answer.
    """
    args = case.arguments(seed)
    try:
        func(*args.values())
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - what was raised is the answer here
        message = str(error)
        return {"value": {"raised": True, "value_error": isinstance(error, ValueError), "chinese": _chinese(message),
                          "names_choices": all(choice in message for choice in case.options.get("choices", ()))},
                "modified": []}
    return {"value": {"raised": False, "value_error": False, "chinese": False, "names_choices": False}, "modified": []}


def run_case(module, case: Case, seed: int) -> dict:
    """Outputs of `module`'s implementation on one case (may raise what the implementation raises)."""
    if case.runner == "train_step":
        return run_train_step(module, case, seed)
    if case.runner == "raises":
        return run_raises(getattr(module, case.todo), case, seed)
    return run_call(getattr(module, case.todo), case, seed)


def initial_params(case: Case, seed: int) -> torch.Tensor:
    """The tiny model's parameters before a train-step case (to tell "unchanged" from "wrong")."""
    return flat_params(case.arguments(seed)["policy"])
