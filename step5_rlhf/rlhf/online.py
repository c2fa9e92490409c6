"""RLOO 与 GRPO：实践中常用的两种在线方法，用 TRL 1.16 的 `RLOOTrainer` 和 `GRPOTrainer` 训练。

两者和 PPO 一样在训练中让策略模型自己生成回答（rollout）、由奖励模型打分，但都**不要价值模型**：
每个提示词生成 G 个回答（一组），用组内其他回答的分数当“预期”——

* RLOO（REINFORCE Leave-One-Out，Ahmadian et al., 2024）：一个回答的优势 = 它的分数 − 同组另外 G−1 个回答的平均分；
* GRPO（Shao et al., 2024，DeepSeekMath）：优势 = (分数 − 组内平均分) / 组内标准差，再用 PPO 式的裁剪比例更新。

奖励有两种：课程的奖励模型（与 PPO、best-of-N 同一个打分函数 `score_texts`，`reward_from`），或者裁判的
`judge_score` 当作**规则奖励**（`judge_reward`）——GRPO 在数学、代码这类能用规则判对错的任务上就是这样用的
（DeepSeek-R1 的“可验证奖励”）。KL 惩罚的系数是 TRL 的 `beta`。
参考模型先存到一个临时文件夹：TRL 从模型的 `name_or_path` 读出它自己的参考模型副本。
"""

import tempfile
import time
import warnings
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm
from transformers import TrainerCallback

from ..training.judge import judge_score
from .reward_model import score_texts

METHODS = ("rloo", "grpo")


@dataclass(frozen=True)
class OnlineConfig:
    """RLOO / GRPO 的设置（名字与 TRL 的 RLOOConfig / GRPOConfig 一致的地方用同样的名字）。"""

    steps: int = 80  # optimizer steps (TRL's max_steps)
    prompts_per_step: int = 8
    num_generations: int = 4  # G: answers per prompt, the group that gives the baseline
    learning_rate: float = 3e-4
    num_iterations: int = 4  # optimizer steps on each batch of generations (GRPO's μ): one generation per 4 steps
    max_completion_length: int = 48
    temperature: float = 1.0
    scale_rewards: str = "group"  # GRPO only: divide by the group's std ("group"), the batch's ("batch") or not ("none")
    seed: int = 0


def reward_from(reward_model, tokenizer, device, whiten=True, missing_eos_penalty=1.0):
    """The course reward model as a TRL reward function, shaped as PPO's reward (ppo.PPOConfig): the scores of a
    batch of completions scaled to mean 0, std 1, minus a penalty for each completion cut off before <eos>."""

    def reward_model_score(prompts, completions, completion_ids=None, **_):
        scores = score_texts(reward_model, tokenizer, list(prompts), list(completions), device)
        if whiten and len(scores) > 1:
            scores = (scores - scores.mean()) / (scores.std() + 1e-6)
        if missing_eos_penalty and completion_ids is not None:
            unfinished = [not ids or ids[-1] != tokenizer.eos_token_id for ids in completion_ids]
            scores = scores - missing_eos_penalty * torch.tensor(unfinished, dtype=scores.dtype, device=scores.device)
        return scores.tolist()

    return reward_model_score


def judge_reward(prompts, completions, **_):
    """The judge's score as a rule-based reward (a verifiable reward): no reward model, nothing learned to hack."""
    return [judge_score(prompt, completion) for prompt, completion in zip(prompts, completions, strict=True)]


class _ProgressBar(TrainerCallback):
    """A bar like PPO's, gone when the run ends (transformers' notebook bar leaves a bar and an empty loss table)."""

    def __init__(self, name, progress):
        self.name, self.progress = name, progress

    def on_train_begin(self, args, state, control, **_):
        self.bar = tqdm(total=state.max_steps, desc=self.name, disable=not self.progress, leave=False)

    def on_step_end(self, args, state, control, **_):
        self.bar.update(1)

    def on_train_end(self, args, state, control, **_):
        self.bar.close()


def train_online(method, policy, reference, tokenizer, prompts, reward_fn, device, config: OnlineConfig, beta,
                 progress=False):
    """用 TRL 的 RLOO 或 GRPO 训练 policy（原地更新），返回 TRL 的日志（每 5 步一条：奖励、KL……）。"""
    from datasets import Dataset
    from transformers import PrinterCallback

    if method not in METHODS:
        raise ValueError(f"不认识的在线方法：{method!r}（可选：{'、'.join(METHODS)}）")
    if method == "rloo":
        from trl import RLOOConfig as Config, RLOOTrainer as Trainer
    else:
        from trl import GRPOConfig as Config, GRPOTrainer as Trainer
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TRL 1.16 still calls transformers' renamed checkpointing API
        reference.save_pretrained(folder)  # TRL builds its reference model from the policy's name_or_path
        policy.config._name_or_path = folder
        args = Config(
            output_dir=folder, max_steps=config.steps, learning_rate=config.learning_rate, beta=beta,
            per_device_train_batch_size=config.prompts_per_step * config.num_generations,
            num_generations=config.num_generations, num_iterations=config.num_iterations,
            max_completion_length=config.max_completion_length,
            temperature=config.temperature, lr_scheduler_type="constant", logging_steps=5, report_to="none",
            save_strategy="no", seed=config.seed, use_cpu=device.type == "cpu", disable_tqdm=True,
            bf16=False, **({"scale_rewards": config.scale_rewards} if method == "grpo" else {}))
        trainer = Trainer(model=policy, reward_funcs=reward_fn, args=args,
                          train_dataset=Dataset.from_dict({"prompt": list(prompts)}), processing_class=tokenizer)
        trainer.remove_callback(PrinterCallback)  # with transformers' bar off, it would print every log line
        trainer.add_callback(_ProgressBar(method.upper(), progress))
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    policy.eval()
    history = [row for row in trainer.state.log_history if "reward" in row]
    return [{**row, "seconds": seconds} for row in history] or [{"seconds": seconds}]
