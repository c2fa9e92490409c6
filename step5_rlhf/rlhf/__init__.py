"""传统 RLHF 的另外两步（奖励模型、PPO）和 best-of-N，以及把它们与 DPO 放在一起量的奖励–KL 前沿。

    from step5_rlhf.rlhf.compare import CompareConfig, run_comparison
    result = run_comparison(CompareConfig().quick())     # 或命令行：step5-rlhf compare --quick

reward_model.py  Bradley–Terry 奖励模型（AutoModelForSequenceClassification，num_labels=1）
ppo.py           InstructGPT 式的 PPO：rollout、KL 惩罚、价值头、GAE、裁剪的损失
compare.py       同一个参考模型出发的 DPO / PPO / best-of-N，写 frontier.json 和 frontier.png
"""
