"""评估：留出集上的隐式奖励指标、生成回答、规则裁判的好回答率，以及 KL(策略‖参考)。"""

import torch

from . import judge
from .device import autocast
from .dpo import sequence_logps


def preference_metrics(impl, policy, ref_model_logps, examples, pad_id, device, beta):
    """留出集上 TODO 4 的指标（与 TRL 同名）加上 logps/chosen、logps/rejected 和 loss。"""
    ref_chosen, ref_rejected = ref_model_logps
    chosen, rejected = sequence_logps(impl, policy, examples, pad_id, device)
    metrics = dict(impl.dpo_metrics(chosen, rejected, ref_chosen, ref_rejected, beta))
    metrics["loss"] = float(impl.dpo_loss(chosen, rejected, ref_chosen, ref_rejected, beta))
    metrics["logps/chosen"] = chosen.mean().item()
    metrics["logps/rejected"] = rejected.mean().item()
    return {k: float(v) for k, v in metrics.items()}


@torch.no_grad()
def generate(model, tokenizer, prompts, device, seed=0, max_new_tokens=64, greedy=False, temperature=1.0):
    """为每个提示词生成一条回答（默认按模型分布采样，种子固定）。返回 (回答文本列表, 回答 token 列表)。"""
    model.eval()
    encoded = [tokenizer(p)["input_ids"] for p in prompts]
    width = max(len(ids) for ids in encoded)
    # Left padding: every prompt ends at the same column, so new tokens line up.
    input_ids = torch.full((len(encoded), width), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros_like(input_ids)
    for i, ids in enumerate(encoded):
        input_ids[i, width - len(ids) :] = torch.tensor(ids)
        attention[i, width - len(ids) :] = 1
    torch.manual_seed(seed)
    with autocast(device):
        out = model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=not greedy,
            temperature=temperature,
            top_k=0,
            top_p=1.0,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    responses, token_lists = [], []
    for row in out[:, width:].tolist():
        if tokenizer.eos_token_id in row:
            row = row[: row.index(tokenizer.eos_token_id) + 1]  # keep eos: it is part of the answer's probability
        else:
            row = [t for t in row if t != tokenizer.pad_token_id]
        token_lists.append(row)
        responses.append(tokenizer.decode(row, skip_special_tokens=True))
    return responses, token_lists


def kl_estimate(impl, policy, reference, tokenizer, prompts, token_lists, device):
    """KL(π‖π_ref) 的蒙特卡洛估计：在策略自己的采样上，平均 Σ_t [log π − log π_ref]。"""
    examples = [
        {"prompt_ids": tokenizer(p)["input_ids"], "chosen_ids": ids, "rejected_ids": ids}
        for p, ids in zip(prompts, token_lists, strict=True)
        if ids
    ]
    if not examples:
        return 0.0
    pad = tokenizer.pad_token_id
    policy_logps, _ = sequence_logps(impl, policy, examples, pad, device)
    ref_logps, _ = sequence_logps(impl, reference, examples, pad, device)
    return (policy_logps - ref_logps).mean().item()


def judge_samples(prompts, responses):
    """规则裁判的好回答率（0–1）。"""
    return judge.preferred_rate(prompts, responses)
