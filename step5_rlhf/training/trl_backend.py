"""对照组：同样的模型、数据、batch、步数和 β，交给 TRL 的 DPOTrainer 训练（`--backend trl`）。

为了能逐步对比，TRL 看到的样本顺序与我们自己的循环完全相同（关掉它的随机打乱），
优化器也相同（AdamW、恒定学习率、无权重衰减、梯度裁剪 1.0），CPU 上用 float32，
并按 TRL 最快的方式设置：预先算好参考 log 概率（precompute_ref_log_probs=True）、不做梯度检查点。
TRL 是可选依赖：只有用到这里时才导入。
"""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import torch


def shared_dataset(tokenizer, rows, cache_root, group):
    """The rows as a dataset folder on disk that every process reads.

    TRL caches its tokenised copy and the precomputed reference log-probs next to the dataset's own
    files. An in-memory dataset would put them in each process's private temporary folder, where the
    other processes cannot find them (the FileNotFoundError of a naive torchrun launch).
    """
    from datasets import Dataset, load_from_disk

    from .data import text_row

    texts = [text_row(tokenizer, r) for r in rows]
    key = hashlib.sha256(json.dumps(texts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:20]
    folder = Path(cache_root) / "trl_datasets" / key
    with group.main_first():
        if group.launch.is_main and not (folder / "dataset_info.json").is_file():
            tmp = folder.with_name(f"{key}.tmp{os.getpid()}")
            Dataset.from_list(texts).save_to_disk(str(tmp))
            try:
                tmp.replace(folder)  # atomic: a killed run never leaves half a dataset
            except OSError:  # another run wrote it first
                shutil.rmtree(tmp, ignore_errors=True)
    return load_from_disk(str(folder))


def _trainer(policy, tokenizer, dataset, config, device, out_dir, history, callbacks=(), per_device=None):
    from torch.utils.data import SequentialSampler
    from transformers import PrinterCallback, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    class InOrder(DPOTrainer):
        def _get_train_sampler(self, *args, **kwargs):  # same order as the native loop
            return SequentialSampler(self.train_dataset)

    class Record(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.loop_started = time.perf_counter()

        def on_step_begin(self, args, state, control, **kwargs):
            self.started = time.perf_counter()

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:  # the same "seconds" / "elapsed" as the native history
                now = time.perf_counter()
                history.append({"step": state.global_step - 1, "seconds": now - self.started,
                                "elapsed": now - self.loop_started,
                                **{k: float(v) for k, v in logs.items() if isinstance(v, (int, float))}})

    args = DPOConfig(
        output_dir=out_dir, per_device_train_batch_size=per_device or config.batch_size, max_steps=config.steps,
        learning_rate=config.lr, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        max_grad_norm=config.max_grad_norm, beta=config.beta, loss_type=[config.loss_type],
        label_smoothing=config.label_smoothing, logging_steps=1, save_strategy="no", report_to=[],
        seed=config.seed, data_seed=config.seed, bf16=device.type == "cuda", fp16=False, use_cpu=device.type == "cpu",
        gradient_checkpointing=False, precompute_ref_log_probs=True, disable_dropout=True, max_length=None,
        dataloader_num_workers=0, dataloader_pin_memory=False, disable_tqdm=True,
        ddp_find_unused_parameters=False,  # every parameter gets a gradient; the check costs a graph walk per step
    )
    trainer = InOrder(model=policy, args=args, train_dataset=dataset, processing_class=tokenizer,
                      callbacks=[Record(), *callbacks])
    trainer.remove_callback(PrinterCallback)  # it prints every step's log dict
    return trainer


@contextlib.contextmanager
def _quiet():
    """TRL and datasets draw their own progress bars for every map / precompute pass: hide them."""
    import datasets
    import transformers

    old = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    bars = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    verbosity = transformers.utils.logging.get_verbosity()
    transformers.utils.logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # deprecation notices inside TRL
            yield
    finally:
        transformers.utils.logging.set_verbosity(verbosity)
        if bars:
            datasets.enable_progress_bars()
        if old is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = old


def train_dpo_trl(policy, tokenizer, rows, config, device, cache_root, group=None, callbacks=(), log=None):
    """用 TRL 的 DPOTrainer 训练 policy（原地更新），返回与原生循环同样格式的每步记录。

    多进程（torchrun / accelerate launch）时每个进程拿 batch_size / 进程数 对，全局 batch 和
    样本顺序与单进程相同；group 见 distributed.Group。
    """
    from .distributed import Group, Launch, per_device_batch_size
    from .dpo import batch_order

    group = group or Group(Launch(), device)
    per_device, note = per_device_batch_size(config.batch_size, group.launch.world_size)
    if note and log:
        log(note)
    # Step k takes rows [k·B, (k+1)·B): one batch of B in one process, or with N processes (accelerate
    # shards batch after batch) N consecutive batches of B/N, the same rows.
    ordered = [rows[i] for step in batch_order(len(rows), config.batch_size, config.steps, config.seed) for i in step]
    history = []
    with tempfile.TemporaryDirectory() as out_dir, _quiet():
        dataset = shared_dataset(tokenizer, ordered, cache_root, group)
        trainer = _trainer(policy, tokenizer, dataset, config, device, out_dir, history, callbacks, per_device)
        trainer.train()
    policy.eval()
    return history


def trl_reference_logps(policy, tokenizer, rows, config, device=torch.device("cpu")):
    """TRL 自己分词、自己算出的参考 log 概率（逐对），用来和原生实现逐条比较。"""
    from datasets import Dataset

    from .data import text_row

    dataset = Dataset.from_list([text_row(tokenizer, r) for r in rows])
    with tempfile.TemporaryDirectory() as out_dir, _quiet():
        trainer = _trainer(policy, tokenizer, dataset, config.but(steps=1, seed=0), device, out_dir, [])
        data = trainer.train_dataset
        return torch.tensor(data["ref_chosen_logps"]), torch.tensor(data["ref_rejected_logps"])
