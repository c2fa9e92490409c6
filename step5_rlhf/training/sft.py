"""SFT 热启动：让参考模型先学会“两种风格都会答”（好回答和差回答各占一半）。

DPO 需要一个参考模型 π_ref。这里先在“提示词 + 回答”上做几百步监督微调，
chosen 和 rejected 都当作正确答案学，于是参考模型对每个问题大约一半时候答得好、一半时候答得差——
DPO 要做的，就是把概率从差的那一半挪到好的那一半。

训练好的 SFT 模型缓存在 <缓存目录>/sft/<键>/，键由数据、模型结构、初始权重、种子和 SFT 设置决定，
第二次运行直接读取，省下这段时间。缓存放在用户目录（~/.cache/step5_rlhf/sft，可用 STEP5_RLHF_CACHE 改）。
"""

import dataclasses
import hashlib
import json
import math
import os
import random
import shutil
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .. import paths
from .device import autocast

def cache_key(data_fingerprint, model, base, seed, settings) -> str:
    """SFT 缓存的键：任何一项变了（数据、模型结构、初始权重、种子、SFTConfig），都会重新训练。"""
    parts = [data_fingerprint, model.config.to_json_string(use_diff=False), str(base), str(seed),
             json.dumps(dataclasses.asdict(settings), sort_keys=True)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _sequences(examples):
    # Both qualities: the reference should answer in either style.
    return [(ex["prompt_ids"], ex[key]) for ex in examples for key in ("chosen_ids", "rejected_ids")]


def _batch(rows, pad_id, device):
    """Right-padded input ids, attention mask, and labels that score the response only (-100 elsewhere)."""
    from torch.nn.utils.rnn import pad_sequence

    sequences = [torch.tensor(prompt + response) for prompt, response in rows]
    ids = pad_sequence(sequences, batch_first=True, padding_value=pad_id)
    positions = torch.arange(ids.shape[1]).unsqueeze(0)
    lengths = torch.tensor([len(s) for s in sequences]).unsqueeze(1)
    prompt_lengths = torch.tensor([len(prompt) for prompt, _ in rows]).unsqueeze(1)
    attention = (positions < lengths).long()
    labels = ids.masked_fill((positions < prompt_lengths) | (attention == 0), -100)
    return ids.to(device), attention.to(device), labels.to(device)


def response_loss(model, ids, attention, labels):
    """Next-token cross-entropy on the response tokens (labels ≠ -100), as the model's own `labels=` loss.

    The output layer, which dominates the cost of a model this small (1,584-character vocabulary),
    runs only on the positions that are scored, not on the prompt and padding (about 30% less work).
    """
    decoder, head = model.get_decoder(), model.get_output_embeddings()
    hidden = decoder(input_ids=ids, attention_mask=attention).last_hidden_state
    targets = labels[:, 1:]
    scored = targets != -100
    return torch.nn.functional.cross_entropy(head(hidden[:, :-1][scored]).float(), targets[scored])


def length_grouped_batches(lengths, batch_size, steps, rng, group=16):
    """Batches of similar-length rows (less padding, about twice as fast here), in random order.

    Each epoch: shuffle, cut into groups of `group` batches, sort each group by length, cut it into
    batches, shuffle the batches (what Hugging Face calls group_by_length).
    """
    batches = []
    while len(batches) < steps:
        order = list(range(len(lengths)))
        rng.shuffle(order)
        epoch = []
        for start in range(0, len(order), group * batch_size):
            chunk = sorted(order[start:start + group * batch_size], key=lambda i: lengths[i])
            epoch += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size) if len(chunk[i:i + batch_size]) == batch_size]
        rng.shuffle(epoch)
        batches += epoch
    return batches[:steps]


def warmup_cosine(optimizer, warmup, steps):
    """Linear warm-up over `warmup` steps, then a cosine decay to 0 at `steps` (SFT and the reward model)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))


def train_sft(model, examples, pad_id, device, seed, settings, progress=True):
    """在 chosen 和 rejected 两种回答上做监督微调（只对回答部分算损失）。settings: SFTConfig。"""
    rows = _sequences(examples)
    rng = random.Random(seed)
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.0)
    steps, warmup = settings.steps, settings.warmup
    schedule = warmup_cosine(optimizer, warmup, steps)
    model.train()
    batches = length_grouped_batches([len(p) + len(r) for p, r in rows], settings.batch_size, steps, rng)
    bar = tqdm(batches, desc="SFT 热启动", disable=not progress, leave=False)
    for index in bar:
        ids, attention, labels = _batch([rows[i] for i in index], pad_id, device)
        with autocast(device):
            loss = response_loss(model, ids, attention, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    return model


def cached_sft(model, tokenizer, examples, key, device, seed, settings, progress=True, cache_dir=None):
    """有缓存就读缓存，否则训练并写入缓存。返回 (模型, 是否命中缓存)。"""
    from transformers import AutoModelForCausalLM

    folder = (Path(cache_dir) if cache_dir else paths.cache_dir() / "sft") / key
    if (folder / "config.json").is_file():
        cached = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
        return cached.to(device).eval(), True
    train_sft(model, examples, tokenizer.pad_token_id, device, seed, settings, progress)
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    model.save_pretrained(tmp)
    try:
        tmp.replace(folder)  # atomic: a killed run never leaves half a cache
    except OSError:  # another run filled the cache first
        shutil.rmtree(tmp, ignore_errors=True)
    return model, False
