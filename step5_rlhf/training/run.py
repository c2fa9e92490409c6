"""一次完整的小型 DPO 训练：SFT 热启动 → 参考 log 概率 → DPO → 评估 → 写文件。"""

import contextlib
import sys
import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import paths
from . import DEFAULT_BETA, DEFAULT_STEPS
from . import data as data_mod
from . import evaluate, report
from .device import resolve_device
from .dpo import DPO_SETTINGS, sequence_logps, train_dpo
from .impl import load_checked
from .sft import SFT_SETTINGS, cache_key, cached_sft

DEFAULT_OUT = "runs/latest"  # relative to the folder the student works in
N_SHOW = 8  # before/after samples saved
# The judge sees answers sampled at temperature 0.8: T=1 sampling of a model this small garbles a few
# characters (a mistyped topic), which would hide what DPO changed. The KL estimate uses T=1 samples,
# because it must sample from the policy itself.
JUDGE_TEMPERATURE = 0.8


@dataclass
class TrainingResult:
    """run_training 的返回值。metrics 的键是扁平的带点名字，例如 "eval.rewards/accuracies"。"""

    metrics: dict
    history: list  # one dict per DPO step
    samples: list  # a few before/after generations
    paths: dict = field(default_factory=dict)  # name -> Path of each written file
    sft_cached: bool = False

    def __getitem__(self, key):  # result["eval.rewards/accuracies"] also works
        return self.metrics[key]

    def summary(self) -> str:
        """几行中文总结（命令行最后打印的就是它）。"""
        m = self.metrics
        lines = [f"留出集：奖励准确率 {m['eval.rewards/accuracies']:.1%}，奖励间隔 {m['eval.rewards/margins']:.3f}"]
        if "eval.judge_rate_policy" in m:
            lines.append(f"规则裁判的好回答率：参考模型 {m['eval.judge_rate_reference']:.1%} → "
                         f"DPO 之后 {m['eval.judge_rate_policy']:.1%}；KL(策略‖参考) ≈ {m['eval.kl']:.2f} nats")
        lines.append(f"DPO {m['train.steps']} 步用时 {m['train.seconds']:.1f} 秒（{m['train.pairs_per_second']:.0f} 对/秒），"
                     f"全程 {m['total.seconds']:.1f} 秒" + ("（SFT 读自缓存）" if self.sft_cached else ""))
        return "\n".join(lines)


def _base_model(model_path, train, evals, seed, data_dir=None):
    from .model import build_model, build_tokenizer, load_model

    if model_path:
        model, tokenizer = load_model(model_path)
        weights = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in Path(model_path).glob("*.safetensors"))
        return model, tokenizer, f"{Path(model_path).resolve()}:{weights}"
    showcase_file = data_mod.paths.find_data_dir(data_dir) / "showcase.jsonl"
    showcase = data_mod.load_jsonl(showcase_file) if showcase_file.is_file() else []
    texts = [r[k] for r in train + evals + showcase for k in data_mod.FIELDS]
    tokenizer = build_tokenizer(texts)
    return build_model(tokenizer, seed=seed), tokenizer, f"scratch-{seed}"


def prepare(model_path=None, data_dir=None, seed=0, train_limit=None, eval_limit=None):
    """读数据、建（或读入）模型和分词器、分词。返回一个字典，notebook 也可以直接用。"""
    train, evals = data_mod.load_preferences(data_dir)
    train, evals = train[:train_limit], evals[:eval_limit]
    model, tokenizer, base = _base_model(model_path, train, evals, seed, data_dir)
    return {
        "train": train,
        "eval": evals,
        "model": model,
        "tokenizer": tokenizer,
        "base": base,
        "train_examples": [data_mod.tokenize_pair(tokenizer, r) for r in train],
        "eval_examples": [data_mod.tokenize_pair(tokenizer, r) for r in evals],
    }


def build_reference(setup, device="cpu", seed=0, sft_settings=None, progress=True, cache_dir=None):
    """SFT 热启动后的参考模型（有缓存就直接读）。返回 (模型, 是否命中缓存)。"""
    device = torch.device(device) if isinstance(device, str) else device
    settings = {**SFT_SETTINGS, **(sft_settings or {})}
    key = cache_key(data_mod.fingerprint(setup["train"]), setup["model"], setup["base"], seed, settings)
    model = setup["model"].to(device)
    return cached_sft(model, setup["tokenizer"], setup["train_examples"], key, device, seed, settings, progress, cache_dir)


@contextlib.contextmanager
def _session(threads):
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


def run_training(impl="solution", steps=DEFAULT_STEPS, beta=DEFAULT_BETA, out=DEFAULT_OUT, device="cpu", seed=0,
                 progress=True, model=None, data=None, backend="native", train_limit=None, eval_limit=None,
                 sft_settings=None, dpo_settings=None, generate_samples=True, save_model=True, cache_dir=None,
                 log=print, threads=None):
    """跑一次完整的 DPO 训练，返回 TrainingResult（指标、每步记录、样例、写出的文件）。

    impl: "solution"、"exercise" 或练习文件路径；model: 本地 HF 模型目录（默认从零建一个小模型）；
    data: 含 train.jsonl / eval.jsonl 的目录；backend: "native"（用你的五个函数）或 "trl"（TRL 的 DPOTrainer）。
    threads: CPU 线程数（默认不改）。未完成的 TODO 会在训练开始前抛出 TodoNotImplementedError。
    """
    with _session(threads):
        return _run(impl, steps, beta, out, device, seed, progress, model, data, backend, train_limit, eval_limit,
                    sft_settings, dpo_settings, generate_samples, save_model, cache_dir, log)


def _run(impl, steps, beta, out, device, seed, progress, model, data, backend, train_limit, eval_limit,
         sft_settings, dpo_settings, generate_samples, save_model, cache_dir, log):
    started = time.perf_counter()
    log = log or (lambda *_: None)
    module = load_checked(impl)  # fail fast, before any training
    device = resolve_device(device)
    setup = prepare(model, data, seed, train_limit, eval_limit)
    tokenizer, pad = setup["tokenizer"], setup["tokenizer"].pad_token_id

    t0 = time.perf_counter()
    reference, cached = build_reference(setup, device, seed, sft_settings, progress, cache_dir)
    sft_seconds = time.perf_counter() - t0
    log(f"SFT 热启动{'：读取缓存' if cached else '完成'}（{sft_seconds:.1f} 秒）")
    for p in reference.parameters():
        p.requires_grad_(False)
    policy = copy.deepcopy(reference)
    for p in policy.parameters():
        p.requires_grad_(True)

    # The frozen reference is scored once, before the loop: every step reuses these numbers.
    ref_train = sequence_logps(module, reference, setup["train_examples"], pad, device)
    ref_eval = sequence_logps(module, reference, setup["eval_examples"], pad, device)

    settings = {**DPO_SETTINGS, **(dpo_settings or {})}
    t0 = time.perf_counter()
    if backend == "trl":
        from .trl_backend import train_dpo_trl

        history = train_dpo_trl(policy, tokenizer, setup["train"], setup["train_examples"], ref_train, steps, beta,
                                seed, settings, device, progress)
    else:
        history = train_dpo(module, policy, setup["train_examples"], *ref_train, pad, device, steps, beta, seed,
                            settings, progress)
    train_seconds = time.perf_counter() - t0

    metrics = {
        "train.steps": steps, "train.beta": beta, "train.batch_size": settings["batch_size"], "train.backend": backend,
        "train.seconds": train_seconds, "train.pairs_per_second": steps * settings["batch_size"] / max(train_seconds, 1e-9),
        "train.final_loss": history[-1]["loss"] if history else float("nan"), "sft.seconds": sft_seconds,
        "sft.cached": cached, "device": device.type, "seed": seed,
    }
    for key, value in evaluate.preference_metrics(module, policy, ref_eval, setup["eval_examples"], pad, device, beta).items():
        metrics[f"eval.{key}"] = value
    # Reference's own preference: how often it already gives chosen a higher log-prob (the starting point).
    metrics["eval.reference_prefers_chosen"] = (ref_eval[0] > ref_eval[1]).float().mean().item()

    samples = []
    if generate_samples:
        prompts = [r["prompt"] for r in setup["eval"]]
        ref_text, _ = evaluate.generate(reference, tokenizer, prompts, device, seed, temperature=JUDGE_TEMPERATURE)
        pol_text, _ = evaluate.generate(policy, tokenizer, prompts, device, seed, temperature=JUDGE_TEMPERATURE)
        metrics["eval.judge_temperature"] = JUDGE_TEMPERATURE
        metrics["eval.judge_rate_reference"] = evaluate.judge_samples(prompts, ref_text)
        metrics["eval.judge_rate_policy"] = evaluate.judge_samples(prompts, pol_text)
        _, kl_tokens = evaluate.generate(policy, tokenizer, prompts, device, seed + 1, temperature=1.0)
        metrics["eval.kl"] = evaluate.kl_estimate(module, policy, reference, tokenizer, prompts, kl_tokens, device)
        from .judge import judge

        samples = [
            {"prompt": p, "reference": r, "reference_preferred": judge(p, r), "policy": a, "policy_preferred": judge(p, a)}
            for p, r, a in list(zip(prompts, ref_text, pol_text))[:N_SHOW]
        ]
    result = TrainingResult(metrics=metrics, history=history, samples=samples, sft_cached=cached)
    if out:
        result.paths = _write(Path(out), result, policy, tokenizer, save_model)
    metrics["total.seconds"] = time.perf_counter() - started  # SFT + DPO + eval + plots + saving
    metrics["peak_rss_mb"] = _peak_rss_mb()
    if out:
        report.write_json(result.paths["metrics"], metrics)
    return result


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
        "history": out / "history.jsonl",
        "samples": out / "samples.json",
        "plot": out / "training_curves.png",
    }
    report.write_history(written["history"], result.history)
    report.write_json(written["samples"], result.samples)
    eval_metrics = {k.removeprefix("eval."): v for k, v in result.metrics.items() if k.startswith("eval.")}
    report.plot_curves(result.history, written["plot"], eval_metrics)
    if save_model:
        written["model"] = out / "model"
        policy.save_pretrained(written["model"])
        tokenizer.save_pretrained(written["model"])
    return written


def load_result(out=DEFAULT_OUT) -> dict:
    """读回一次训练写出的 metrics.json（notebook 里查看上次结果用）。"""
    return json.loads((Path(out) / "metrics.json").read_text(encoding="utf-8"))
