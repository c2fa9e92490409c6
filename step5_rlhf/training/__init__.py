"""小型 DPO 训练：`step5-rlhf train` 和 notebook 共用的库。

最常用的一个函数（几十秒跑完 SFT 热启动 → DPO → 评估 → 画图）：

    from step5_rlhf.training import run_training
    result = run_training(impl="solution", steps=60, beta=0.1, out="runs/latest", device="cpu", seed=0,
                          progress=True, threads=None)
    result.metrics["eval.rewards/accuracies"]   # 留出集的隐式奖励准确率
    result.metrics["eval.judge_rate_reference"], result.metrics["eval.judge_rate_policy"]
    result.history    # 每步一个字典：loss、rewards/*、grad_norm、seconds
    result.samples    # 几条“参考模型 vs DPO 之后”的回答
    result.paths      # metrics / history / samples / plot / model 的文件路径
    print(result.summary())

其他可单独使用的部分：

    load_preferences(data_dir=None) -> (train_rows, eval_rows)    # data/train.jsonl、data/eval.jsonl
    load_jsonl(path) -> rows；出错抛 PreferenceDataError（文件、行号、原因）
    load_showcase() -> rows                                      # 讲义里的手写样例
    judge(prompt, response) -> bool；explain(prompt, response) -> [没满足的规则]
    load_impl(impl) / load_checked(impl)                          # 载入五个函数（后者先试跑）
    prepare(model_path=None, data_dir=None, seed=0) -> dict       # 分词器、模型、分词后的样本
    build_reference(setup, device="cpu", seed=0) -> (模型, 是否命中缓存)   # SFT 热启动（带缓存）
    generate(model, tokenizer, prompts, device, seed=0, temperature=1.0) -> (回答列表, token 列表)
    setup_chinese_font() / label("损失", "loss")                  # 在 step5_rlhf.plots 里：画图用的中文字体

默认值：DPO 60 步、β=0.1、每批 16 对、AdamW 学习率 1e-4（β=0.5 同样有效）；规则裁判给温度 0.8 的采样打分，
KL 用温度 1 的采样估计。同一台机器、同样的线程数和种子，CPU 上两次运行的结果逐位相同。

异常：TodoNotImplementedError（还有没完成的 TODO）、ImplementationError、PreferenceDataError、
TrainingDivergedError（损失出现 NaN/inf）。导入本包很轻：torch / transformers 在用到时才导入。
"""

DEFAULT_STEPS = 60
DEFAULT_BETA = 0.1  # as in the DPO paper, TRL and the exercise

_LAZY = {
    "run_training": "run", "TrainingResult": "run", "prepare": "run", "build_reference": "run", "load_result": "run",
    "load_preferences": "data", "load_jsonl": "data", "load_showcase": "data", "tokenize_pair": "data",
    "PreferenceDataError": "data",
    "judge": "judge", "explain": "judge", "preferred_rate": "judge",
    "load_impl": "impl", "load_checked": "impl", "probe": "impl",
    "ImplementationError": "impl", "TodoNotImplementedError": "impl",
    "TrainingDivergedError": "dpo", "generate": "evaluate",
    "build_tokenizer": "model", "build_model": "model", "load_model": "model",
}
__all__ = sorted(_LAZY) + ["DEFAULT_STEPS", "DEFAULT_BETA"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
