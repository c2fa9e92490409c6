"""一次训练的全部设置，一个对象（像 nanoGPT 的 GPTConfig、TRL 的 DPOConfig 那样）。

    from step5_rlhf.training import TrainConfig, run_training
    result = run_training(TrainConfig(beta=0.5, steps=100, out="runs/beta05"))
    result = run_training(beta=0.5)                    # 同样可以：关键字参数覆盖默认值
"""

from dataclasses import dataclass, field, replace

DEFAULT_STEPS = 80
DEFAULT_BETA = 0.1  # as in the DPO paper, TRL and the exercise
# The loss types of optional TODO 6, named as TRL's DPOConfig.loss_type ("sigmoid" is plain DPO, TODO 1).
LOSS_TYPES = ("sigmoid", "robust", "hinge", "ipo", "sigmoid_norm")


@dataclass(frozen=True)
class PretrainConfig:
    """预训练：在预训练语料（data/pretrain.txt）上做下一个词预测，模型从这里学到这个世界的知识。"""

    steps: int = 400
    batch_size: int = 32  # documents per step
    lr: float = 1e-2
    warmup: int = 20


@dataclass(frozen=True)
class SFTConfig:
    """SFT（得到参考模型）：在训练集的 chosen 与 rejected 两种回答上做监督微调，同时混入一部分预训练语料。"""

    steps: int = 100
    batch_size: int = 32
    lr: float = 3e-3
    warmup: int = 10
    corpus_mix: float = 0.5  # corpus documents per answer: keeps what pretraining taught (out-of-distribution topics)


@dataclass(frozen=True)
class EvalConfig:
    """评估：每个留出提示词让模型作答几次，再由裁判打分。"""

    samples: int = 3  # sampled answers per prompt, plus one greedy answer
    temperature: float = 0.6  # of the judged samples (at T=1 a model this small garbles many answers)
    max_new_tokens: int = 48  # tokens (about 1.4 characters each): a good answer in the data has at most 48
    bootstrap: int = 2000  # resamples of the prompts for the 95% interval of the judge-rate change
    kl_samples: int = 1  # samples per prompt at T=1 for the KL(π‖π_ref) estimate
    max_prompts: int = None  # judge only the first N held-out prompts of a split (None: all); rows stay as they are


@dataclass(frozen=True)
class TrainConfig:
    """一次 `step5-rlhf train` / `run_training` 的全部设置。"""

    impl: str = "auto"  # "auto", "solution", "exercise" or a .py path: whose five TODO functions to train with
    steps: int = DEFAULT_STEPS
    beta: float = DEFAULT_BETA
    batch_size: int = 16  # preference pairs per step
    lr: float = 7e-5  # AdamW, constant, no weight decay
    max_grad_norm: float = 1.0  # clipped right before each optimizer.step()
    seed: int = 0
    device: str = "auto"  # auto / cpu / cuda / mps
    threads: int = None  # CPU threads (None: PyTorch's default)
    model: str = None  # a local Hugging Face causal LM folder; None: the course's tiny model, from scratch
    data: str = None  # folder with train.jsonl / eval.jsonl / eval_ood.jsonl; None: ./data
    out: str = "runs/latest"  # where results go (None: write nothing)
    backend: str = "native"  # "native": your TODOs; "trl": TRL's DPOTrainer with the same settings
    loss_type: str = "sigmoid"  # TRL's name; anything else trains with your optional TODO 6 (preference_loss)
    label_smoothing: float = 0.0  # ε of loss_type="robust"
    train_limit: int = None  # use only the first N pairs (tests)
    eval_limit: int = None
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    generate: bool = True  # judge generated answers (the slow part of evaluation)
    save_model: bool = True
    cache_dir: str = None  # the course cache: pretrain/, sft/, trl_datasets/ (None: ~/.cache/step5_rlhf or STEP5_RLHF_CACHE)
    progress: bool = True

    @property
    def uses_preference_loss(self) -> bool:
        """True when the step needs TODO 6: any loss other than plain DPO (TODO 1)."""
        return self.loss_type != "sigmoid"

    def but(self, **changes) -> "TrainConfig":
        """A copy with some settings changed; `pretrain` / `sft` / `evaluation` may be given as dicts of changes."""
        for name in ("pretrain", "sft", "evaluation"):
            if isinstance(changes.get(name), dict):
                changes[name] = replace(getattr(self, name), **changes[name])
        return replace(self, **changes)
