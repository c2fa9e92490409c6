"""预训练：模型先读一遍这个世界的“网页”（data/pretrain.txt），学会所有话题的知识——也学会了里面的错误。

和真实的大模型一样，只做下一个词预测：把语料里的文档首尾相接成一条长长的 token 流，每一步随机截取
batch_size 段、每段 block 个 token。分布外的话题只出现在这里：之后 SFT 和 DPO 都没见过它们，
模型对它们的了解全部来自预训练。

预训练好的模型缓存在 <缓存目录>/pretrain/<键>/，键由语料、分词器、模型结构、种子和 PretrainConfig 决定。
"""

import dataclasses
import hashlib
import json

import torch
from tqdm.auto import tqdm

from .device import autocast
from .dpo import make_optimizer
from .sft import RECIPE, warmup_cosine


def cache_key(documents, tokenizer, model, seed, settings) -> str:
    """预训练缓存的键：语料、词表、模型结构、种子、PretrainConfig 任何一项变了，都会重新训练。"""
    parts = [RECIPE, hashlib.sha256("\n".join(documents).encode()).hexdigest(), json.dumps(tokenizer.get_vocab(), sort_keys=True),
             model.config.to_json_string(use_diff=False), str(seed), json.dumps(dataclasses.asdict(settings), sort_keys=True)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def encode(tokenizer, documents) -> list:
    """Each document as token ids: <bos> document <eos>."""
    return [ids + [tokenizer.eos_token_id] for ids in tokenizer(documents)["input_ids"]]


def token_stream(encoded) -> torch.Tensor:
    """All encoded documents as one 1-D stream of token ids, one after another."""
    return torch.tensor([token for ids in encoded for token in ids])


def train_pretrain(model, stream, device, seed, settings, progress=True):
    """在 token 流上做 settings.steps 步下一个词预测（AdamW，先预热再余弦衰减）。settings: PretrainConfig。"""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    # beta2 = 0.95: the usual choice for language-model pretraining at a high learning rate
    optimizer = make_optimizer(model.parameters(), settings.lr, betas=(0.9, 0.95))
    schedule = warmup_cosine(optimizer, settings.warmup, settings.steps)
    offsets = torch.arange(settings.block)
    model.train()
    bar = tqdm(range(settings.steps), desc="预训练", disable=not progress, leave=False)
    for _ in bar:
        starts = torch.randint(0, len(stream) - settings.block, (settings.batch_size, 1), generator=generator)
        ids = stream[starts + offsets].to(device)
        with autocast(device):
            loss = model(input_ids=ids, labels=ids).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    return model
