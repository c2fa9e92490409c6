"""Common wrong answers, written on purpose, so a check can name the one a student made.

Instructor material, like the reference solution next to it: never copied into the package, the
release or a student folder (several of these are one edit away from an answer). Students get
only the outputs of these functions on the practice inputs (step5_rlhf/checks/expected.json,
written by `step5-rlhf build-exercise`); instructor grading runs them live on graded inputs.

Each mistake is a function with the TODO's signature and a Chinese hint. When a submission's
returned value on a case equals a mistake's on the same inputs, the check shows that hint.
The tests also write every mistake as a student would and assert that the checks fail it.
"""

import torch
import torch.nn.functional as F

from step5_rlhf.checks.mistake import Mistake


def _z(pc, pr, rc, rr):
    return (pc - pr) - (rc - rr)


DPO_LOSS = [
    Mistake("dpo_loss", "sign_flipped", "符号反了：相对改进应是 (π_c − π_r) − (ref_c − ref_r)，损失是 −logsigmoid(+β·z)。",
            lambda pc, pr, rc, rr, beta=0.1: -F.logsigmoid(-beta * _z(pc, pr, rc, rr)).mean()),
    Mistake("dpo_loss", "missing_minus", "少了最前面的负号：损失是 −logsigmoid(β·z)，应当是正数。",
            lambda pc, pr, rc, rr, beta=0.1: F.logsigmoid(beta * _z(pc, pr, rc, rr)).mean()),
    Mistake("dpo_loss", "beta_missing", "没有乘 β：logsigmoid 里应是 β·z。",
            lambda pc, pr, rc, rr, beta=0.1: -F.logsigmoid(_z(pc, pr, rc, rr)).mean()),
    Mistake("dpo_loss", "reference_ignored", "忽略了参考模型：还要减去 (ref_chosen − ref_rejected)。",
            lambda pc, pr, rc, rr, beta=0.1: -F.logsigmoid(beta * (pc - pr)).mean()),
    Mistake("dpo_loss", "sum_not_mean", "对 batch 求了和：应该取平均（.mean()）。",
            lambda pc, pr, rc, rr, beta=0.1: -F.logsigmoid(beta * _z(pc, pr, rc, rr)).sum()),
    Mistake("dpo_loss", "beta_on_policy_only", "β 只乘在策略模型一项上：β 要乘整个差值 z。",
            lambda pc, pr, rc, rr, beta=0.1: -F.logsigmoid(beta * (pc - pr) - (rc - rr)).mean()),
    Mistake("dpo_loss", "per_pair_losses", "返回了每条样本的损失：要对 batch 取平均，返回一个标量。",
            lambda pc, pr, rc, rr, beta=0.1: -F.logsigmoid(beta * _z(pc, pr, rc, rr))),
]


def _token_log_probs(logits, ids):
    return torch.gather(logits.log_softmax(-1), 2, ids.unsqueeze(-1)).squeeze(-1)


def _masked_sum(values, mask):
    return (values * mask.to(values.dtype)).sum(-1)


SEQUENCE = [
    Mistake("sequence_log_probs", "no_shift", "没有错一位：位置 t−1 的 logits 预测第 t 个 token，要用 logits[:, :-1] 对 input_ids[:, 1:]。",
            lambda logits, ids, mask: _masked_sum(_token_log_probs(logits, ids), mask)),
    Mistake("sequence_log_probs", "mean_not_sum", "对回答 token 取了平均：DPO 用的是 log 概率之和（不除以长度）。",
            lambda logits, ids, mask: _masked_sum(_token_log_probs(logits[:, :-1], ids[:, 1:]), mask[:, 1:])
            / mask[:, 1:].to(logits.dtype).sum(-1).clamp(min=1)),
    Mistake("sequence_log_probs", "mask_ignored", "没有用 loss_mask：提示词和补齐 token 也被算进去了。",
            lambda logits, ids, mask: _token_log_probs(logits[:, :-1], ids[:, 1:]).sum(-1)),
    Mistake("sequence_log_probs", "mask_not_shifted", "掩码没跟着错位：标签是 input_ids[:, 1:]，掩码也要用 loss_mask[:, 1:]。",
            lambda logits, ids, mask: _masked_sum(_token_log_probs(logits[:, :-1], ids[:, 1:]), mask[:, :-1])),
    Mistake("sequence_log_probs", "shift_reversed", "错位方向反了：应当用 logits[:, :-1] 给 input_ids[:, 1:] 打分。",
            lambda logits, ids, mask: _masked_sum(_token_log_probs(logits[:, 1:], ids[:, :-1]), mask[:, :-1])),
    Mistake("sequence_log_probs", "probs_not_log", "用了概率 softmax 而不是 log 概率：用 log_softmax。",
            lambda logits, ids, mask: _masked_sum(
                torch.gather(logits[:, :-1].softmax(-1), 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1), mask[:, 1:])),
    Mistake("sequence_log_probs", "raw_logits", "直接取了 logits：要先做 log_softmax 才是 log 概率。",
            lambda logits, ids, mask: _masked_sum(
                torch.gather(logits[:, :-1], 2, ids[:, 1:].unsqueeze(-1)).squeeze(-1), mask[:, 1:])),
]


def _collate(examples, pad_token_id, *, order="chosen_first", left=False, pad=None, loss="response", attention="real"):
    chosen = [(e["prompt_ids"], e["chosen_ids"]) for e in examples]
    rejected = [(e["prompt_ids"], e["rejected_ids"]) for e in examples]
    if order == "chosen_first":
        rows = chosen + rejected
    elif order == "rejected_first":
        rows = rejected + chosen
    else:
        rows = [r for pair in zip(chosen, rejected) for r in pair]
    pad = pad_token_id if pad is None else pad
    width = max(len(p) + len(r) for p, r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attention_mask = torch.zeros_like(ids)
    loss_mask = torch.zeros_like(ids)
    for i, (p, r) in enumerate(rows):
        n = len(p) + len(r)
        start = width - n if left else 0
        ids[i, start:start + n] = torch.tensor(list(p) + list(r))
        attention_mask[i, start:start + n] = 1
        if loss == "response":
            loss_mask[i, start + len(p):start + n] = 1
        elif loss == "with_prompt":
            loss_mask[i, start:start + n] = 1
        else:  # response and the padding after it
            loss_mask[i, start + len(p):] = 1
    if attention == "all":
        attention_mask[:] = 1
    return {"input_ids": ids, "attention_mask": attention_mask, "loss_mask": loss_mask}


COLLATE = [
    Mistake("collate_preference_batch", "prompt_in_loss_mask", "loss_mask 把提示词也标成了 1：只有回答 token 才算进损失。",
            lambda examples, pad_token_id: _collate(examples, pad_token_id, loss="with_prompt")),
    Mistake("collate_preference_batch", "padding_in_loss_mask", "loss_mask 把补齐位置也标成了 1：补齐处应为 0。",
            lambda examples, pad_token_id: _collate(examples, pad_token_id, loss="with_padding")),
    Mistake("collate_preference_batch", "left_padding", "补齐放在了左边：本练习要求右侧补齐（先真实 token，后 pad）。",
            lambda examples, pad_token_id: _collate(examples, pad_token_id, left=True)),
    Mistake("collate_preference_batch", "rejected_first", "顺序反了：前 B 行是 chosen，后 B 行是 rejected。",
            lambda examples, pad_token_id: _collate(examples, pad_token_id, order="rejected_first")),
    Mistake("collate_preference_batch", "interleaved", "不要交错排列：先放全部 B 条 chosen，再放全部 B 条 rejected。",
            lambda examples, pad_token_id: _collate(examples, pad_token_id, order="interleaved")),
    Mistake("collate_preference_batch", "pad_hardcoded_zero", "补齐时写死了 0：要用参数 pad_token_id。",
            lambda examples, pad_token_id: _collate(examples, pad_token_id, pad=0)),
    Mistake("collate_preference_batch", "attention_all_ones", "attention_mask 在补齐处应为 0，只在真实 token 处为 1。",
            lambda examples, pad_token_id: _collate(examples, pad_token_id, attention="all")),
]


def _metrics(pc, pr, rc, rr, beta, *, use_beta=True, use_ref=True, strict=True, margin_sign=1, count=False):
    with torch.no_grad():
        b = beta if use_beta else 1.0
        chosen = b * (pc - rc) if use_ref else b * pc
        rejected = b * (pr - rr) if use_ref else b * pr
        correct = (chosen > rejected) if strict else (chosen >= rejected)
        return {
            "rewards/chosen": chosen.mean().item(),
            "rewards/rejected": rejected.mean().item(),
            "rewards/margins": (margin_sign * (chosen - rejected)).mean().item(),
            "rewards/accuracies": correct.float().sum().item() if count else correct.float().mean().item(),
        }


METRICS = [
    Mistake("dpo_metrics", "beta_missing", "奖励要乘 β：r = β·(log π − log π_ref)。",
            lambda pc, pr, rc, rr, beta=0.1: _metrics(pc, pr, rc, rr, beta, use_beta=False)),
    Mistake("dpo_metrics", "reference_ignored", "奖励要减去参考模型：r = β·(log π − log π_ref)。",
            lambda pc, pr, rc, rr, beta=0.1: _metrics(pc, pr, rc, rr, beta, use_ref=False)),
    Mistake("dpo_metrics", "not_strict", "accuracies 要用严格大于 >：奖励相等的样本不算对（与 TRL 一致）。",
            lambda pc, pr, rc, rr, beta=0.1: _metrics(pc, pr, rc, rr, beta, strict=False)),
    Mistake("dpo_metrics", "margin_sign", "margins 是 chosen 奖励减 rejected 奖励，符号反了。",
            lambda pc, pr, rc, rr, beta=0.1: _metrics(pc, pr, rc, rr, beta, margin_sign=-1)),
    Mistake("dpo_metrics", "accuracy_count", "accuracies 是比例（取平均），不是答对的个数。",
            lambda pc, pr, rc, rr, beta=0.1: _metrics(pc, pr, rc, rr, beta, count=True)),
]

def _preference(pc, pr, rc, rr, beta=0.1, loss_type="sigmoid", eps=0.0, chosen_lengths=None, rejected_lengths=None, *,
                normalise=("ipo", "sigmoid_norm"), swap_lengths=False, ipo_target=0.5, robust_denominator=True,
                robust_sign=1, hinge_beta=True, reduce="mean"):
    """TODO 6 with one thing changed; every other loss type stays right, so only its own case names it."""
    chosen, rejected = pc - rc, pr - rr
    if loss_type in normalise:
        lc, lr = (rejected_lengths, chosen_lengths) if swap_lengths else (chosen_lengths, rejected_lengths)
        chosen, rejected = chosen / lc.clamp(min=1), rejected / lr.clamp(min=1)
    z = chosen - rejected
    if loss_type in ("sigmoid", "sigmoid_norm"):
        losses = -F.logsigmoid(beta * z)
    elif loss_type == "robust":
        losses = -(1 - eps) * F.logsigmoid(beta * z) + robust_sign * eps * F.logsigmoid(-beta * z)
        losses = losses / (1 - 2 * eps) if robust_denominator else losses
    elif loss_type == "hinge":
        losses = torch.relu(1 - (beta if hinge_beta else 1.0) * z)
    elif loss_type == "ipo":
        losses = (z - ipo_target / beta) ** 2
    else:
        raise ValueError(f"不认识的 loss_type：{loss_type!r}")
    return losses.sum() if reduce == "sum" else losses.mean()


def _variant(**change):
    return lambda pc, pr, rc, rr, beta=0.1, loss_type="sigmoid", eps=0.0, lc=None, lr=None: _preference(
        pc, pr, rc, rr, beta, loss_type, eps, lc, lr, **change)


PREFERENCE = [
    Mistake("preference_loss", "ipo_not_normalised",
            "IPO 要先把两条回答的 log ratio 各自除以它的 token 数（chosen_lengths、rejected_lengths），再相减。",
            _variant(normalise=("sigmoid_norm",))),
    Mistake("preference_loss", "ipo_target_one_over_beta", "IPO 的目标是 1/(2β)，不是 1/β：(z̄ − 1/(2β))²。",
            _variant(ipo_target=1.0)),
    Mistake("preference_loss", "robust_no_denominator", "robust 损失最后要除以 (1 − 2ε)：少了这个分母，它就不是无偏的。",
            _variant(robust_denominator=False)),
    Mistake("preference_loss", "robust_sign_flipped",
            "robust 里 ε 那一项的符号反了：是 +ε·log σ(−β·z)（写成 −ε·log σ(−β·z) 是 cDPO 的标签平滑，不是 robust）。",
            _variant(robust_sign=-1)),
    Mistake("preference_loss", "hinge_without_beta", "hinge 损失是 max(0, 1 − β·z)：别忘了乘 β。",
            _variant(hinge_beta=False)),
    Mistake("preference_loss", "lengths_swapped",
            "长度配反了：chosen 的 log ratio 除以 chosen_lengths，rejected 的除以 rejected_lengths。",
            _variant(swap_lengths=True)),
    Mistake("preference_loss", "sigmoid_norm_not_normalised",
            "sigmoid_norm 要按长度归一化：两条回答的 log ratio 先各自除以 token 数，再相减、乘 β。",
            _variant(normalise=("ipo",))),
    Mistake("preference_loss", "sum_not_mean", "对 batch 求了和：应该取平均（.mean()）。", _variant(reduce="sum")),
]


REWARD_MODEL = [
    Mistake("reward_model_loss", "sign_flipped", "符号反了：损失是 −log σ(r_chosen − r_rejected)，chosen 的分数在前。",
            lambda c, r, margin=None: -F.logsigmoid(r - c - (0 if margin is None else margin)).mean()),
    Mistake("reward_model_loss", "missing_minus", "少了最前面的负号：损失是 −log σ(…)，应当是正数。",
            lambda c, r, margin=None: F.logsigmoid(c - r - (0 if margin is None else margin)).mean()),
    Mistake("reward_model_loss", "margin_added", "margin 要减去：−log σ(r_chosen − r_rejected − margin)。",
            lambda c, r, margin=None: -F.logsigmoid(c - r + (0 if margin is None else margin)).mean()),
    Mistake("reward_model_loss", "margin_ignored", "给了 margin 时要从分数差里减去它：−log σ(r_chosen − r_rejected − margin)。",
            lambda c, r, margin=None: -F.logsigmoid(c - r).mean()),
    Mistake("reward_model_loss", "sum_not_mean", "对 batch 求了和：应该取平均（.mean()）。",
            lambda c, r, margin=None: -F.logsigmoid(c - r - (0 if margin is None else margin)).sum()),
]

MISTAKES = DPO_LOSS + SEQUENCE + COLLATE + METRICS + PREFERENCE + REWARD_MODEL
