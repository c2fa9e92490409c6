"""The inputs every check feeds to a TODO, and how one case is run.

A case builds its inputs from a fixed seed with a private torch.Generator, so the grader and
a child process rebuild exactly the same tensors without sending them. `run_case` calls the
function under test and returns plain outputs (values, gradients, whether inputs were
modified); judging them against the reference happens elsewhere, in the trusted process.
"""

from dataclasses import dataclass, field
from typing import Callable

import torch

from .tiny_model import TinyCausalLM


@dataclass(frozen=True)
class Case:
    todo: str  # function name of the TODO
    name: str  # stable id, used in messages and reports
    what: str  # the case in the student's words
    build: Callable[[], dict]  # fresh arguments for the call, in signature order
    grad_of: tuple = ()  # arguments whose gradient is part of the output
    runner: str = "call"  # "call" or "train_step"
    options: dict = field(default_factory=dict)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- TODO 1 and TODO 4 inputs
def _log_probs(seed, batch, dtype=torch.float32, scale=3.0, spread=0.5):
    """Four [B] tensors shaped like summed sequence log-probs (negative), with real margins."""
    g = _gen(seed)
    ref_chosen = -(torch.rand(batch, generator=g, dtype=torch.float64) * 20 + 5)
    ref_rejected = -(torch.rand(batch, generator=g, dtype=torch.float64) * 20 + 5)
    policy_chosen = ref_chosen + torch.randn(batch, generator=g, dtype=torch.float64) * scale + spread
    policy_rejected = ref_rejected + torch.randn(batch, generator=g, dtype=torch.float64) * scale - spread
    return [t.to(dtype) for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)]


def _pair_args(tensors, beta):
    names = ("policy_chosen_log_probs", "policy_rejected_log_probs", "ref_chosen_log_probs", "ref_rejected_log_probs")
    return {**dict(zip(names, tensors)), "beta": beta}


def _large_margin():
    # beta * z = -200 and +150: a naive log(sigmoid(x)) gives log(0) = -inf in float32.
    policy_chosen = torch.tensor([-2001.0, -1.0, -30.0])
    policy_rejected = torch.tensor([-1.0, -1501.0, -31.0])
    ref = torch.tensor([-10.0, -10.0, -10.0])
    return _pair_args([policy_chosen, policy_rejected, ref.clone(), ref.clone()], 0.1)


def _ties():
    # Two of four pairs have exactly equal implicit rewards: accuracies must count them as wrong.
    policy_chosen = torch.tensor([-10.0, -12.0, -8.0, -9.0])
    policy_rejected = torch.tensor([-11.0, -12.0, -8.0, -15.0])
    ref_chosen = torch.tensor([-10.0, -11.0, -9.0, -10.0])
    ref_rejected = torch.tensor([-10.0, -11.0, -9.0, -10.0])
    return _pair_args([policy_chosen, policy_rejected, ref_chosen, ref_rejected], 0.5)


_POLICY = ("policy_chosen_log_probs", "policy_rejected_log_probs")

DPO_LOSS_CASES = [
    Case("dpo_loss", "random_b8", "随机输入，B=8，float32，β=0.1", lambda: _pair_args(_log_probs(1, 8), 0.1), _POLICY),
    Case("dpo_loss", "batch_of_one", "B=1，β=0.5", lambda: _pair_args(_log_probs(2, 1), 0.5), _POLICY),
    Case("dpo_loss", "float64", "float64 输入，B=5，β=0.2", lambda: _pair_args(_log_probs(3, 5, torch.float64), 0.2), _POLICY),
    Case("dpo_loss", "beta_one", "β=1.0，B=6", lambda: _pair_args(_log_probs(4, 6, scale=1.0), 1.0), _POLICY),
    Case("dpo_loss", "large_margin", "极大的 margin（β·z = -200 与 +150），float32", _large_margin, _POLICY),
]

DPO_METRICS_CASES = [
    Case("dpo_metrics", "random_b8", "随机输入，B=8，β=0.1", lambda: _pair_args(_log_probs(11, 8), 0.1)),
    Case("dpo_metrics", "beta_half", "β=0.5，B=7", lambda: _pair_args(_log_probs(12, 7, spread=0.2), 0.5)),
    Case("dpo_metrics", "ties", "chosen 与 rejected 奖励相等的样本（不能算对）", _ties),
    Case("dpo_metrics", "float64", "float64 输入，B=3", lambda: _pair_args(_log_probs(13, 3, torch.float64), 0.1)),
]


# ---------------------------------------------------------------- TODO 2 inputs
def _sequences(seed, prompt_lens, response_lens, vocab=11, dtype=torch.float32, logit_scale=2.0, pad_id=0):
    """Right-padded rows: prompt, response, padding; loss_mask marks the response only."""
    g = _gen(seed)
    batch = len(prompt_lens)
    length = max(p + r for p, r in zip(prompt_lens, response_lens)) + 1
    input_ids = torch.full((batch, length), pad_id, dtype=torch.long)
    loss_mask = torch.zeros((batch, length), dtype=torch.long)
    for row, (p, r) in enumerate(zip(prompt_lens, response_lens)):
        input_ids[row, : p + r] = torch.randint(1, vocab, (p + r,), generator=g)
        loss_mask[row, p : p + r] = 1
    logits = (torch.randn(batch, length, vocab, generator=g, dtype=torch.float64) * logit_scale).to(dtype)
    return {"logits": logits, "input_ids": input_ids, "loss_mask": loss_mask}


def _response_from_start():
    # A row whose response starts at t=0: position 0 has no prediction and must not count.
    args = _sequences(24, [0, 2], [4, 3])
    return args


def _bool_mask():
    args = _sequences(25, [2, 1, 3], [3, 5, 2])
    args["loss_mask"] = args["loss_mask"].bool()
    return args


SEQUENCE_CASES = [
    Case("sequence_log_probs", "random_b3", "随机输入，B=3，不同的提示词与回答长度", lambda: _sequences(21, [2, 4, 1], [3, 2, 5]), ("logits",)),
    Case("sequence_log_probs", "batch_of_one", "B=1", lambda: _sequences(22, [3], [4]), ("logits",)),
    Case("sequence_log_probs", "float64", "float64 logits，B=2", lambda: _sequences(23, [1, 3], [4, 2], dtype=torch.float64), ("logits",)),
    Case("sequence_log_probs", "response_from_start", "回答从第 0 个 token 开始（第 0 个位置没有预测，不能算）", _response_from_start, ("logits",)),
    Case("sequence_log_probs", "bool_mask", "loss_mask 是布尔张量", _bool_mask, ("logits",)),
    Case("sequence_log_probs", "large_logits", "很大的 logits（±100 量级），float32", lambda: _sequences(26, [2, 2], [3, 4], logit_scale=60.0), ("logits",)),
]


# ---------------------------------------------------------------- TODO 3 inputs
def _examples(seed, shapes, vocab=30):
    g = _gen(seed)

    def ids(n):
        return torch.randint(3, vocab, (n,), generator=g).tolist()

    return [{"prompt_ids": ids(p), "chosen_ids": ids(c), "rejected_ids": ids(r)} for p, c, r in shapes]


COLLATE_CASES = [
    Case("collate_preference_batch", "three_pairs", "B=3，长度各不相同，pad_token_id=0",
         lambda: {"examples": _examples(31, [(3, 4, 2), (5, 2, 6), (2, 3, 3)]), "pad_token_id": 0}),
    Case("collate_preference_batch", "pad_id_two", "pad_token_id=2（不是 0）",
         lambda: {"examples": _examples(32, [(2, 5, 1), (4, 1, 3)]), "pad_token_id": 2}),
    Case("collate_preference_batch", "batch_of_one", "B=1，rejected 比 chosen 长",
         lambda: {"examples": _examples(33, [(3, 2, 6)]), "pad_token_id": 1}),
    Case("collate_preference_batch", "same_length", "所有行一样长（不需要补齐）",
         lambda: {"examples": _examples(34, [(2, 3, 3), (3, 2, 2)]), "pad_token_id": 0}),
]


# ---------------------------------------------------------------- TODO 5 inputs
def _train_batch(seed, pairs, vocab, pad_id=0):
    """A 2B batch built by hand (not by the student's collate), chosen rows first."""
    g = _gen(seed)
    rows, prompts = [], []
    for _ in range(pairs):
        prompt = torch.randint(1, vocab, (int(torch.randint(1, 4, (1,), generator=g)),), generator=g).tolist()
        chosen = torch.randint(1, vocab, (int(torch.randint(2, 5, (1,), generator=g)),), generator=g).tolist()
        rejected = torch.randint(1, vocab, (int(torch.randint(2, 5, (1,), generator=g)),), generator=g).tolist()
        prompts.append(prompt)
        rows.append((prompt, chosen, rejected))
    ordered = [(p, c) for p, c, _ in rows] + [(p, r) for p, _, r in rows]
    length = max(len(p) + len(r) for p, r in ordered)
    input_ids = torch.full((len(ordered), length), pad_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    loss_mask = torch.zeros_like(input_ids)
    for i, (p, r) in enumerate(ordered):
        input_ids[i, : len(p) + len(r)] = torch.tensor(p + r)
        attention_mask[i, : len(p) + len(r)] = 1
        loss_mask[i, len(p) : len(p) + len(r)] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "loss_mask": loss_mask}


def _train_step_inputs(seed, pairs, beta, lr):
    vocab = 13
    model = TinyCausalLM(vocab=vocab, dim=8, seed=seed)
    batch = _train_batch(seed + 1, pairs, vocab)
    g = _gen(seed + 2)
    ref_chosen = -(torch.rand(pairs, generator=g) * 5 + 8)
    ref_rejected = -(torch.rand(pairs, generator=g) * 5 + 8)
    return {"policy": model, "batch": batch, "ref_chosen_log_probs": ref_chosen,
            "ref_rejected_log_probs": ref_rejected, "beta": beta, "lr": lr}


TRAIN_STEP_CASES = [
    Case("dpo_train_step", "two_steps", "两步 SGD，B=3，β=0.5（检查前向次数、梯度清零、参数更新）",
         lambda: _train_step_inputs(41, 3, 0.5, 0.5), runner="train_step", options={"steps": 2}),
    Case("dpo_train_step", "two_steps_spied", "同上，但把 TODO 1/2/4 换成检查器自己的替身函数（只看 TODO 5 本身的连接是否正确）",
         lambda: _train_step_inputs(43, 2, 0.2, 0.5), runner="train_step", options={"steps": 2, "spies": True}),
    Case("dpo_train_step", "batch_of_one", "一步 SGD，B=1，β=0.1",
         lambda: _train_step_inputs(42, 1, 0.1, 1.0), runner="train_step", options={"steps": 1}),
]

CASES = DPO_LOSS_CASES + SEQUENCE_CASES + COLLATE_CASES + DPO_METRICS_CASES + TRAIN_STEP_CASES
BY_ID = {f"{c.todo}/{c.name}": c for c in CASES}


def cases_for(todo_name: str) -> list:
    return [c for c in CASES if c.todo == todo_name]


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


def run_call(func, case: Case) -> dict:
    args = case.build()
    snapshot = _snapshot(args)
    for name in case.grad_of:
        args[name] = args[name].detach().clone().requires_grad_(True)
    result = func(*args.values())  # positional: a student may rename the parameters
    out = {"value": result, "modified": _modified(args, snapshot)}
    if case.grad_of:
        out["grads"] = _gradients(result, args, case.grad_of)
    return out


# Stand-ins for TODO 1/2/4 in the "spied" case: simple, differentiable, and not the answer.
def _spy_sequence_log_probs(logits, input_ids, loss_mask):
    return (logits.tanh().mean(-1) * loss_mask.to(logits.dtype)).sum(-1) - 3.0


def _spy_dpo_loss(pc, pr, rc, rr, beta=0.1):
    return (beta * ((pc - 2 * pr) - (rc - rr))).sin().mean() + 1.0


def _spy_dpo_metrics(pc, pr, rc, rr, beta=0.1):
    with torch.no_grad():
        return {"rewards/chosen": float((pc - rc).sum()) * beta, "rewards/rejected": float((pr - rr).sum()) * beta,
                "rewards/margins": float(pc.max()), "rewards/accuracies": float(pr.min())}


SPIES = {"sequence_log_probs": _spy_sequence_log_probs, "dpo_loss": _spy_dpo_loss, "dpo_metrics": _spy_dpo_metrics}


def run_train_step(module, case: Case) -> dict:
    """Run `steps` optimisation steps of the module's dpo_train_step on a tiny model."""
    args = case.build()
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
            params.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()]))
    finally:
        for name, original in saved.items():
            setattr(module, name, original)
    return {"steps": steps, "params": params}


def run_case(module, case: Case) -> dict:
    """Outputs of `module`'s implementation on one case (may raise what the implementation raises)."""
    if case.runner == "train_step":
        return run_train_step(module, case)
    return run_call(getattr(module, case.todo), case)
