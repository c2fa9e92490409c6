"""PPO，按 InstructGPT 的做法（传统 RLHF 的第 3 步），一个文件读完。

每一轮：
1. rollout：策略模型给一批训练提示词写回答（温度 1 采样；每个提示词可以写几个，`samples_per_prompt`）；
2. 打分：奖励模型给整条回答一个分数（可以先减去同一提示词其他回答的平均分，`group_baseline`，RLOO 的基线），
   在这批回答里白化（均值 0、标准差 1，`whiten_rewards`），没写完（没有 <eos>）的再扣 `missing_eos_penalty`；
   分数加在最后一个 token 上，每个回答 token 还有一项 KL 惩罚 −β_KL·(log π − log π_ref)
   （所以“偏离参考模型”在每一步都要付出代价）；β_KL 可以固定，也可以按 `kl_target` 自动调（Ziegler et al., 2019）；
3. 价值函数估计每个位置之后还能拿到多少奖励：默认是策略模型身上的一个新头（和策略共用一个 Transformer），
   也可以是一个从奖励模型出发的独立价值模型（`value_model`，InstructGPT 的做法，多一个模型）；
   GAE 把奖励和价值变成每个 token 的优势（advantage），再白化（`whiten_advantages`）；
4. 在这批 rollout 上训练几轮（epochs）：裁剪的策略损失（ratio 限制在 1 ± ε）+ 裁剪的价值损失；前 `value_warmup` 轮只训练价值函数。

每个开关都是 PPOConfig 里一个有名字的设置，它们各自的作用在 benchmarks/bench_compare.py 里量。
和 DPO 比一比：这里内存里同时有策略模型（带价值头）、参考模型和奖励模型（独立价值模型时再多一个），每一轮都要生成文本。
"""

import copy
import math
import random
import time
from dataclasses import dataclass

import torch

from ..training.dpo import make_optimizer
from ..training.evaluate import generate, left_padded
from .reward_model import score_texts


@dataclass(frozen=True)
class PPOConfig:
    """PPO 的全部设置（名字与常见实现一致）。"""

    kl_coef: float = 0.2  # β_KL: the price of each nat of log-ratio to the reference, per token
    kl_target: float = None  # adaptive β_KL (Ziegler et al., 2019): steer the rollouts' KL to this many nats (None: fixed)
    whiten_rewards: bool = True  # scale the reward model's scores to mean 0, std 1 within each rollout batch
    group_baseline: bool = False  # subtract the mean score of the other answers to the same prompt (RLOO's baseline)
    whiten_advantages: bool = True  # scale GAE's advantages to mean 0, std 1 within each rollout batch
    value_model: str = "shared"  # "shared": a head on the policy; "reward_model": a separate model started from the RM
    value_warmup: int = 0  # first iterations that train only the value function (the policy waits for useful advantages)
    samples_per_prompt: int = 1  # answers per prompt in a rollout batch (rollout_prompts answers in all)
    iterations: int = 40  # rollout batches
    rollout_prompts: int = 32  # answers generated per iteration
    epochs: int = 2  # PPO passes over each rollout batch
    minibatch: int = 16
    lr: float = 2e-4
    clip: float = 0.2  # ε of the clipped ratio
    value_clip: float = 0.2
    vf_coef: float = 0.5
    gamma: float = 1.0
    lam: float = 0.95
    temperature: float = 1.0
    max_new_tokens: int = 48
    max_grad_norm: float = 1.0
    missing_eos_penalty: float = 1.0  # subtracted from the score of an answer cut off before <eos> (None: off)
    seed: int = 0


class PolicyWithValue(torch.nn.Module):
    """The policy language model plus its value function: a zero-initialised head on the policy's own last hidden
    states ("shared"), or a separate model started from the reward model (`ValueModel`, InstructGPT's choice)."""

    def __init__(self, lm, value_model=None):
        super().__init__()
        self.lm, self.value_model = lm, value_model
        if value_model is None:
            self.value = torch.nn.Linear(lm.config.hidden_size, 1)
            torch.nn.init.zeros_(self.value.weight)
            torch.nn.init.zeros_(self.value.bias)

    def forward(self, input_ids, attention_mask, position_ids):
        shared = self.value_model is None
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                      output_hidden_states=shared)
        if shared:
            return out.logits.float(), self.value(out.hidden_states[-1]).squeeze(-1).float()
        return out.logits.float(), self.value_model(input_ids, attention_mask, position_ids)


class ValueModel(torch.nn.Module):
    """A value model initialised from the reward model: its transformer and score head (copied, trainable), read at
    every position. It starts out knowing which answers score well, so the first advantages already mean something."""

    def __init__(self, reward_model):
        super().__init__()
        self.body = copy.deepcopy(reward_model.base_model).requires_grad_(True)
        self.head = copy.deepcopy(reward_model.score).requires_grad_(True)

    def forward(self, input_ids, attention_mask, position_ids):
        hidden = self.body(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids).last_hidden_state
        return self.head(hidden).squeeze(-1).float()


# ---- the four pieces the unit tests pin down -------------------------------------------------------

def kl_penalised_rewards(scores, logprobs, ref_logprobs, mask, kl_coef):
    """Per-token rewards [B, L]: −kl_coef·(log π − log π_ref) on every response token, plus the
    reward model's score on the last one. Returns (rewards, per-token log-ratio)."""
    log_ratio = (logprobs - ref_logprobs) * mask
    rewards = -kl_coef * log_ratio
    last = (mask.sum(-1).long() - 1).clamp(min=0)
    rewards[torch.arange(len(scores)), last] += scores
    return rewards, log_ratio


def leave_one_out(scores, group):
    """Each score minus the mean of the other `group` − 1 scores of its group (consecutive rows share a prompt)."""
    if group < 2:
        raise ValueError(f"group_baseline 需要每个提示词至少 2 个回答（samples_per_prompt = {group}）")
    grouped = scores.view(-1, group)
    return (grouped - (grouped.sum(-1, keepdim=True) - grouped) / (group - 1)).view(-1)


def gae(rewards, values, mask, gamma=1.0, lam=0.95):
    """Generalised advantage estimation over the response tokens (mask: 1 for real tokens, then 0s).

    δ_t = r_t + γ·V_{t+1} − V_t (V after the last token is 0); A_t = δ_t + γλ·A_{t+1}. Returns (A, A + V).
    """
    length = rewards.shape[1]
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(length)):
        alive = mask[:, t + 1] if t + 1 < length else torch.zeros_like(running)
        next_value = values[:, t + 1] * alive if t + 1 < length else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running * alive
        advantages[:, t] = running
    advantages = advantages * mask
    return advantages, (advantages + values) * mask


def whiten(values, mask, eps=1e-8):
    """Zero mean, unit variance over the masked entries (the others stay 0)."""
    count = mask.sum()
    mean = (values * mask).sum() / count
    var = (((values - mean) * mask) ** 2).sum() / count
    return (values - mean) * torch.rsqrt(var + eps) * mask


def clipped_losses(logprobs, old_logprobs, values, old_values, advantages, returns, mask, config):
    """(policy loss, value loss, fraction of tokens whose ratio was clipped), token means over the mask."""
    count = mask.sum()
    ratio = torch.exp(logprobs - old_logprobs)
    policy = torch.max(-advantages * ratio, -advantages * ratio.clamp(1 - config.clip, 1 + config.clip))
    clipped_values = old_values + (values - old_values).clamp(-config.value_clip, config.value_clip)
    value = 0.5 * torch.max((values - returns) ** 2, (clipped_values - returns) ** 2)
    clipfrac = (((ratio - 1).abs() > config.clip).float() * mask).sum() / count
    return (policy * mask).sum() / count, (value * mask).sum() / count, clipfrac


# ---- rollouts and the loop ------------------------------------------------------------------------

def _rollout_batch(tokenizer, prompts, token_lists, device):
    """Left-padded prompts followed by right-padded responses: ids, attention, positions, response mask."""
    prompt_ids, prompt_attention = left_padded(tokenizer, prompts)  # exactly as generate() saw them
    width, length = prompt_ids.shape[1], max(1, max(map(len, token_lists)))
    responses = torch.full((len(prompts), length), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), length))
    for i, response in enumerate(token_lists):
        responses[i, :len(response)] = torch.tensor(response, dtype=torch.long)
        mask[i, :len(response)] = 1
    ids = torch.cat([prompt_ids, responses], dim=1)
    attention = torch.cat([prompt_attention, mask.long()], dim=1)
    positions = (attention.cumsum(-1) - 1).clamp(min=0)  # as generate() numbered them
    return ids.to(device), attention.to(device), positions.to(device), mask.to(device), width


def _response_logprobs(logits, ids, width):
    """log π of each response token: the logits one position earlier, gathered at the token."""
    return torch.log_softmax(logits[:, width - 1:-1], dim=-1).gather(-1, ids[:, width:, None]).squeeze(-1)


def train_ppo(policy_lm, reference, reward_model, tokenizer, prompts, device, config: PPOConfig = PPOConfig(),
              progress=False, log=None):
    """用 PPO 训练 policy_lm（原地更新），返回每轮记录：奖励模型分数、KL、损失、裁剪比例。"""
    from tqdm.auto import tqdm

    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    value_model = ValueModel(reward_model) if config.value_model == "reward_model" else None
    model = PolicyWithValue(policy_lm, value_model).to(device)
    kl_coef = config.kl_coef
    optimizer = make_optimizer(model.parameters(), config.lr)
    reference.eval()
    history = []
    for iteration in tqdm(range(config.iterations), desc="PPO", disable=not progress, leave=False):
        started = time.perf_counter()
        distinct = rng.sample(prompts, min(config.rollout_prompts // config.samples_per_prompt, len(prompts)))
        batch_prompts = [prompt for prompt in distinct for _ in range(config.samples_per_prompt)]
        model.eval()
        responses, tokens = generate(policy_lm, tokenizer, batch_prompts, device, seed=config.seed * 100_003 + iteration,
                                     max_new_tokens=config.max_new_tokens, temperature=config.temperature)
        ids, attention, positions, mask, width = _rollout_batch(tokenizer, batch_prompts, tokens, device)
        with torch.no_grad():
            logits, values = model(ids, attention, positions)
            old_logprobs = _response_logprobs(logits, ids, width)
            old_values = values[:, width - 1:-1] * mask
            ref_logits = reference(input_ids=ids, attention_mask=attention, position_ids=positions).logits.float()
            ref_logprobs = _response_logprobs(ref_logits, ids, width)
            raw_scores = score_texts(reward_model, tokenizer, batch_prompts, responses, device).to(device)
            scores = raw_scores
            if config.group_baseline:  # compare answers to the same prompt, not prompts with each other
                scores = leave_one_out(scores, config.samples_per_prompt)
            if config.whiten_rewards:
                scores = (scores - scores.mean()) / (scores.std() + 1e-6)
            if config.missing_eos_penalty is not None:  # an unfinished answer must not win on the reward model
                unfinished = torch.tensor([not t or t[-1] != tokenizer.eos_token_id for t in tokens], device=device)
                scores = scores - config.missing_eos_penalty * unfinished.float()
            rewards, log_ratio = kl_penalised_rewards(scores, old_logprobs, ref_logprobs, mask, kl_coef)
            advantages, returns = gae(rewards, old_values, mask, config.gamma, config.lam)
            if config.whiten_advantages:
                advantages = whiten(advantages, mask)
        model.train()
        stats = []
        for _ in range(config.epochs):
            order = torch.randperm(len(batch_prompts), generator=torch.Generator().manual_seed(rng.randrange(2**31)))
            for start in range(0, len(order), config.minibatch):
                pick = order[start:start + config.minibatch].to(device)
                logits, values = model(ids[pick], attention[pick], positions[pick])
                logprobs = _response_logprobs(logits, ids[pick], width)
                policy_loss, value_loss, clipfrac = clipped_losses(
                    logprobs, old_logprobs[pick], values[:, width - 1:-1], old_values[pick], advantages[pick],
                    returns[pick], mask[pick], config)
                warming = iteration < config.value_warmup  # only the value head learns at first
                loss = config.vf_coef * value_loss + (0.0 if warming else policy_loss)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimizer.step()
                stats.append((policy_loss.item(), value_loss.item(), clipfrac.item()))
        kl = log_ratio.sum(-1).mean().item()
        record = {
            "iteration": iteration, "reward_model_score": raw_scores.mean().item(), "kl_coef": kl_coef,
            "kl": kl, "response_length": mask.sum(-1).mean().item(),
            "policy_loss": sum(s[0] for s in stats) / len(stats), "value_loss": sum(s[1] for s in stats) / len(stats),
            "clipfrac": sum(s[2] for s in stats) / len(stats), "seconds": time.perf_counter() - started,
        }
        if not all(math.isfinite(v) for v in record.values()):
            raise RuntimeError(f"PPO 第 {iteration} 轮出现 NaN/inf：{record}")
        history.append(record)
        if config.kl_target:  # proportional control, clipped: raise β_KL when the KL is above target
            kl_coef *= 1 + max(-0.2, min(0.2, kl / config.kl_target - 1))
        if log and (iteration + 1) % 10 == 0:
            log(f"PPO 第 {iteration + 1} 轮：奖励模型分数 {record['reward_model_score']:.3f}，KL {record['kl']:.2f}")
    policy_lm.eval()
    return history
