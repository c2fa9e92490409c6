"""预训练：模型先读一遍这个世界的“网页”（data/pretrain.txt），学会所有话题的知识——也学会了里面的错误。

和真实的大模型一样，只做下一个词预测：每一步取 batch_size 篇文档（长短相近的放在一批，补齐最少），
每个位置预测下一个 token。分布外的话题只出现在这里：之后 SFT 和 DPO 都没见过它们，模型对它们的了解
全部来自预训练。

预训练好的模型缓存在 <缓存目录>/pretrain/<键>/，键由语料、分词器、模型结构、种子和 PretrainConfig 决定。
"""

import dataclasses
import hashlib
import json

import random

import torch

from .sft import RECIPE, fit_rows


def cache_key(documents, tokenizer, model, seed, settings) -> str:
    """预训练缓存的键：语料、词表、模型结构、种子、PretrainConfig 任何一项变了，都会重新训练。"""
    parts = [RECIPE, hashlib.sha256("\n".join(documents).encode()).hexdigest(), json.dumps(tokenizer.get_vocab(), sort_keys=True),
             model.config.to_json_string(use_diff=False), str(seed), json.dumps(dataclasses.asdict(settings), sort_keys=True)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def encode(tokenizer, documents) -> list:
    """Each document as token ids: <bos> document <eos>."""
    return [ids + [tokenizer.eos_token_id] for ids in tokenizer(documents)["input_ids"]]


def train_pretrain(model, documents, pad_id, device, seed, settings, progress=True):
    """在语料上做 settings.steps 步下一个词预测。documents：encode() 的结果；settings: PretrainConfig。

    一篇文档一行（<bos> 之后的每个 token 都算损失），和 SFT 同一个训练循环；beta2 = 0.95 是大学习率预训练的常用值。
    """
    rng = random.Random(seed)
    torch.manual_seed(seed)
    rows = [(ids[:1], ids[1:]) for ids in documents]
    return fit_rows(model, rows, pad_id, device, rng, settings, "预训练", progress, betas=(0.9, 0.95))
