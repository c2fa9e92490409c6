"""一次完整的小型 DPO 训练，分六个阶段：

    prepare    读数据和预训练语料、建（或读入）模型和分词器、分词；先试跑你的五个函数，没完成的 TODO 立即报出
    reference  预训练 → SFT 得到参考模型（各自有缓存就直接读），冻结；策略模型是它的一份拷贝
    score      用冻结的参考模型给训练集和留出集打一次分（序列 log 概率），之后每一步直接取用
    train      DPO：每一步调用你的 dpo_train_step（或交给 TRL 的 DPOTrainer 对照）
    evaluate   留出集（eval、ood）上的隐式奖励指标、模型自己作答并由裁判打分、捷径基线、KL
    write      metrics.json、history.jsonl、samples.json、训练曲线图、save_pretrained 的模型

被 torchrun / accelerate launch 启动成多个进程时（只支持 --backend trl），预训练与 SFT、score、evaluate、
write 只在主进程做，其他进程只参与 train（见 distributed.py）。

    from step5_rlhf.training import TrainConfig, run_training
    result = run_training(TrainConfig(beta=0.1, steps=60))
"""

import contextlib
import copy
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from . import data as data_mod
from . import evaluate, pretrain, report
from .config import LOSS_TYPES, TrainConfig
from .device import resolve_device
from .distributed import Group, Launch, check_backend, per_device_batch_size
from .dpo import sequence_logps, train_dpo
from .impl import ImplementationError, load_checked
from .judge import breakdown
from .sft import cache_key, load_cached, save_atomically, train_sft

N_SHOW = 8  # before/after samples saved
SPLITS = {"eval": "eval.jsonl", "ood": "eval_ood.jsonl"}  # metric prefix -> file in the data folder


@dataclass
class TrainingResult:
    """run_training 的返回值。metrics 的键是扁平的带点名字，例如 "eval.rewards/accuracies"。"""

    metrics: dict
    history: list  # one dict per DPO step
    samples: list  # a few before/after generations
    paths: dict = field(default_factory=dict)  # name -> Path of each written file
    sft_cached: bool = False  # the reference came from the cache (pretraining and SFT both skipped)
    config: TrainConfig = None
    pipeline: object = field(default=None, repr=False)  # the models and reference scores, for follow-up experiments
    is_main: bool = True  # False in the other processes of a multi-process launch: they write and report nothing

    def __getitem__(self, key):  # result["eval.rewards/accuracies"] also works
        return self.metrics[key]

    def summary(self) -> str:
        return report.summary(self.metrics, self.sft_cached)


def _base_model(config, rows, corpus):
    from .model import build_model, build_tokenizer, load_model

    if config.model:
        model, tokenizer = load_model(config.model)
        weights = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in Path(config.model).glob("*.safetensors"))
        return model, tokenizer, f"{Path(config.model).resolve()}:{weights}"
    tokenizer = build_tokenizer([r[k] for r in rows for k in data_mod.FIELDS], corpus=corpus)
    return build_model(tokenizer, seed=config.seed), tokenizer, f"scratch-{config.seed}"


def prepare(config: TrainConfig) -> dict:
    """读数据和预训练语料、建（或读入）模型和分词器、分词。

    返回一个字典：train / eval / ood 的样本与分词结果、model、tokenizer、corpus（预训练语料，没有时为 None：
    数据文件夹里没有 pretrain.txt，或用 --model 读入了一个已经预训练好的模型）。
    """
    folder = data_mod.paths.find_data_dir(config.data)
    splits = {"train": data_mod.load_jsonl(folder / "train.jsonl")[: config.train_limit]}
    for name, file in SPLITS.items():
        if (folder / file).is_file():
            splits[name] = data_mod.load_jsonl(folder / file)[: config.eval_limit]
    showcase = folder / "showcase.jsonl"
    corpus_file = folder / data_mod.CORPUS_FILE
    corpus = data_mod.load_corpus(corpus_file) if corpus_file.is_file() and not config.model else None
    # Every character of the rows is in the vocabulary, so a row limit changes the tokenizer and the caches'
    # keys: the lessons' test settings change steps and samples, never the limits.
    every_row = [r for rows in splits.values() for r in rows] + (data_mod.load_jsonl(showcase) if showcase.is_file() else [])
    model, tokenizer, base = _base_model(config, every_row, corpus)
    setup = {"model": model, "tokenizer": tokenizer, "base": base, "splits": list(splits), "corpus": corpus}
    for name, rows in splits.items():
        setup[name] = rows
        setup[f"{name}_examples"] = [data_mod.tokenize_pair(tokenizer, r) for r in rows]
    return setup


def cache_root(config: TrainConfig) -> Path:
    """The course cache: sft/ (warm starts) and trl_datasets/ (what --backend trl tokenises)."""
    return Path(config.cache_dir) if config.cache_dir else data_mod.paths.cache_dir()


def build_reference(setup, config: TrainConfig, device, log=None, timings=None):
    """预训练（有语料时）→ SFT 得到参考模型，每一步有缓存就直接读。返回 (模型, SFT 是否命中缓存)。

    timings：一个字典时，写入这两步各自的秒数（"pretrain"、"sft"；读缓存时很小）。
    """
    log, timings = log or (lambda *_: None), {} if timings is None else timings
    root, corpus, tokenizer = cache_root(config), setup["corpus"], setup["tokenizer"]
    base = setup["base"]
    if corpus:
        pretrained = pretrain.cache_key(corpus, tokenizer, setup["model"], config.seed, config.pretrain)
        base = f"pretrained-{pretrained}"
    sft_folder = root / "sft" / cache_key(data_mod.fingerprint(setup["train"]), setup["model"], base, config.seed,
                                          config.sft)
    cached = load_cached(sft_folder)
    if cached is not None:
        return cached.to(device), True
    started = time.perf_counter()
    model, documents = setup["model"].to(device), []
    if corpus:
        documents = pretrain.encode(tokenizer, corpus)
        model = _pretrained(model, documents, tokenizer.pad_token_id, root / "pretrain" / pretrained, device, config, log)
    timings["pretrain"] = time.perf_counter() - started
    started = time.perf_counter()
    train_sft(model, setup["train_examples"], tokenizer.pad_token_id, device, config.seed, config.sft, config.progress,
              documents)
    save_atomically(model, sft_folder)
    timings["sft"] = time.perf_counter() - started
    return model, False


def _pretrained(model, documents, pad_id, folder, device, config, log):
    """The model after pretraining on the corpus: from the cache, or trained now and cached."""
    cached = load_cached(folder)
    if cached is not None:
        log("预训练：读取缓存")
        return cached.to(device)
    pretrain.train_pretrain(model, documents, pad_id, device, config.seed, config.pretrain, config.progress)
    save_atomically(model, folder)
    log("预训练完成")
    return model


@contextlib.contextmanager
def quiet_session(threads):
    """Quiet transformers' own progress bars and (optionally) pin the thread count; restore both after."""
    from transformers.utils import logging as hf_logging

    bars, old_threads = hf_logging.is_progress_bar_enabled(), torch.get_num_threads()
    hf_logging.disable_progress_bar()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        if bars:
            hf_logging.enable_progress_bar()


class Pipeline:
    """The six stages, in order; each reads what the earlier ones left on `self`."""

    def __init__(self, config: TrainConfig, log=print, launch: Launch = None):
        self.launch = launch or Launch.from_env()
        check_backend(self.launch, config.backend)  # before any work
        if not self.launch.is_main:  # one process reports, the others stay quiet
            config, log = config.but(progress=False), None
        self.config, self.log = config, log or (lambda *_: None)
        self.metrics, self.timings = {}, {}

    def _timed(self, name, stage):
        started = time.perf_counter()
        stage()
        self.timings[name] = time.perf_counter() - started

    def run(self) -> TrainingResult:
        started = time.perf_counter()
        for name in ("prepare", "reference", "score", "train", "evaluate", "write"):
            if self.launch.is_main or name in ("prepare", "reference", "train"):
                self._timed(name, getattr(self, name))
        if not self.launch.is_main:
            return TrainingResult(metrics={}, history=self.history, samples=[], config=self.config, is_main=False)
        self.metrics.update({f"time.{name}": seconds for name, seconds in self.timings.items()})
        self.metrics["total.seconds"] = time.perf_counter() - started  # every stage, from loading to saving
        self.metrics["peak_rss_mb"] = _peak_rss_mb()
        if self.config.out:
            report.write_json(self.result.paths["metrics"], self.metrics)
        return self.result

    def scored(self) -> "Pipeline":
        """The stages before training (prepare, reference, score): what a lesson or `compare` builds on."""
        self.prepare()
        self.reference()
        self.score()
        return self

    def prepare(self):
        if self.config.loss_type not in LOSS_TYPES:
            raise ImplementationError(f"不认识的 --loss-type：{self.config.loss_type!r}。可选：{'、'.join(LOSS_TYPES)}")
        # fail fast, before any training; TODO 6 only when the loss needs it
        self.impl = load_checked(self.config.impl, also=("preference_loss",) if self.config.uses_preference_loss else ())
        self.group = Group(self.launch, resolve_device(self.config.device))  # joins the process group if launched so
        self.device = self.group.device  # cuda:LOCAL_RANK under a multi-GPU launch
        self.setup = prepare(self.config)
        self.tokenizer = self.setup["tokenizer"]
        self.pad = self.tokenizer.pad_token_id

    def reference(self):
        with self.group.main_first():  # the main process trains and caches; the others then read that cache
            self.reference_model, self.sft_cached = build_reference(self.setup, self.config, self.device, self.log,
                                                                    self.timings)
        self.log(f"SFT{'：读取缓存' if self.sft_cached else '完成'}")
        self.reference_model.requires_grad_(False)
        self.policy = copy.deepcopy(self.reference_model).requires_grad_(True)

    def score(self):
        # The frozen reference is scored once, before the loop: every step reuses these numbers.
        self.ref_logps = {name: sequence_logps(self.impl, self.reference_model, self.setup[f"{name}_examples"],
                                               self.pad, self.device) for name in self.setup["splits"]}

    def train(self):
        config = self.config
        started = time.perf_counter()
        if config.backend == "trl":
            from .trl_backend import train_dpo_trl

            self.history = train_dpo_trl(self.policy, self.tokenizer, self.setup["train"], config, self.device,
                                         cache_root(config), self.group, log=self.log)
        else:
            self.history = train_dpo(self.impl, self.policy, self.setup["train_examples"], self.ref_logps["train"],
                                     self.pad, self.device, config)
        seconds = time.perf_counter() - started
        self.metrics.update({
            "train.steps": config.steps, "train.beta": config.beta, "train.batch_size": config.batch_size,
            "train.loss_type": config.loss_type, "train.label_smoothing": config.label_smoothing,
            "train.backend": config.backend, "train.seconds": seconds, "train.world_size": self.launch.world_size,
            "train.per_device_batch_size": per_device_batch_size(config.batch_size, self.launch.world_size)[0],
            "train.pairs_per_second": config.steps * config.batch_size / max(seconds, 1e-9),
            "train.steady_pairs_per_second": steady_pairs_per_second(self.history, config.batch_size),
            "train.final_loss": self.history[-1]["loss"] if self.history else float("nan"),
            "sft.cached": self.sft_cached, "device": self.device.type, "seed": config.seed,
        })

    def evaluate(self):
        config, settings = self.config, self.config.evaluation
        self.samples = []
        for split in self.setup["splits"]:
            if split == "train":
                continue
            rows, examples = self.setup[split], self.setup[f"{split}_examples"]
            values = evaluate.preference_metrics(self.impl, self.policy, self.ref_logps[split], examples, self.pad,
                                                 self.device, config.beta, config.loss_type, config.label_smoothing)
            values.update(evaluate.shortcut_baselines(self.setup["train"], rows))
            if config.generate:
                values.update(self._judge_answers(split, rows, settings))
            self.metrics.update({f"{split}.{key}": value for key, value in values.items()})
        if config.generate:
            self.metrics["eval.judge_temperature"] = settings.temperature
            self.metrics["eval.judge_samples_per_prompt"] = settings.samples + 1

    def _judge_answers(self, split, rows, settings):
        prompts = list(dict.fromkeys(r["prompt"] for r in rows))[: settings.max_prompts]
        dimension = {r["prompt"]: r.get("dimension", "all") for r in rows}
        seed = self.config.seed
        reference = evaluate.answers(self.reference_model, self.tokenizer, prompts, self.device, seed, settings)
        policy = evaluate.answers(self.policy, self.tokenizer, prompts, self.device, seed, settings)
        values = evaluate.generation_metrics(prompts, [dimension[p] for p in prompts], reference, policy, settings, seed)
        values["kl"], values["kl_se"] = evaluate.sampled_kl(self.impl, self.policy, self.reference_model, self.tokenizer,
                                                            prompts, self.device, seed + 1, settings.max_new_tokens,
                                                            settings.kl_samples)
        if split == "eval":
            self.samples = [_sample(p, dimension[p], r[0], a[0]) for p, r, a in list(zip(prompts, reference, policy))[:N_SHOW]]
        return values

    def write(self):
        self.result = TrainingResult(metrics=self.metrics, history=self.history, samples=self.samples,
                                     sft_cached=self.sft_cached, config=self.config, pipeline=self)
        if self.config.out:
            self.result.paths = _write(Path(self.config.out), self.result, self.policy, self.tokenizer,
                                       self.config.save_model)


def steady_pairs_per_second(history, batch_size, warmup=20):
    """Pairs per second after the first `warmup` steps (no set-up, no warm-up); None for shorter runs."""
    if len(history) < 2 * warmup:
        return None
    done, elapsed = len(history) - warmup, history[-1]["elapsed"] - history[warmup - 1]["elapsed"]
    return done * batch_size / max(elapsed, 1e-9)


def _sample(prompt, dimension, reference, policy) -> dict:
    """One held-out prompt, the greedy answer before and after DPO, and the judge's verdicts."""
    before, after = breakdown(prompt, reference), breakdown(prompt, policy)
    return {"prompt": prompt, "dimension": dimension, "reference": reference, "reference_preferred": before.passed,
            "reference_problems": before.problems, "policy": policy, "policy_preferred": after.passed,
            "policy_problems": after.problems}


def run_training(config: TrainConfig = None, /, log=print, **changes) -> TrainingResult:
    """跑一次完整的 DPO 训练，返回 TrainingResult（指标、每步记录、样例、写出的文件）。

    config: TrainConfig（默认值见 config.py）；关键字参数会覆盖其中的设置，例如 run_training(beta=0.5, steps=100)。
    未完成的 TODO 会在训练开始前抛出 TodoNotImplementedError。
    """
    config = (config or TrainConfig()).but(**changes)
    with quiet_session(config.threads):
        return Pipeline(config, log).run()


def _peak_rss_mb():
    try:
        import resource  # not on Windows
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)  # macOS reports bytes, Linux KiB


def _write(out: Path, result, policy, tokenizer, save_model) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "metrics": out / "metrics.json",
        "config": out / "config.json",
        "history": out / "history.jsonl",
        "samples": out / "samples.json",
        "plot": out / "training_curves.png",
    }
    report.write_json(written["config"], asdict(result.config))
    report.write_history(written["history"], result.history)
    report.write_json(written["samples"], result.samples)
    eval_metrics = {k.removeprefix("eval."): v for k, v in result.metrics.items() if k.startswith("eval.")}
    report.plot_curves(result.history, written["plot"], eval_metrics)
    if save_model:
        written["model"] = out / "model"
        policy.save_pretrained(written["model"])
        tokenizer.save_pretrained(written["model"])
    return written


def load_result(out="runs/latest") -> dict:
    """读回一次训练写出的 metrics.json（notebook 里查看上次结果用）。"""
    return json.loads((Path(out) / "metrics.json").read_text(encoding="utf-8"))
