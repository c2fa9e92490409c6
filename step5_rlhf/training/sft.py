"""SFT：把预训练好的模型调成“一问一答”的助手，它就是 DPO 的参考模型 π_ref。

在训练集的“提示词 + 回答”上做一百多步监督微调，chosen 和 rejected 都当作示范来学——就像请了一批水平参差的
标注员写示范回答。于是参考模型有时答得好，有时会犯预训练语料和示范里都有的错误（错误的定义、啰嗦、照做有害的请求、
过度拒绝）。DPO 要做的，就是把概率从差的回答挪到好的回答。每一批还混入一部分预训练语料（SFTConfig.corpus_mix），
免得模型忘掉只在预训练里见过的话题（分布外留出集考的正是它们）。

训练好的 SFT 模型缓存在 <缓存目录>/sft/<键>/，键由数据、模型结构、初始权重（预训练的键）、种子和 SFT 设置决定，
第二次运行直接读取，省下这段时间。缓存放在用户目录（~/.cache/step5_rlhf，可用 STEP5_RLHF_CACHE 改）。
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

from .device import autocast
from .dpo import make_optimizer


RECIPE = "3"  # bumped when the warm start's code changes, so that an old cache is not reused


def cache_key(data_fingerprint, model, base, seed, settings) -> str:
    """SFT 缓存的键：任何一项变了（数据、模型结构、初始权重、种子、SFTConfig），都会重新训练。"""
    parts = [RECIPE, data_fingerprint, model.config.to_json_string(use_diff=False), str(base), str(seed),
             json.dumps(dataclasses.asdict(settings), sort_keys=True)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def _sequences(examples, documents=(), mix=0.0, rng=None):
    """(prompt ids, scored ids) rows: both answers of every pair, and mix × as many corpus documents (all scored)."""
    rows = [(ex["prompt_ids"], ex[key]) for ex in examples for key in ("chosen_ids", "rejected_ids")]
    documents = list(documents)
    picked = rng.sample(documents, min(int(mix * len(rows)), len(documents))) if documents and mix else []
    return rows + [(ids[:1], ids[1:]) for ids in picked]  # a document: <bos>, then every token is scored


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


def fit_rows(model, rows, pad_id, device, rng, settings, desc, progress=True, betas=(0.9, 0.999)):
    """Next-token training on (prompt ids, scored ids) rows, settings.steps batches of similar length:
    the loop SFT and pretraining share (AdamW, warm-up then cosine decay, gradients clipped at 1)."""
    optimizer = make_optimizer(model.parameters(), settings.lr, betas=betas)
    schedule = warmup_cosine(optimizer, settings.warmup, settings.steps)
    model.train()
    batches = length_grouped_batches([len(p) + len(r) for p, r in rows], settings.batch_size, settings.steps, rng)
    bar = tqdm(batches, desc=desc, disable=not progress, leave=False)
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


def train_sft(model, examples, pad_id, device, seed, settings, progress=True, documents=()):
    """在 chosen 和 rejected 两种回答上做监督微调（只对回答部分算损失），混入预训练语料。settings: SFTConfig。

    documents：预训练语料的 token 列表（每篇以 <bos> 开头、<eos> 结尾），没有时不混。
    """
    rng = random.Random(seed)
    rows = _sequences(examples, documents, settings.corpus_mix, rng)
    torch.manual_seed(seed)
    return fit_rows(model, rows, pad_id, device, rng, settings, "SFT", progress)


def load_cached(folder):
    """The model saved in `folder` by an earlier run, or None."""
    from transformers import AutoModelForCausalLM

    if not (Path(folder) / "config.json").is_file():
        return None
    return AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32).eval()


def save_atomically(model, folder):
    """save_pretrained into `folder` so that a killed run never leaves half a cache behind."""
    folder = Path(folder)
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    model.save_pretrained(tmp)
    try:
        tmp.replace(folder)
    except OSError:  # another run filled the cache first
        shutil.rmtree(tmp, ignore_errors=True)
