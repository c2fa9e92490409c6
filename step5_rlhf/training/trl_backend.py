"""对照组：同样的模型、数据、batch、步数和 β，交给 TRL 的 DPOTrainer 训练（`--backend trl`）。

为了能逐步对比，TRL 看到的样本顺序与我们自己的循环完全相同（关掉它的随机打乱），
优化器也相同（AdamW、恒定学习率、无权重衰减、梯度裁剪 1.0），CPU 上用 float32，
并按 TRL 最快的方式设置：预先算好参考 log 概率（precompute_ref_log_probs=True）、不做梯度检查点。
TRL 是可选依赖：只有用到这里时才导入。
"""

import contextlib
import os
import random
import tempfile
import warnings

import torch


def native_order(n_examples, batch_size, steps, seed):
    """我们自己的 DPO 循环（dpo.train_dpo）每一步取到的样本下标，按顺序展开。"""
    rng = random.Random(seed)
    order, cursor, picked = [], 0, []
    for _ in range(steps):
        if cursor + batch_size > len(order):
            order, cursor = list(range(n_examples)), 0
            rng.shuffle(order)
        picked += order[cursor : cursor + batch_size]
        cursor += batch_size
    return picked


def _trainer(policy, tokenizer, rows, steps, beta, seed, settings, device, out_dir, history):
    from datasets import Dataset
    from torch.utils.data import SequentialSampler
    from transformers import PrinterCallback, TrainerCallback
    from trl import DPOConfig, DPOTrainer

    class InOrder(DPOTrainer):
        def _get_train_sampler(self, *args, **kwargs):  # same order as the native loop
            return SequentialSampler(self.train_dataset)

    class Record(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                history.append({"step": state.global_step - 1, **{k: float(v) for k, v in logs.items()
                                                                 if isinstance(v, (int, float))}})

    config = DPOConfig(
        output_dir=out_dir, per_device_train_batch_size=settings["batch_size"], max_steps=steps,
        learning_rate=settings["lr"], lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
        max_grad_norm=settings["max_grad_norm"], beta=beta, logging_steps=1, save_strategy="no", report_to=[],
        seed=seed, data_seed=seed, bf16=device.type == "cuda", fp16=False, use_cpu=device.type == "cpu",
        gradient_checkpointing=False, precompute_ref_log_probs=True, disable_dropout=True, max_length=None,
        dataloader_num_workers=0, dataloader_pin_memory=False, disable_tqdm=True,
    )
    from .data import text_row

    dataset = Dataset.from_list([text_row(tokenizer, r) for r in rows])
    trainer = InOrder(model=policy, args=config, train_dataset=dataset, processing_class=tokenizer,
                      callbacks=[Record()])
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


def train_dpo_trl(policy, tokenizer, rows, examples, ref_logps, steps, beta, seed, settings, device, progress=True):
    """用 TRL 的 DPOTrainer 训练 policy（原地更新），返回与原生循环同样格式的每步记录。"""
    ordered = [rows[i] for i in native_order(len(rows), settings["batch_size"], steps, seed)]
    history = []
    with tempfile.TemporaryDirectory() as out_dir, _quiet():
        trainer = _trainer(policy, tokenizer, ordered, steps, beta, seed, settings, device, out_dir, history)
        trainer.train()
    policy.eval()
    return history


def trl_reference_logps(policy, tokenizer, rows, beta=0.1, settings=None, device=torch.device("cpu")):
    """TRL 自己分词、自己算出的参考 log 概率（逐对），用来和原生实现逐条比较。"""
    from .dpo import DPO_SETTINGS

    settings = {**DPO_SETTINGS, **(settings or {})}
    with tempfile.TemporaryDirectory() as out_dir, _quiet():
        trainer = _trainer(policy, tokenizer, rows, 1, beta, 0, settings, device, out_dir, [])
        data = trainer.train_dataset
        return torch.tensor(data["ref_chosen_logps"]), torch.tensor(data["ref_rejected_logps"])
