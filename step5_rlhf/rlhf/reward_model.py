"""奖励模型：传统 RLHF 的第 2 步（第 2 课的流程图）。

在 SFT 模型上接一个输出一个数的“打分头”（`AutoModelForSequenceClassification`，`num_labels=1`，
与 TRL 的 RewardTrainer 同样的约定：分数取自最后一个非补齐 token），用第 1 课的 Bradley–Terry 损失
−log σ(r(x, y_w) − r(x, y_l)) 在训练集的偏好对上训练。训练集带约 10% 的标注噪声，留出集是干净的。
"""

import random
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..training.dpo import make_optimizer
from ..training.sft import length_grouped_batches, warmup_cosine


@dataclass(frozen=True)
class RewardConfig:
    """奖励模型的训练设置。"""

    steps: int = 300
    batch_size: int = 32  # preference pairs per step
    lr: float = 1e-3
    warmup: int = 10
    max_grad_norm: float = 1.0
    seed: int = 0


def build_reward_model(causal_lm, seed=0):
    """A sequence classifier with one output on top of `causal_lm`'s transformer (copied, not shared).

    The backbone starts from the SFT weights; only the new score head is random (seeded).
    """
    from transformers import AutoModelForSequenceClassification

    settings = {k: v for k, v in causal_lm.config.to_dict().items() if k not in ("id2label", "label2id")}
    config = causal_lm.config.__class__.from_dict({**settings, "num_labels": 1})
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    model.base_model.load_state_dict(causal_lm.base_model.state_dict())
    return model.to(next(causal_lm.parameters()).device)


def pair_batch(examples, pad_id, device):
    """Prompt + chosen in rows 0…B−1, prompt + rejected in rows B…2B−1, right-padded (as TRL's collator)."""
    rows = [e["prompt_ids"] + e["chosen_ids"] for e in examples] + [e["prompt_ids"] + e["rejected_ids"] for e in examples]
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        attention[i, : len(row)] = 1
    return ids.to(device), attention.to(device)


def pair_rewards(model, examples, pad_id, device):
    """(chosen rewards [B], rejected rewards [B]) for a batch of tokenised pairs."""
    ids, attention = pair_batch(examples, pad_id, device)
    scores = model(input_ids=ids, attention_mask=attention).logits.squeeze(-1).float()
    return scores[: len(examples)], scores[len(examples):]


def bradley_terry_loss(chosen_rewards, rejected_rewards):
    """The chosen answer should score higher: mean of −log σ(r_chosen − r_rejected) (TRL's RewardTrainer)."""
    return -F.logsigmoid(chosen_rewards - rejected_rewards).mean()


def train_reward_model(model, examples, pad_id, device, config: RewardConfig = RewardConfig(), progress=True,
                       loss_fn=bradley_terry_loss):
    """在偏好对上训练奖励模型（原地更新），返回每步记录：loss、accuracy、margin（TRL RewardTrainer 的指标名）。

    loss_fn(chosen_rewards, rejected_rewards)：默认是课程自带的 Bradley–Terry 损失；compare 传入学生的选做 TODO 7。
    """
    rng = random.Random(config.seed)
    lengths = [len(e["prompt_ids"]) + max(len(e["chosen_ids"]), len(e["rejected_ids"])) for e in examples]
    batches = length_grouped_batches(lengths, config.batch_size, config.steps, rng)
    optimizer = make_optimizer(model.parameters(), config.lr)
    schedule = warmup_cosine(optimizer, config.warmup, config.steps)
    model.train()
    history = []
    for step, index in enumerate(tqdm(batches, desc="奖励模型", disable=not progress, leave=False)):
        chosen, rejected = pair_rewards(model, [examples[i] for i in index], pad_id, device)
        loss = loss_fn(chosen, rejected)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        schedule.step()
        history.append({"step": step, "loss": loss.item(), "accuracy": (chosen > rejected).float().mean().item(),
                        "margin": (chosen - rejected).mean().item()})
    model.eval()
    return history


@torch.no_grad()
def pair_accuracy(model, examples, pad_id, device, batch_size=64) -> float:
    """留出偏好对上奖励模型把 chosen 排在前面的比例。"""
    model.eval()
    right = 0
    for start in range(0, len(examples), batch_size):
        chosen, rejected = pair_rewards(model, examples[start:start + batch_size], pad_id, device)
        right += (chosen > rejected).sum().item()
    return right / len(examples)


@torch.no_grad()
def score_texts(model, tokenizer, prompts, responses, device, batch_size=64) -> torch.Tensor:
    """奖励模型给每个（提示词, 回答）打的分，[N]。回答末尾补 eos，与训练时一样。"""
    model.eval()
    eos = tokenizer.eos_token
    texts = [p + (r if r.endswith(eos) else r + eos) for p, r in zip(prompts, responses, strict=True)]
    scores = []
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(texts[start:start + batch_size], padding=True, return_tensors="pt")
        logits = model(input_ids=encoded["input_ids"].to(device), attention_mask=encoded["attention_mask"].to(device)).logits
        scores.append(logits.squeeze(-1).float().cpu())
    return torch.cat(scores) if scores else torch.empty(0)
