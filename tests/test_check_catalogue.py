"""The checks tell right from wrong: every common mistake fails with its hint, every other correct way passes.

Each variant is written as a student would write it and appended to the reference solution,
so its `def` overrides the reference one. Variants for different TODOs share one file (and one
child process) to keep the suite fast; each TODO is judged on its own. Every file is judged twice:
by the student's self-check (practice inputs, shipped expected outputs and mistake outputs) and by
instructor grading (also graded inputs, live reference and mistake catalogue).
"""

import functools
import textwrap

import pytest

from step5_rlhf.assess import Grader, check_submission, grade_submission
from step5_rlhf.checks.report import format_report, report_html
from step5_rlhf.grading.runner import ForkServer, use_fork_server
from submissions import make_submission

MODES = ("check", "grade")

# Optional TODO 6 as a student would write it; each variant changes one piece.
_PREFERENCE = """
def preference_loss(pc, pr, rc, rr, beta=0.1, loss_type="sigmoid", label_smoothing=0.0, chosen_lengths=None,
                    rejected_lengths=None):
    {check}
    c, r = pc - rc, pr - rr
    if loss_type in {norm}:
        c, r = c / {lc}.clamp(min=1), r / {lr}.clamp(min=1)
    z = c - r
    eps = label_smoothing
    if loss_type in ("sigmoid", "sigmoid_norm"):
        losses = -F.logsigmoid(beta * z)
    elif loss_type == "robust":
        losses = {robust}
    elif loss_type == "hinge":
        losses = {hinge}
    else:
        losses = {ipo}
    return losses.{reduce}()
"""
_PREFERENCE_PARTS = dict(
    check='if loss_type not in ("sigmoid", "robust", "hinge", "ipo", "sigmoid_norm"):\n        raise ValueError(f"不认识的 loss_type：{loss_type}")',
    norm='("ipo", "sigmoid_norm")', lc="chosen_lengths", lr="rejected_lengths",
    robust="(-(1 - eps) * F.logsigmoid(beta * z) + eps * F.logsigmoid(-beta * z)) / (1 - 2 * eps)",
    hinge="torch.relu(1 - beta * z)", ipo="(z - 1 / (2 * beta)) ** 2", reduce="mean")


def preference(**change):
    return _PREFERENCE.format(**{**_PREFERENCE_PARTS, **change})


# (todo, variant id, source, a phrase the hint must contain)
MISTAKES = [
    ("dpo_loss", "sign_flipped", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return -F.logsigmoid(beta * ((pr - pc) - (rr - rc))).mean()
""", "符号反了"),
    ("dpo_loss", "beta_missing", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return -F.logsigmoid((pc - pr) - (rc - rr)).mean()
""", "没有乘 β"),
    ("dpo_loss", "reference_ignored", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return -F.logsigmoid(beta * (pc - pr)).mean()
""", "参考模型"),
    ("dpo_loss", "sum_not_mean", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return -F.logsigmoid(beta * ((pc - pr) - (rc - rr))).sum()
""", "平均"),
    ("dpo_loss", "naive_log_sigmoid", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return -torch.log(torch.sigmoid(beta * ((pc - pr) - (rc - rr)))).mean()
""", "F.logsigmoid"),
    ("dpo_loss", "missing_minus", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return F.logsigmoid(beta * ((pc - pr) - (rc - rr))).mean()
""", "负号"),
    ("dpo_loss", "detached", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    z = ((pc - pr) - (rc - rr)).detach()
    return -F.logsigmoid(beta * z).mean()
""", ""),
    ("dpo_loss", "half_precision", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return -F.logsigmoid(beta * ((pc - pr) - (rc - rr))).mean().half()
""", "float32 或 float64"),
    ("sequence_log_probs", "no_shift", """
def sequence_log_probs(logits, input_ids, loss_mask):
    lp = torch.gather(logits.log_softmax(-1), 2, input_ids.unsqueeze(-1)).squeeze(-1)
    return (lp * loss_mask).sum(-1)
""", "错一位"),
    ("sequence_log_probs", "mask_ignored", """
def sequence_log_probs(logits, input_ids, loss_mask):
    lp = torch.gather(logits[:, :-1].log_softmax(-1), 2, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return lp.sum(-1)
""", "loss_mask"),
    ("sequence_log_probs", "mean_not_sum", """
def sequence_log_probs(logits, input_ids, loss_mask):
    lp = torch.gather(logits[:, :-1].log_softmax(-1), 2, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    m = loss_mask[:, 1:].float()
    return (lp * m).sum(-1) / m.sum(-1)
""", "平均"),
    ("sequence_log_probs", "naive_log_softmax", """
def sequence_log_probs(logits, input_ids, loss_mask):
    p = torch.softmax(logits[:, :-1], dim=-1)
    lp = torch.log(torch.gather(p, 2, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1))
    return (lp * loss_mask[:, 1:].to(lp.dtype)).sum(-1)
""", "log_softmax"),
    ("sequence_log_probs", "mask_not_shifted", """
def sequence_log_probs(logits, input_ids, loss_mask):
    lp = torch.gather(logits[:, :-1].log_softmax(-1), 2, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return (lp * loss_mask[:, :-1].to(lp.dtype)).sum(-1)
""", "loss_mask[:, 1:]"),
    ("collate_preference_batch", "prompt_in_loss_mask", """
def collate_preference_batch(examples, pad_token_id):
    rows = [e["prompt_ids"] + e["chosen_ids"] for e in examples] + [e["prompt_ids"] + e["rejected_ids"] for e in examples]
    T = max(map(len, rows))
    ids = torch.tensor([r + [pad_token_id] * (T - len(r)) for r in rows])
    att = torch.tensor([[1] * len(r) + [0] * (T - len(r)) for r in rows])
    return {"input_ids": ids, "attention_mask": att, "loss_mask": att.clone()}
""", "提示词"),
    ("collate_preference_batch", "left_padding", """
def collate_preference_batch(examples, pad_token_id):
    rows = [(e["prompt_ids"], e["chosen_ids"]) for e in examples] + [(e["prompt_ids"], e["rejected_ids"]) for e in examples]
    T = max(len(p) + len(r) for p, r in rows)
    ids, att, lm = [], [], []
    for p, r in rows:
        pad = T - len(p) - len(r)
        ids.append([pad_token_id] * pad + p + r)
        att.append([0] * pad + [1] * (len(p) + len(r)))
        lm.append([0] * (pad + len(p)) + [1] * len(r))
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(att), "loss_mask": torch.tensor(lm)}
""", "右侧补齐"),
    ("collate_preference_batch", "rejected_first", """
def collate_preference_batch(examples, pad_token_id):
    swapped = [{"prompt_ids": e["prompt_ids"], "chosen_ids": e["rejected_ids"], "rejected_ids": e["chosen_ids"]} for e in examples]
    return _reference_collate(swapped, pad_token_id)
""", "顺序反了"),
    ("collate_preference_batch", "pad_hardcoded_zero", """
def collate_preference_batch(examples, pad_token_id):
    return _reference_collate(examples, 0)
""", "pad_token_id"),
    ("collate_preference_batch", "padding_in_loss_mask", """
def collate_preference_batch(examples, pad_token_id):
    batch = _reference_collate(examples, pad_token_id)
    for i, e in enumerate(examples + examples):
        batch["loss_mask"][i, len(e["prompt_ids"]):] = 1
    return batch
""", "补齐"),
    ("dpo_metrics", "beta_missing", """
def dpo_metrics(pc, pr, rc, rr, beta=0.1):
    c, r = (pc - rc).detach(), (pr - rr).detach()
    return {"rewards/chosen": c.mean().item(), "rewards/rejected": r.mean().item(),
            "rewards/margins": (c - r).mean().item(), "rewards/accuracies": (c > r).float().mean().item()}
""", "β"),
    ("dpo_metrics", "not_strict", """
def dpo_metrics(pc, pr, rc, rr, beta=0.1):
    c, r = beta * (pc - rc).detach(), beta * (pr - rr).detach()
    return {"rewards/chosen": c.mean().item(), "rewards/rejected": r.mean().item(),
            "rewards/margins": (c - r).mean().item(), "rewards/accuracies": (c >= r).float().mean().item()}
""", "严格大于"),
    ("dpo_metrics", "tensors_not_floats", """
def dpo_metrics(pc, pr, rc, rr, beta=0.1):
    c, r = beta * (pc - rc).detach(), beta * (pr - rr).detach()
    return {"rewards/chosen": c.mean(), "rewards/rejected": r.mean(),
            "rewards/margins": (c - r).mean(), "rewards/accuracies": (c > r).float().mean()}
""", ""),
    ("dpo_metrics", "reference_ignored", """
def dpo_metrics(pc, pr, rc, rr, beta=0.1):
    c, r = beta * pc.detach(), beta * pr.detach()
    return {"rewards/chosen": c.mean().item(), "rewards/rejected": r.mean().item(),
            "rewards/margins": (c - r).mean().item(), "rewards/accuracies": (c > r).float().mean().item()}
""", "参考模型"),
    ("dpo_train_step", "no_zero_grad", """
def dpo_train_step(policy, batch, rc, rr, optimizer, beta=0.1):
    B = rc.shape[0]
    logits = policy(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    lp = sequence_log_probs(logits, batch["input_ids"], batch["loss_mask"])
    loss = dpo_loss(lp[:B], lp[B:], rc, rr, beta)
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), **dpo_metrics(lp[:B], lp[B:], rc, rr, beta)}
""", "zero_grad"),
    ("dpo_train_step", "no_optimizer_step", """
def dpo_train_step(policy, batch, rc, rr, optimizer, beta=0.1):
    B = rc.shape[0]
    logits = policy(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    lp = sequence_log_probs(logits, batch["input_ids"], batch["loss_mask"])
    loss = dpo_loss(lp[:B], lp[B:], rc, rr, beta)
    optimizer.zero_grad()
    loss.backward()
    return {"loss": loss.item(), **dpo_metrics(lp[:B], lp[B:], rc, rr, beta)}
""", "optimizer.step"),
    ("dpo_train_step", "two_forwards", """
def dpo_train_step(policy, batch, rc, rr, optimizer, beta=0.1):
    B = rc.shape[0]
    halves = [{k: v[:B] for k, v in batch.items()}, {k: v[B:] for k, v in batch.items()}]
    lps = [sequence_log_probs(policy(input_ids=h["input_ids"], attention_mask=h["attention_mask"]).logits,
                              h["input_ids"], h["loss_mask"]) for h in halves]
    loss = dpo_loss(lps[0], lps[1], rc, rr, beta)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), **dpo_metrics(lps[0], lps[1], rc, rr, beta)}
""", "前向"),
    ("dpo_train_step", "swapped_halves", """
def dpo_train_step(policy, batch, rc, rr, optimizer, beta=0.1):
    B = rc.shape[0]
    logits = policy(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    lp = sequence_log_probs(logits, batch["input_ids"], batch["loss_mask"])
    loss = dpo_loss(lp[B:], lp[:B], rc, rr, beta)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), **dpo_metrics(lp[B:], lp[:B], rc, rr, beta)}
""", ""),
    ("preference_loss", "ipo_not_normalised", preference(norm='("sigmoid_norm",)'), "token 数"),
    ("preference_loss", "ipo_target_one_over_beta", preference(ipo="(z - 1 / beta) ** 2"), "1/(2β)"),
    ("preference_loss", "robust_no_denominator",
     preference(robust="-(1 - eps) * F.logsigmoid(beta * z) + eps * F.logsigmoid(-beta * z)"), "分母"),
    ("preference_loss", "robust_sign_flipped",
     preference(robust="(-(1 - eps) * F.logsigmoid(beta * z) - eps * F.logsigmoid(-beta * z)) / (1 - 2 * eps)"), "cDPO"),
    ("preference_loss", "hinge_without_beta", preference(hinge="torch.relu(1 - z)"), "乘 β"),
    ("preference_loss", "lengths_swapped", preference(lc="rejected_lengths", lr="chosen_lengths"), "配反"),
    ("preference_loss", "sigmoid_norm_not_normalised", preference(norm='("ipo",)'), "归一化"),
    ("preference_loss", "sum_not_mean", preference(reduce="sum"), "平均"),
    ("preference_loss", "naive_log_sigmoid", preference(
        robust="(-(1 - eps) * torch.log(torch.sigmoid(beta * z)) + eps * torch.log(torch.sigmoid(-beta * z))) / (1 - 2 * eps)"),
     "F.logsigmoid"),
    ("preference_loss", "unknown_type_falls_through", preference(check="pass"), "ValueError"),
    ("preference_loss", "unknown_type_other_exception", preference(
        check='if loss_type not in ("sigmoid", "robust", "hinge", "ipo", "sigmoid_norm"):\n        raise KeyError(loss_type)'),
     "别的异常"),
    ("reward_model_loss", "sign_flipped", """
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    return -F.logsigmoid(rejected_rewards - chosen_rewards).mean()
""", "符号反了"),
    ("reward_model_loss", "missing_minus", """
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    return F.logsigmoid(chosen_rewards - rejected_rewards).mean()
""", "负号"),
    ("reward_model_loss", "margin_added", """
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    m = 0 if margin is None else margin
    return -F.logsigmoid(chosen_rewards - rejected_rewards + m).mean()
""", "margin 要减去"),
    ("reward_model_loss", "margin_ignored", """
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    return -F.logsigmoid(chosen_rewards - rejected_rewards).mean()
""", "margin"),
    ("reward_model_loss", "sum_not_mean", """
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    m = 0 if margin is None else margin
    return -F.logsigmoid(chosen_rewards - rejected_rewards - m).sum()
""", "平均"),
    ("reward_model_loss", "naive_log_sigmoid", """
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    m = 0 if margin is None else margin
    return -torch.log(torch.sigmoid(chosen_rewards - rejected_rewards - m)).mean()
""", "F.logsigmoid"),
]

# Correct implementations written another way: each must pass its TODO.
ALTERNATIVES = [
    ("dpo_loss", "softplus", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    return F.softplus(-beta * ((pc - pr) - (rc - rr))).mean()
"""),
    ("dpo_loss", "logaddexp", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    x = beta * ((pc - rc) - (pr - rr))
    return torch.logaddexp(torch.zeros_like(x), -x).mean()
"""),
    ("dpo_loss", "loop", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    losses = []
    for i in range(pc.shape[0]):
        z = (pc[i] - pr[i]) - (rc[i] - rr[i])
        losses.append(-F.logsigmoid(beta * z))
    return torch.stack(losses).sum() / len(losses)
"""),
    ("dpo_loss", "upcast_float32", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    z = (pc.float() - pr.float()) - (rc.float() - rr.float())   # float64 inputs: computed and returned in float32
    return -F.logsigmoid(beta * z).mean()
"""),
    ("dpo_loss", "float64_throughout", """
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    z = (pc.double() - pr.double()) - (rc.double() - rr.double())
    return -F.logsigmoid(beta * z).mean()
"""),
    ("sequence_log_probs", "cross_entropy_float32", """
def sequence_log_probs(logits, input_ids, loss_mask):
    # as TRL does: log-softmax in float32 whatever the logits' dtype
    nll = F.cross_entropy(logits[:, :-1].float().transpose(1, 2), input_ids[:, 1:], reduction="none")
    return -(nll * loss_mask[:, 1:].float()).sum(dim=1)
"""),
    ("sequence_log_probs", "cross_entropy", """
def sequence_log_probs(logits, input_ids, loss_mask):
    nll = F.cross_entropy(logits[:, :-1].transpose(1, 2), input_ids[:, 1:], reduction="none")
    return -(nll * loss_mask[:, 1:].to(nll.dtype)).sum(dim=1)
"""),
    ("sequence_log_probs", "loop", """
def sequence_log_probs(logits, input_ids, loss_mask):
    out = []
    for b in range(logits.shape[0]):
        total = logits.new_zeros(())
        for t in range(1, logits.shape[1]):
            if loss_mask[b, t]:
                total = total + torch.log_softmax(logits[b, t - 1], dim=-1)[input_ids[b, t]]
        out.append(total)
    return torch.stack(out)
"""),
    ("collate_preference_batch", "pad_sequence", """
def collate_preference_batch(examples, pad_token_id):
    from torch.nn.utils.rnn import pad_sequence
    seqs, masks = [], []
    for key in ("chosen_ids", "rejected_ids"):
        for e in examples:
            seqs.append(torch.tensor(e["prompt_ids"] + e[key]))
            masks.append(torch.tensor([0] * len(e["prompt_ids"]) + [1] * len(e[key])))
    ids = pad_sequence(seqs, batch_first=True, padding_value=pad_token_id)
    att = pad_sequence([torch.ones_like(s) for s in seqs], batch_first=True)
    return {"input_ids": ids, "attention_mask": att, "loss_mask": pad_sequence(masks, batch_first=True).bool()}
"""),
    ("dpo_metrics", "float_and_lists", """
def dpo_metrics(pc, pr, rc, rr, beta=0.1):
    c = [beta * (a - b) for a, b in zip(pc.tolist(), rc.tolist())]
    r = [beta * (a - b) for a, b in zip(pr.tolist(), rr.tolist())]
    n = len(c)
    return {"rewards/chosen": float(sum(c) / n), "rewards/rejected": float(sum(r) / n),
            "rewards/margins": float(sum(x - y for x, y in zip(c, r)) / n),
            "rewards/accuracies": float(sum(x > y for x, y in zip(c, r)) / n),
            "logps/chosen": float(pc.mean())}
"""),
    ("dpo_metrics", "upcast_float32", """
def dpo_metrics(pc, pr, rc, rr, beta=0.1):
    with torch.no_grad():
        c, r = beta * (pc.float() - rc.float()), beta * (pr.float() - rr.float())
    return {"rewards/chosen": c.mean().item(), "rewards/rejected": r.mean().item(),
            "rewards/margins": (c - r).mean().item(), "rewards/accuracies": (c > r).float().mean().item()}
"""),
    ("dpo_train_step", "zero_grad_after_and_split", """
def dpo_train_step(policy, batch, rc, rr, optimizer, beta=0.1):
    out = policy(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    chosen, rejected = sequence_log_probs(out.logits, batch["input_ids"], batch["loss_mask"]).split(rc.shape[0])
    metrics = dpo_metrics(chosen, rejected, rc, rr, beta)
    loss = dpo_loss(chosen, rejected, rc, rr, beta)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return dict(loss=float(loss), **metrics)
"""),
    ("preference_loss", "softplus", preference(
        robust="((1 - eps) * F.softplus(-beta * z) - eps * F.softplus(beta * z)) / (1 - 2 * eps)")),
    ("preference_loss", "float_lengths", preference(lc="chosen_lengths.float()", lr="rejected_lengths.float()")),
    ("preference_loss", "ipo_expanded", preference(ipo="(2 * beta * z - 1) ** 2 / (4 * beta ** 2)")),
    ("preference_loss", "hinge_clamp", preference(hinge="(1 - beta * z).clamp(min=0)")),
    # the unknown-type message's wording is advice, not points (see test_todo6_message_wording_is_advice_not_points)
    ("preference_loss", "message_not_chinese", preference(
        check='if loss_type not in ("sigmoid", "robust", "hinge", "ipo", "sigmoid_norm"):\n        raise ValueError(loss_type)')),
    ("reward_model_loss", "softplus", """
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    if margin is None:
        margin = torch.zeros_like(chosen_rewards)
    return F.softplus(rejected_rewards - chosen_rewards + margin).mean()
"""),
]

# Helper appended to every variant file: some mistakes are easiest written on top of a right collate.
_PRELUDE = "\n_reference_collate = collate_preference_batch\n"


def _groups(variants):
    """Group variants so that no file holds two of the same TODO."""
    groups = []
    for variant in variants:
        for group in groups:
            if all(v[0] != variant[0] for v in group):
                group.append(variant)
                break
        else:
            groups.append([variant])
    return groups


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    """(kind, group index, mode) -> {todo: TodoResult}; one fork server and one grader for the module."""
    root = str(tmp_path_factory.mktemp("variants"))
    server = ForkServer() if use_fork_server() else None
    grader = Grader.from_repo(seed=20261201)

    @functools.cache
    def verdicts(kind, index, mode):
        group = _groups(MISTAKES if kind == "mistake" else ALTERNATIVES)[index]
        path = make_submission(root, f"{kind}_{index}", _PRELUDE + "".join(textwrap.dedent(v[2]) for v in group))
        if mode == "check":
            results = check_submission(path, server=server)
        else:
            results = grade_submission(path, grader, server=server).todos
        return {r.todo.name: r for r in results}

    yield verdicts
    if server:
        server.close()


def _locate(variants, todo, name):
    for index, group in enumerate(_groups(variants)):
        if any(v[0] == todo and v[1] == name for v in group):
            return index
    raise KeyError(name)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("todo,name,source,phrase", MISTAKES, ids=[f"{m[0]}-{m[1]}" for m in MISTAKES])
def test_common_mistake_fails_with_its_hint(todo, name, source, phrase, mode, judge):
    result = judge("mistake", _locate(MISTAKES, todo, name), mode)[todo]
    assert result.status == "wrong", (result.status, result.message)
    assert result.score == 0
    assert phrase in result.message + result.hint, (result.message, result.hint)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("todo,name,source", ALTERNATIVES, ids=[f"{a[0]}-{a[1]}" for a in ALTERNATIVES])
def test_correct_alternative_passes(todo, name, source, mode, judge):
    result = judge("alternative", _locate(ALTERNATIVES, todo, name), mode)[todo]
    assert result.passed, (result.message, result.hint)


UNKNOWN_TYPE_MESSAGES = [
    ("bare_value", "raise ValueError(loss_type)"),
    ("english", 'raise ValueError(f"unknown loss_type {loss_type!r}")'),
    ("chinese_without_choices", 'raise ValueError(f"不认识的 loss_type：{loss_type}")'),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,statement", UNKNOWN_TYPE_MESSAGES, ids=[m[0] for m in UNKNOWN_TYPE_MESSAGES])
def test_todo6_message_wording_is_advice_not_points(name, statement, mode, tmp_path):
    """Raising ValueError for an unknown loss_type earns TODO 6's points whatever its message says;
    a message that is not Chinese or does not name the choices gets a Chinese note, not a deduction."""
    path = make_submission(tmp_path, name, preference(
        check=f'if loss_type not in ("sigmoid", "robust", "hinge", "ipo", "sigmoid_norm"):\n        {statement}'))
    if mode == "check":
        (result,) = check_submission(path, ["preference_loss"])
    else:
        (result,) = grade_submission(path, Grader.from_repo(seed=20261201), ["preference_loss"]).todos
    assert result.passed and result.score == result.max_score == 2, (result.message, result.hint)
    assert "可选" in result.hint and "不扣分" in result.hint, result.hint
    assert "建议" in result.message
    assert "建议：" in format_report([result]) and "建议：" in report_html([result])


@pytest.mark.parametrize("mode", MODES)
def test_todo6_reference_message_gets_no_note_and_a_returned_result_loses_the_points(mode, tmp_path):
    right = make_submission(tmp_path, "right", "")
    falls_through = make_submission(tmp_path, "falls_through", preference(check="pass"))
    if mode == "check":
        verdicts = [check_submission(path, ["preference_loss"])[0] for path in (right, falls_through)]
    else:
        grader = Grader.from_repo(seed=20261201)
        verdicts = [grade_submission(path, grader, ["preference_loss"]).todos[0] for path in (right, falls_through)]
    assert verdicts[0].passed and verdicts[0].hint == "" and "建议" not in verdicts[0].message
    assert verdicts[1].status == "wrong" and verdicts[1].score == 0
    assert "返回了结果" in verdicts[1].message, verdicts[1].message


def test_an_answer_right_only_on_the_practice_inputs_fails_grading(tmp_path):
    """Self-checks use fixed, shipped inputs; grading also uses inputs derived from a seed students never see."""
    path = make_submission(tmp_path, "practice_only", """
from step5_rlhf.checks import registry
_PRACTICE = [c.arguments(c.seed)["policy_chosen_log_probs"] for c in registry.cases_for("dpo_loss")]
_right = dpo_loss
def dpo_loss(pc, pr, rc, rr, beta=0.1):
    if any(p.shape == pc.shape and torch.equal(p, pc.detach()) for p in _PRACTICE):
        return _right(pc, pr, rc, rr, beta)
    return _right(pc, pr, rc, rr, beta) * 0.5
""")
    (checked,) = check_submission(path, ["dpo_loss"])
    (graded,) = grade_submission(path, Grader.from_repo(seed=5), ["dpo_loss"]).todos
    assert checked.passed, checked.message
    assert graded.status == "wrong" and "评分用的新输入" in graded.message, graded.message


def test_todo5_is_judged_on_its_own_when_an_earlier_todo_is_wrong(tmp_path):
    # A right dpo_train_step that calls a wrong dpo_loss: TODO 1 loses its points, TODO 5 keeps its own.
    path = make_submission(tmp_path, "sign_error", MISTAKES[0][2])
    verdicts = {r.todo.name: r for r in check_submission(path, ["dpo_loss", "dpo_train_step"])}
    assert verdicts["dpo_loss"].status == "wrong"
    assert verdicts["dpo_train_step"].passed, verdicts["dpo_train_step"].message
