"""PPO 的四个零件（KL 惩罚、GAE、白化、裁剪）对照手算，以及一小段真实的 PPO 循环能跑通、数是有限的。"""

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
