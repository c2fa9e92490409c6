"""PPO、RLOO、GRPO 与 DPO，量出来：奖励–KL 前沿（DPO 论文图 2 的做法，在本课程的小模型和偏好世界上）。

同一个 SFT 参考模型出发：
- 奖励模型训练一次（Bradley–Terry，留出集准确率写进结果）；
- DPO：几个 β，用所选实现的 TODO（与 `step5-rlhf train` 相同的训练循环）；
- PPO：几个 KL 系数（ppo.py）；
- RLOO、GRPO：TRL 的 RLOOTrainer / GRPOTrainer，几个 KL 系数（online.py）。RLOO 用同一个奖励模型；GRPO 默认用裁判的
  judge_score 当规则奖励（GRPO 在可验证奖励上的用法），每个点的 `reward` 字段写明它优化的是什么；
- best-of-N：参考模型采样 N 个回答，奖励模型挑分最高的。它离参考模型的 KL 最多是 log N − (N−1)/N（闭式的上界，
  只在 N 个回答各不相同时取到）；这里按 Beirami et al. (2024) 的估计量，用奖励最高的那个回答在参考模型下的概率来估计。
每个点都在留出提示词上用同样的方法打分：温度 1 采样若干回答（温度 1 就是模型自己的分布，KL 说的正是它），
裁判的好回答率和平均 judge_score、奖励模型的平均分、KL(π‖π_ref) 的采样估计和标准误。裁判是这个世界的“真相”，
奖励模型只是它的近似：奖励模型分数涨、裁判分数不涨，就是对奖励模型的过度优化。
"""

import copy
import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from ..training import evaluate
from ..training.config import TrainConfig
from ..training.dpo import train_dpo
from ..training.judge import judge_score, preferred_rate
from ..training.run import Pipeline, quiet_session
from ..training.impl import ImplementationError, probe
from .online import METHODS as ONLINE, OnlineConfig, judge_reward, reward_from, train_online
from .ppo import PPOConfig, train_ppo
from .reward_model import (RewardConfig, bradley_terry_loss, build_reward_model, pair_accuracy, score_texts,
                           train_reward_model)

METHOD_NAMES = {"dpo": "DPO", "ppo": "PPO", "rloo": "RLOO", "grpo": "GRPO", "best_of_n": "best-of-N"}
# What each point optimised: the preference pairs themselves, the learned reward model, or the judge as a rule.
REWARDS = {"preference_data": "偏好数据（没有奖励模型）", "reward_model": "奖励模型", "judge": "裁判（规则奖励）"}


def setting_text(setting: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in setting.items())


KL_BUDGET = 2.0  # nats: "at a similar distance from the reference" when reading the frontier


def best_within_kl(result: dict, budget: float = KL_BUDGET) -> dict:
    """Each method's seed-0 point with the highest judge rate among those with KL ≤ budget: {method: point}."""
    best = {}
    for method in METHOD_NAMES:
        inside = [p for p in result["points"] if p["method"] == method and p["seed"] == 0 and p["kl"] <= budget]
        if inside:
            best[method] = max(inside, key=lambda p: p["judge_rate"])
    return best


def rate_se(rate: float, answers: int) -> float:
    """The standard error of a pass rate measured on `answers` independent answers."""
    return (rate * (1 - rate) / answers) ** 0.5


# What each method keeps in memory while it trains (the cost table of lesson 05).
MODELS_IN_MEMORY = {
    "dpo": "1（策略模型；参考模型的 log 概率事先算好）",
    "ppo": "3（带价值头的策略模型、参考模型、奖励模型；独立价值模型时是 4）",
    "rloo": "3（策略模型、参考模型、奖励模型；没有价值模型）",
    "grpo": "3（策略模型、参考模型、奖励模型；没有价值模型）",
    "grpo_judge": "2（策略模型、参考模型；奖励是裁判的规则，没有奖励模型和价值模型）",
    "best_of_n": "2（参考模型、奖励模型；不训练）",
}


@dataclass(frozen=True)
class CompareConfig:
    """`step5-rlhf compare` 的全部设置；`quick()` 给出 `--quick` 用的较小设置。"""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(out=None, progress=False))
    reward: RewardConfig = field(default_factory=RewardConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    online: OnlineConfig = field(default_factory=OnlineConfig)
    betas: tuple = (0.05, 0.1, 0.5)  # DPO
    kl_coefs: tuple = (0.1, 0.2, 0.4)  # PPO
    online_betas: tuple = (0.05, 0.2, 1.0)  # RLOO and GRPO: TRL's beta, the KL coefficient
    grpo_reward: str = "judge"  # GRPO's reward: the judge as a rule-based reward ("judge") or "reward_model"
    best_of: tuple = (2, 4, 8, 16)
    spread_seeds: tuple = (1, 2)  # extra seeds for one setting of each trained method (seed-to-seed spread)
    spread_beta: float = 0.1
    spread_kl_coef: float = 0.2
    spread_online_beta: float = 0.2
    eval_prompts: int = None  # held-out prompts scored (None: all of eval.jsonl)
    samples: int = 4  # answers per prompt at temperature 1, for the judge, the reward model and the KL
    max_new_tokens: int = 48
    out: str = "runs/compare"

    def quick(self) -> "CompareConfig":
        """The CI / notebook setting: 200 held-out prompts × 2 samples (a judge rate's standard error about 2 points),
        shorter PPO / RLOO / GRPO, no seed spread: about 3 minutes on 2 cores."""
        return replace(self, reward=replace(self.reward, steps=150), ppo=replace(self.ppo, iterations=25),
                       online=replace(self.online, steps=40), best_of=(2, 4, 8), spread_seeds=(), eval_prompts=200,
                       samples=2)


def best_of_n_kl(n, top_logp) -> float:
    """Beirami et al. (2024)'s estimate of KL(best-of-n ‖ reference) for one prompt.

    ε = exp(top_logp) is the reference's probability of the answer the reward model ranks highest. That answer
    wins whenever one of the n draws is it; the rest of the distribution is treated as spread out (no repeats).
    The result is at most log n − (n−1)/n and equals it when ε → 0; a model that repeats its best answer
    (large ε) is much closer to the reference than the closed form says.
    """
    eps = math.exp(min(top_logp, 0.0))
    if eps >= 1 - 1e-12:
        return 0.0
    log_miss = n * math.log1p(-eps)  # log P(no draw is the best answer): then best-of-n over the rest
    hit = -math.expm1(log_miss)  # P(some draw is the best answer), accurate when ε is tiny
    rest = math.exp(log_miss) * (math.log(n) + (n - 1) * math.log1p(-eps) - (n - 1) / n)
    return rest + (hit * (math.log(hit) - math.log(eps)) if hit > 0 else 0.0)


class PeakRSS:
    """Peak resident memory (MB) while the block runs, sampled every 20 ms by a background thread."""

    def __enter__(self):
        import psutil

        self._process, self._stop, self.peak = psutil.Process(), threading.Event(), 0.0
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while True:
            self.peak = max(self.peak, self._process.memory_info().rss / 2**20)
            if self._stop.wait(0.02):
                return

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _samples(model, tokenizer, prompts, device, seed, count, max_new_tokens, rows_per_call=1024):
    """count answers per prompt at temperature 1 (the model's own distribution): texts and token lists.

    Generated a few prompts at a time: one call for 240 prompts × 64 answers held 2.7 GB of cache.
    """
    texts, tokens = [], []
    step = max(1, rows_per_call // count)
    for start in range(0, len(prompts), step):
        more_texts, more_tokens = evaluate.generate(model, tokenizer, prompts[start:start + step], device, seed + start,
                                                    max_new_tokens, temperature=1.0, samples=count)
        texts += more_texts
        tokens += more_tokens
    repeated = [p for p in prompts for _ in range(count)]
    return repeated, texts, tokens


def _scores(repeated, texts, reward_model, tokenizer, device) -> dict:
    rm = score_texts(reward_model, tokenizer, repeated, texts, device)
    return {
        "judge_rate": preferred_rate(repeated, texts),
        "judge_score": sum(judge_score(p, a) for p, a in zip(repeated, texts)) / len(texts),
        "reward_model_score": rm.mean().item(),
        "mean_length": sum(map(len, texts)) / len(texts),
    }


class Comparison:
    """Runs every method from one reference and one reward model; `points` collects the results."""

    def __init__(self, config: CompareConfig, log=print):
        self.config, self.log = config, log or (lambda *_: None)
        self.points = []

    def setup(self):
        self.pipeline = pipeline = Pipeline(self.config.train, log=None).scored()
        self.impl, self.device, self.tokenizer = pipeline.impl, pipeline.device, pipeline.tokenizer
        self.reference = pipeline.reference_model
        rows = pipeline.setup["eval"]
        prompts = list(dict.fromkeys(r["prompt"] for r in rows))
        self.prompts = prompts[: self.config.eval_prompts]
        self.train_prompts = list(dict.fromkeys(r["prompt"] for r in pipeline.setup["train"]))

    def reward_loss(self):
        """The chosen impl's optional TODO 7 when it runs; else the course's own Bradley–Terry loss (said so)."""
        try:
            probe(self.impl, also=("reward_model_loss",))
        except ImplementationError as error:
            self.log(f"奖励模型改用课程自带的 Bradley–Terry 损失：{error}")
            return bradley_terry_loss, "course"
        self.log("奖励模型用你的选做 TODO 7（reward_model_loss）训练")
        return self.impl.reward_model_loss, "todo7"

    def reward_model(self):
        loss_fn, source = self.reward_loss()
        started = time.perf_counter()
        with PeakRSS() as memory:
            self.rm = build_reward_model(self.reference, seed=self.config.train.seed)
            history = train_reward_model(self.rm, self.pipeline.setup["train_examples"], self.tokenizer.pad_token_id,
                                         self.device, self.config.reward, progress=self.config.train.progress,
                                         loss_fn=loss_fn)
        self.rm.requires_grad_(False)
        self.rm_info = {
            "eval_accuracy": pair_accuracy(self.rm, self.pipeline.setup["eval_examples"], self.tokenizer.pad_token_id,
                                           self.device),
            "train_accuracy_last_50_steps": sum(h["accuracy"] for h in history[-50:]) / len(history[-50:]),
            "seconds": time.perf_counter() - started, "peak_rss_mb": memory.peak, "loss": source,
        }
        self.log(f"奖励模型：留出集准确率 {self.rm_info['eval_accuracy']:.1%}（{self.rm_info['seconds']:.0f} 秒）")

    def evaluate(self, model, seed):
        repeated, texts, tokens = _samples(model, self.tokenizer, self.prompts, self.device, seed, self.config.samples,
                                           self.config.max_new_tokens)
        values = _scores(repeated, texts, self.rm, self.tokenizer, self.device)
        values["kl"], values["kl_se"] = evaluate.kl_estimate(self.impl, model, self.reference, self.tokenizer,
                                                             repeated, tokens, self.device)
        return values

    def _point(self, method, setting, seed, train, reward="reward_model"):
        started = time.perf_counter()
        with PeakRSS() as memory:
            model, history = train()
        seconds = time.perf_counter() - started
        values = self.evaluate(model, seed=1000 + seed) if model is not None else history
        models = MODELS_IN_MEMORY.get(f"{method}_{reward}", MODELS_IN_MEMORY[method])
        point = {"method": method, "setting": setting, "seed": seed, "reward": reward, **values, "seconds": seconds,
                 "peak_rss_mb": memory.peak, "models_in_memory": models}
        self.points.append(point)
        self.log(f"{METHOD_NAMES[method]}（{setting_text(setting)}）：裁判好回答率 {point['judge_rate']:.1%}，"
                 f"奖励模型分数 {point['reward_model_score']:+.2f}，KL {point['kl']:.2f}，{seconds:.0f} 秒")

    def dpo(self, beta, seed=0):
        def train():
            policy = copy.deepcopy(self.reference).requires_grad_(True)
            history = train_dpo(self.impl, policy, self.pipeline.setup["train_examples"], self.pipeline.ref_logps["train"],
                                self.tokenizer.pad_token_id, self.device, self.config.train.but(beta=beta, seed=seed))
            return policy.requires_grad_(False), history

        self._point("dpo", {"beta": beta}, seed, train, reward="preference_data")

    def ppo(self, kl_coef, seed=0):
        def train():
            policy = copy.deepcopy(self.reference).requires_grad_(True)
            history = train_ppo(policy, self.reference, self.rm, self.tokenizer, self.train_prompts, self.device,
                                replace(self.config.ppo, kl_coef=kl_coef, seed=seed), progress=self.config.train.progress)
            return policy.requires_grad_(False), history

        self._point("ppo", {"kl_coef": kl_coef}, seed, train)

    def online(self, method, beta, seed=0):
        reward = self.config.grpo_reward if method == "grpo" else "reward_model"
        reward_fn = judge_reward if reward == "judge" else reward_from(self.rm, self.tokenizer, self.device)

        def train():
            policy = copy.deepcopy(self.reference).requires_grad_(True)
            history = train_online(method, policy, self.reference, self.tokenizer, self.train_prompts, reward_fn,
                                   self.device, replace(self.config.online, seed=seed), beta,
                                   progress=self.config.train.progress)
            return policy.requires_grad_(False), history

        self._point(method, {"beta": beta}, seed, train, reward=reward)

    def best_of_n(self):
        """All N at once: draw samples × max(N) answers per prompt, then pick within groups of N.

        The KL is Beirami et al.'s estimate from each prompt's best-ranked answer in the whole pool (its exact
        probability under the reference); the closed form log N − (N−1)/N is kept as `kl_bound`.
        """
        largest, count = max(self.config.best_of), self.config.samples
        per_prompt = count * largest
        started = time.perf_counter()
        with PeakRSS() as memory:
            repeated, texts, tokens = _samples(self.reference, self.tokenizer, self.prompts, self.device, 2000,
                                               per_prompt, self.config.max_new_tokens)
            scores = score_texts(self.rm, self.tokenizer, repeated, texts, self.device)
            top = [i * per_prompt + int(scores[i * per_prompt:(i + 1) * per_prompt].argmax())
                   for i in range(len(self.prompts))]
            top_logps = evaluate.answer_logps(self.impl, self.reference, self.tokenizer, self.prompts,
                                              [tokens[i] for i in top], self.device).tolist()
            repeats = 1 - sum(len(set(texts[i * per_prompt:(i + 1) * per_prompt])) for i in range(len(self.prompts))) \
                / len(texts)
        shared = time.perf_counter() - started
        for n in self.config.best_of:
            picked_prompts, picked = [], []
            for i, prompt in enumerate(self.prompts):
                for draw in range(count):
                    start = i * per_prompt + draw * n
                    best = start + int(scores[start:start + n].argmax())
                    picked_prompts.append(prompt)
                    picked.append(texts[best])
            values = _scores(picked_prompts, picked, self.rm, self.tokenizer, self.device)
            kls = torch.tensor([best_of_n_kl(n, lp) for lp in top_logps], dtype=torch.float64)
            values["kl"], values["kl_se"] = evaluate.mean_and_se(kls)
            values["kl_bound"] = math.log(n) - (n - 1) / n  # closed form: equal only when the n draws never repeat
            values["repeated_share"] = repeats  # of the reference's temperature-1 answers, how many were repeats
            # Its cost grows with N: the share of the shared sampling this N would have needed alone.
            point = {"method": "best_of_n", "setting": {"n": n}, "seed": 0, "reward": "reward_model", **values,
                     "seconds": shared * n / largest, "peak_rss_mb": memory.peak,
                     "models_in_memory": MODELS_IN_MEMORY["best_of_n"]}
            self.points.append(point)
            self.log(f"best-of-N（n = {n}）：裁判好回答率 {point['judge_rate']:.1%}，"
                     f"奖励模型分数 {point['reward_model_score']:+.2f}，KL {point['kl']:.2f}（上界 {point['kl_bound']:.2f}）")

    def run(self) -> dict:
        config = self.config
        started = time.perf_counter()
        self.setup()
        self.reward_model()
        reference = self.evaluate(self.reference, seed=999)
        self.log(f"参考模型：裁判好回答率 {reference['judge_rate']:.1%}，奖励模型分数 {reference['reward_model_score']:+.2f}")
        for beta in config.betas:
            self.dpo(beta)
        for kl_coef in config.kl_coefs:
            self.ppo(kl_coef)
        for method in ONLINE:
            for beta in config.online_betas:
                self.online(method, beta)
        self.best_of_n()
        for seed in config.spread_seeds:
            self.dpo(config.spread_beta, seed=seed)
            self.ppo(config.spread_kl_coef, seed=seed)
            for method in ONLINE:
                self.online(method, config.spread_online_beta, seed=seed)
        return {
            "reference": {k: reference[k] for k in ("judge_rate", "judge_score", "reward_model_score", "mean_length")},
            "reward_model": self.rm_info,
            "points": self.points,
            "settings": {"eval_prompts": len(self.prompts), "samples_per_prompt": config.samples, "temperature": 1.0,
                         "dpo_steps": config.train.steps, "ppo": asdict(config.ppo), "online": asdict(config.online),
                         "reward": asdict(config.reward), "grpo_reward": config.grpo_reward},
            "seconds": time.perf_counter() - started,
        }


def run_comparison(config: CompareConfig = CompareConfig(), log=print) -> dict:
    """跑完整个对比，写出 frontier.json、frontier.png 和 reward_model/（config.out 不为 None 时），返回结果字典。"""
    with quiet_session(config.train.threads):  # also hides transformers' bar while saving
        comparison = Comparison(config, log)
        result = comparison.run()
        if config.out:
            from .frontier_plot import plot_frontier

            out = Path(config.out)
            out.mkdir(parents=True, exist_ok=True)
            (out / "frontier.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
            plot_frontier(result, out / "frontier.png")
            comparison.rm.save_pretrained(out / "reward_model")  # AutoModelForSequenceClassification reads it back
            comparison.tokenizer.save_pretrained(out / "reward_model")
    return result
