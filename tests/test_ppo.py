"""PPO 的四个零件（KL 惩罚、GAE、白化、裁剪）对照手算；一小段真实的 PPO 循环让奖励分数一轮比一轮高。"""

import math

import pytest
import torch

from step5_rlhf.rlhf.ppo import PPOConfig, clipped_losses, gae, kl_penalised_rewards, whiten


def test_kl_penalty_on_every_token_and_the_score_on_the_last():
    logprobs = torch.tensor([[-1.0, -2.0, -0.5], [-1.0, -1.0, 0.0]])
    ref = torch.tensor([[-1.5, -1.0, -0.5], [-2.0, -1.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])  # the second answer has two tokens
    rewards, log_ratio = kl_penalised_rewards(torch.tensor([2.0, -1.0]), logprobs, ref, mask, kl_coef=0.1)
    assert torch.allclose(log_ratio, torch.tensor([[0.5, -1.0, 0.0], [1.0, 0.0, 0.0]]))
    # −0.1·log-ratio everywhere; the score lands on the last real token (index 2, then index 1).
    assert torch.allclose(rewards, torch.tensor([[-0.05, 0.1, 2.0], [-0.1, -1.0, 0.0]]))


def test_gae_matches_a_hand_computation():
    rewards = torch.tensor([[0.0, 0.0, 1.0]])
    values = torch.tensor([[0.5, 0.2, 0.4]])
    mask = torch.ones(1, 3)
    gamma, lam = 0.9, 0.8
    # δ_2 = 1 − 0.4 = 0.6;  δ_1 = 0 + 0.9·0.4 − 0.2 = 0.16;  δ_0 = 0 + 0.9·0.2 − 0.5 = −0.32
    a2 = 0.6
    a1 = 0.16 + gamma * lam * a2
    a0 = -0.32 + gamma * lam * a1
    advantages, returns = gae(rewards, values, mask, gamma, lam)
    assert torch.allclose(advantages, torch.tensor([[a0, a1, a2]]), atol=1e-6)
    assert torch.allclose(returns, advantages + values, atol=1e-6)


def test_gae_stops_at_the_end_of_a_shorter_answer():
    rewards = torch.tensor([[0.0, 1.0, 5.0]])  # the 5.0 sits on padding and must not leak back
    values = torch.tensor([[0.3, 0.1, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    advantages, _ = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert torch.allclose(advantages, torch.tensor([[0.0 + 0.1 - 0.3 + (1.0 - 0.1), 1.0 - 0.1, 0.0]]), atol=1e-6)


def test_whitening_uses_only_real_tokens():
    values = torch.tensor([[1.0, 2.0, 100.0], [3.0, 4.0, -100.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    white = whiten(values, mask)
    real = white[mask.bool()]
    assert real.mean().abs() < 1e-6 and (real.pow(2).mean() - 1).abs() < 1e-5
    assert torch.all(white[~mask.bool()] == 0)
    std = math.sqrt(1.25)  # of 1, 2, 3, 4 (population)
    assert torch.allclose(real, (torch.tensor([1.0, 2.0, 3.0, 4.0]) - 2.5) / std, atol=1e-5)


def test_clipping_caps_the_gain_of_a_large_ratio():
    config = PPOConfig(clip=0.2, value_clip=0.2)
    mask = torch.ones(1, 2)
    old = torch.zeros(1, 2)
    logprobs = torch.log(torch.tensor([[1.5, 0.5]]))  # ratios 1.5 and 0.5
    advantages = torch.tensor([[1.0, -1.0]])
    zeros = torch.zeros(1, 2)
    policy, value, clipfrac = clipped_losses(logprobs, old, zeros, zeros, advantages, zeros, mask, config)
    # Positive advantage: gain capped at ratio 1.2. Negative advantage: ratio 0.5 is clipped to 0.8,
    # and the max (pessimistic) term keeps −(−1)·0.8 = 0.8.
    assert policy.item() == pytest.approx((-1.2 + 0.8) / 2, abs=1e-6)
    assert clipfrac.item() == 1.0 and value.item() == 0.0

    # Value loss: the new value moved 1.0 away from the old one; the clipped value moves only 0.2.
    values, returns = torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 0.0]])
    _, value, _ = clipped_losses(old, old, values, zeros, zeros, returns, mask, config)
    assert value.item() == pytest.approx(0.5 * ((0.2 - 1.0) ** 2) / 2, abs=1e-6)  # max(0, 0.64)·0.5, mean of 2


class VowelShare(torch.nn.Module):
    """A stand-in reward model with a known answer: the share of an answer's characters that are vowels."""

    def __init__(self, tokenizer):
        super().__init__()
        self.tokenizer = tokenizer

    def forward(self, input_ids, attention_mask):
        from types import SimpleNamespace

        scores = []
        for text in self.tokenizer.batch_decode(input_ids, skip_special_tokens=True):
            answer = text.split("?")[-1]
            scores.append(sum(c in "aeiou" for c in answer) / max(len(answer), 1))
        return SimpleNamespace(logits=torch.tensor(scores)[:, None])


def test_ppo_raises_the_reward_model_score_over_iterations():
    """The whole loop on a tiny random model: rollouts, scores, GAE, clipped updates. With a reward that wants
    vowels, the mean score of the last iterations' rollouts is well above the first ones', the KL stays finite."""
    from step5_rlhf.rlhf.ppo import train_ppo
    from step5_rlhf.training.model import build_model, build_tokenizer

    torch.manual_seed(0)
    tokenizer = build_tokenizer(["abcdefghijklmnopqrstuvwxyz?"])
    policy = build_model(tokenizer, seed=0)
    reference = build_model(tokenizer, seed=0).requires_grad_(False)
    config = PPOConfig(iterations=8, rollout_prompts=24, minibatch=12, lr=3e-3, kl_coef=0.01, max_new_tokens=6,
                       missing_eos_penalty=None, value_model="shared")
    prompts = [a + b + "?" for a in "bcdfg" for b in "hjklm"]
    history = train_ppo(policy, reference, VowelShare(tokenizer), tokenizer, prompts, torch.device("cpu"), config)
    first = sum(h["reward_model_score"] for h in history[:3]) / 3
    last = sum(h["reward_model_score"] for h in history[-3:]) / 3
    assert last > first + 0.08, [round(h["reward_model_score"], 3) for h in history]
    assert all(math.isfinite(h["kl"]) for h in history)


def test_value_model_starts_as_the_reward_model():
    """InstructGPT's value model: the reward model's transformer and head, read at every position. Before any update
    its value at an answer's last token is the reward model's score of that answer; training it leaves the RM alone."""
    from step5_rlhf.rlhf.ppo import ValueModel
    from step5_rlhf.rlhf.reward_model import build_reward_model, score_texts
    from step5_rlhf.training.model import build_model, build_tokenizer

    tokenizer = build_tokenizer(["abcdefghijklmnopqrstuvwxyz?"])
    reward_model = build_reward_model(build_model(tokenizer, seed=0), seed=1).requires_grad_(False)
    value = ValueModel(reward_model)
    prompts, answers = ["ab?", "cde?"], ["xyz", "q"]
    expected = score_texts(reward_model, tokenizer, prompts, answers, torch.device("cpu"))
    encoded = tokenizer([p + a + tokenizer.eos_token for p, a in zip(prompts, answers)], padding=True,
                        return_tensors="pt")
    positions = (encoded["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    values = value(encoded["input_ids"], encoded["attention_mask"], positions)
    last = encoded["attention_mask"].sum(-1) - 1  # right padding: the last real token
    assert torch.allclose(values[torch.arange(2), last], expected, atol=1e-5)
    values.sum().backward()
    assert all(p.grad is not None for p in value.parameters())
    assert all(p.grad is None for p in reward_model.parameters())


def test_leave_one_out_compares_answers_to_the_same_prompt():
    """RLOO's baseline inside PPO: each score minus the mean of its group's other scores (one group per prompt)."""
    from step5_rlhf.rlhf.ppo import leave_one_out

    scores = torch.tensor([1.0, 2.0, 3.0, 10.0, 20.0, 30.0])
    assert torch.allclose(leave_one_out(scores, 3), torch.tensor([-1.5, 0.0, 1.5, -15.0, 0.0, 15.0]))
    # a prompt whose answers all score high gets no credit for being easy
    assert torch.allclose(leave_one_out(torch.tensor([5.0, 5.0, -1.0, -1.0]), 2), torch.zeros(4))
    with pytest.raises(ValueError, match="至少 2 个回答"):
        leave_one_out(scores, 1)
