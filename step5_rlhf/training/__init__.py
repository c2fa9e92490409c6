"""小型 DPO 训练：`step5-rlhf train` 和 notebook 共用的库。

最常用的一个函数（SFT 热启动 → DPO → 评估 → 画图；耗时见 benchmarks/bench_train.py 的输出）：

    from step5_rlhf.training import TrainConfig, run_training
    result = run_training(TrainConfig(beta=0.1, out="runs/latest"))   # 或 run_training(beta=0.1, steps=80)
    result.metrics["eval.rewards/accuracies"]       # 留出集（新提示词）上的隐式奖励准确率
    result.metrics["eval.judge_rate_reference"], result.metrics["eval.judge_rate_policy"]
    result.metrics["eval.judge_rate_delta_ci95"]    # 裁判通过率变化的 bootstrap 95% 区间
    result.metrics["ood.rewards/accuracies"]        # 没见过的话题和问法
    result.history    # 每步一个字典：loss、rewards/*、grad_norm、seconds
    result.samples    # 几条“参考模型 vs DPO 之后”的回答和裁判的理由
    result.paths      # metrics / history / samples / plot / model 的文件路径
    print(result.summary())

全部设置在一个 TrainConfig 里（见 config.py）；各阶段是 Pipeline 的方法：
prepare → reference → score → train → evaluate → write。

其他可单独使用的部分：

    load_preferences(data_dir=None) -> (train_rows, eval_rows)    # data/train.jsonl、data/eval.jsonl
    load_jsonl(path) -> rows；出错抛 PreferenceDataError（文件、行号、原因）
    load_showcase() -> rows                                      # 讲义里的手写样例（每个维度一条）
    judge(prompt, response) -> bool；judge_score(...) -> float；breakdown(...) -> Verdict（分维度、理由）
    load_impl(impl) / load_checked(impl)                          # 载入五个函数（后者先试跑）
    generate(model, tokenizer, prompts, device, seed=0, ...) -> (回答列表, token 列表)
    setup_chinese_font() / label("损失", "loss")                  # 在 step5_rlhf.plots 里：画图用的中文字体

同一台机器、同样的线程数和种子，CPU 上两次运行的结果逐位相同。

异常：TodoNotImplementedError（还有没完成的 TODO）、ImplementationError、PreferenceDataError、
TrainingDivergedError（损失出现 NaN/inf）。导入本包很轻：torch / transformers 在用到时才导入。
"""

from .config import DEFAULT_BETA, DEFAULT_STEPS, EvalConfig, SFTConfig, TrainConfig  # noqa: E402  (light: no torch)

_LAZY = {
    "run_training": "run", "TrainingResult": "run", "prepare": "run", "build_reference": "run", "load_result": "run",
    "Pipeline": "run",
    "load_preferences": "data", "load_jsonl": "data", "load_showcase": "data", "tokenize_pair": "data",
    "PreferenceDataError": "data",
    "judge": "judge", "judge_score": "judge", "breakdown": "judge", "explain": "judge", "preferred_rate": "judge",
    "load_impl": "impl", "load_checked": "impl", "probe": "impl",
    "ImplementationError": "impl", "TodoNotImplementedError": "impl",
    "TrainingDivergedError": "dpo", "train_dpo": "dpo", "generate": "evaluate",
    "build_tokenizer": "model", "build_model": "model", "load_model": "model",
}
__all__ = sorted(_LAZY) + ["DEFAULT_STEPS", "DEFAULT_BETA", "TrainConfig", "SFTConfig", "EvalConfig"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(name)
