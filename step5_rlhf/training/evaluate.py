"""评估：留出集上的隐式奖励指标、模型自己作答再由裁判打分、捷径基线，以及 KL(策略‖参考)。

指标名与 TRL 一致（rewards/accuracies、rewards/margins……），每个留出集各一套：eval.* 是训练集里的话题和请求、
没用过的问法（回答的字符串也都不在训练集里），ood.* 是只在预训练语料里出现过的话题和请求。
"""

from collections import defaultdict

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from . import data_stats, judge
from .device import autocast
from .dpo import sequence_logps


def preference_metrics(impl, policy, ref_logps, examples, pad_id, device, beta, loss_type="sigmoid",
                       label_smoothing=0.0):
    """TODO 4 的指标（与 TRL 同名）加上 loss、logps/chosen、logps/rejected，以及两个模型的原始偏好：

    logps/prefers_chosen_reference、logps/prefers_chosen_policy：模型给 chosen 的序列 log 概率
    高于 rejected 的比例（训练前后的同一个指标，不含参考模型的校正）。
    """
    ref_chosen, ref_rejected = ref_logps
    chosen, rejected = sequence_logps(impl, policy, examples, pad_id, device)
    metrics = dict(impl.dpo_metrics(chosen, rejected, ref_chosen, ref_rejected, beta))
    if loss_type == "sigmoid":
        metrics["loss"] = float(impl.dpo_loss(chosen, rejected, ref_chosen, ref_rejected, beta))
    else:  # the loss that was trained (optional TODO 6), with each answer's token count
        metrics["loss"] = float(impl.preference_loss(chosen, rejected, ref_chosen, ref_rejected, beta, loss_type,
                                                     label_smoothing, *answer_lengths(examples, chosen.device)))
    metrics["logps/chosen"] = chosen.mean().item()
    metrics["logps/rejected"] = rejected.mean().item()
    metrics["logps/prefers_chosen_reference"] = (ref_chosen > ref_rejected).float().mean().item()
    metrics["logps/prefers_chosen_policy"] = (chosen > rejected).float().mean().item()
    return {k: float(v) for k, v in metrics.items()}


def left_padded(tokenizer, prompts):
    """Prompts as [N, width] ids and attention mask, padded on the left (how generation and PPO see them)."""
    encoded = [tokenizer(p)["input_ids"] for p in prompts]
    width = max(len(ids) for ids in encoded)
    # Left padding: every prompt ends at the same column, so new tokens line up.
    input_ids = torch.full((len(encoded), width), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros_like(input_ids)
    for i, ids in enumerate(encoded):
        input_ids[i, width - len(ids):] = torch.tensor(ids)
        attention[i, width - len(ids):] = 1
    return input_ids, attention


class Sampler(LogitsProcessor):
    """Sampling from softmax(logits / T) by the inverse CDF (cumulative sum + binary search).

    Plugged into `generate` as a logits processor that leaves only the sampled token, so greedy
    decoding keeps it. Same distribution as `do_sample=True`, but torch.multinomial, which that
    uses, spends ~40 ms per step on a 960 × 2000 batch on CPU; this takes ~1 ms.
    `temperature` is one number or one per row ([N, 1]); a row whose temperature is 0 takes the argmax.
    """

    def __init__(self, temperature, seed: int):
        self.temperature = torch.as_tensor(temperature, dtype=torch.float32).reshape(-1, 1)
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, input_ids, scores):
        greedy = (self.temperature == 0).to(scores.device)
        cumulative = torch.softmax(scores.float() / self.temperature.clamp(min=1e-6).to(scores.device), dim=-1)
        cumulative = cumulative.cumsum(-1).cpu()
        u = torch.rand(cumulative.shape[0], 1, generator=self.generator) * cumulative[:, -1:]
        picked = torch.searchsorted(cumulative, u).clamp(max=cumulative.shape[-1] - 1).to(scores.device)
        picked = torch.where(greedy, scores.argmax(-1, keepdim=True), picked)
        return torch.full_like(scores, float("-inf")).scatter_(1, picked, 0.0)


@torch.no_grad()
def generate(model, tokenizer, prompts, device, seed=0, max_new_tokens=64, greedy=False, temperature=1.0, samples=1,
             temperatures=None):
    """让模型为每个提示词作答 samples 次（默认按模型分布采样，种子固定）。

    temperatures：每个提示词的几个回答各用的温度（0 表示贪心），给出时代替 greedy / temperature / samples。
    返回 (回答文本列表, 回答 token 列表)，顺序是提示词 0 的几个回答、提示词 1 的……
    """
    if temperatures is None:
        temperatures = [0.0] if greedy else [temperature] * samples
    model.eval()
    input_ids, attention = left_padded(tokenizer, prompts)
    copies = len(temperatures)
    input_ids, attention = input_ids.repeat_interleave(copies, 0), attention.repeat_interleave(copies, 0)
    width = input_ids.shape[1]
    processors = LogitsProcessorList([] if not any(temperatures) else [Sampler(temperatures * len(prompts), seed)])
    with autocast(device):
        out = model.generate(
            input_ids=input_ids.to(device), attention_mask=attention.to(device), max_new_tokens=max_new_tokens,
            do_sample=False, logits_processor=processors, cache_implementation="static",
            pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
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


def answers(model, tokenizer, prompts, device, seed, settings):
    """每个提示词的回答：一个贪心解码的，再加 settings.samples 个温度 settings.temperature 的采样（一次生成）。"""
    copies = 1 + settings.samples
    texts, _ = generate(model, tokenizer, prompts, device, seed, settings.max_new_tokens,
                        temperatures=[0.0] + [settings.temperature] * settings.samples)
    return [texts[i * copies:(i + 1) * copies] for i in range(len(prompts))]


def judged(prompts, answer_lists) -> list:
    """每个提示词的好回答率（它的几个回答里被裁判判为好的比例）。"""
    return [sum(judge.judge(p, a) for a in group) / len(group) for p, group in zip(prompts, answer_lists, strict=True)]


def bootstrap_delta_ci(reference, policy, resamples=2000, seed=0) -> list:
    """策略减参考的好回答率之差的 95% 区间：对提示词有放回地重抽（成对），取 2.5% 与 97.5% 分位数。"""
    deltas = torch.tensor([p - r for r, p in zip(reference, policy, strict=True)], dtype=torch.float64)
    picks = torch.randint(len(deltas), (resamples, len(deltas)), generator=torch.Generator().manual_seed(seed))
    means = deltas[picks].mean(1).sort().values.tolist()
    return [means[int(0.025 * (resamples - 1))], means[int(0.975 * (resamples - 1))]]


def distinct_2(texts) -> float:
    """不同的字二元组占全部二元组的比例（越低越单调、越重复）。"""
    grams = [t[i:i + 2] for t in texts for i in range(len(t) - 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def generation_metrics(prompts, dimensions, reference_answers, policy_answers, settings, seed=0) -> dict:
    """裁判对参考模型和策略模型回答的评价：总的与分维度的好回答率、变化的 95% 区间、长度和 distinct-2。"""
    ref_rates, pol_rates = judged(prompts, reference_answers), judged(prompts, policy_answers)
    metrics = {
        "judge_rate_reference": sum(ref_rates) / len(ref_rates),
        "judge_rate_policy": sum(pol_rates) / len(pol_rates),
        "judge_rate_delta_ci95": bootstrap_delta_ci(ref_rates, pol_rates, settings.bootstrap, seed),
    }
    by_dimension = defaultdict(list)
    for dimension, r, p in zip(dimensions, ref_rates, pol_rates, strict=True):
        by_dimension[dimension].append((r, p))
    for dimension, rates in sorted(by_dimension.items()):
        reference, policy = [r for r, _ in rates], [p for _, p in rates]
        metrics[f"judge_rate_reference/{dimension}"] = sum(reference) / len(rates)
        metrics[f"judge_rate_policy/{dimension}"] = sum(policy) / len(rates)
        metrics[f"judge_rate_delta_ci95/{dimension}"] = bootstrap_delta_ci(reference, policy, settings.bootstrap, seed)
    for who, groups in (("reference", reference_answers), ("policy", policy_answers)):
        texts = [a for group in groups for a in group]
        metrics[f"answer_length_{who}"] = sum(map(len, texts)) / len(texts)
        metrics[f"distinct_2_{who}"] = distinct_2(texts)
    return metrics


def shortcut_baselines(train_rows, rows) -> dict:
    """两条“捷径”在这些偏好对上的准确率：总选更长的回答；按回答的第一个字判断（规则从训练集学来）。"""
    return {"baseline/longer_wins": data_stats.longer_chosen_rate(rows),
            "baseline/first_char": data_stats.first_char_rule_accuracy(train_rows, rows)}


def sampled_kl(impl, policy, reference, tokenizer, prompts, device, seed, max_new_tokens, samples=1) -> tuple:
    """KL(π‖π_ref) and its standard error on `samples` fresh temperature-1 answers of π per prompt."""
    _, tokens = generate(policy, tokenizer, prompts, device, seed, max_new_tokens, temperature=1.0, samples=samples)
    repeated = [p for p in prompts for _ in range(samples)]
    return kl_estimate(impl, policy, reference, tokenizer, repeated, tokens, device)


def answer_lengths(examples, device) -> list:
    """[chosen token counts, rejected token counts] of tokenised pairs: the lengths TODO 6 normalises by."""
    return [torch.tensor([len(e[key]) for e in examples], device=device) for key in ("chosen_ids", "rejected_ids")]


def answer_logps(impl, model, tokenizer, prompts, token_lists, device):
    """The model's sequence log-probability of each answer (token lists, eos included) to its prompt: a [N] tensor."""
    examples = [{"prompt_ids": tokenizer(p)["input_ids"], "chosen_ids": ids, "rejected_ids": ids}
                for p, ids in zip(prompts, token_lists, strict=True)]
    logps, _ = sequence_logps(impl, model, examples, tokenizer.pad_token_id, device)
    return logps


def mean_and_se(values) -> tuple:
    """A 1-D tensor's mean and the standard error of that mean (0 for a single value)."""
    se = values.std().item() / len(values) ** 0.5 if len(values) > 1 else 0.0
    return values.mean().item(), se


def kl_estimate(impl, policy, reference, tokenizer, prompts, token_lists, device) -> tuple:
    """KL(π‖π_ref) 的蒙特卡洛估计与标准误：在策略自己的采样上，Σ_t [log π − log π_ref] 的平均。"""
    kept = [(p, ids) for p, ids in zip(prompts, token_lists, strict=True) if ids]
    if not kept:
        return 0.0, 0.0
    prompts, token_lists = [p for p, _ in kept], [ids for _, ids in kept]
    ratios = (answer_logps(impl, policy, tokenizer, prompts, token_lists, device)
              - answer_logps(impl, reference, tokenizer, prompts, token_lists, device))
    return mean_and_se(ratios)
