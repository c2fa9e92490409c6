"""A causal LM small enough to train inside a check: same call shape as a transformers model."""

from types import SimpleNamespace

import torch
from torch import nn


class TinyCausalLM(nn.Module):
    """logits[t] depends on tokens 0..t only (a running mean of embeddings), like any causal LM."""

    def __init__(self, vocab: int, dim: int, seed: int):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.embed = nn.Parameter(torch.randn(vocab, dim, generator=generator) * 0.5)
        self.mix = nn.Parameter(torch.randn(dim, dim, generator=generator) * 0.3)
        self.head = nn.Parameter(torch.randn(dim, vocab, generator=generator) * 0.5)
        self.forward_calls = 0  # the step check asserts one forward per step

    def forward(self, input_ids, attention_mask=None, **_):
        self.forward_calls += 1
        hidden = self.embed[input_ids]
        if attention_mask is not None:
            hidden = hidden * attention_mask.unsqueeze(-1).to(hidden.dtype)
        steps = torch.arange(1, input_ids.shape[1] + 1, dtype=hidden.dtype).view(1, -1, 1)
        context = hidden.cumsum(dim=1) / steps
        logits = torch.tanh(context @ self.mix + hidden) @ self.head
        return SimpleNamespace(logits=logits)
