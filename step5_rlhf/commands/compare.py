"""`step5-rlhf compare`：同一个参考模型出发，DPO、PPO、RLOO、GRPO、best-of-N 的奖励–KL 前沿（frontier.json、frontier.png）。"""

import sys


def configure(parser) -> None:
    parser.add_argument("--out", default="runs/compare", help="输出目录（默认 runs/compare）")
    parser.add_argument("--quick", action="store_true", help="快速版（课堂和 CI 用）：更少的提示词、采样、PPO 轮数和 RLOO/GRPO 步数")
    parser.add_argument("--impl", default="auto", help="DPO 用谁的 TODO：exercise、solution 或一个 .py 路径（同 train）")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help="计算设备")
    parser.add_argument("--data", default=None, help="数据目录（默认 ./data）")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="CPU 线程数")
    parser.add_argument("--steps", type=int, default=None, help="每个 DPO 点的训练步数（默认同 train）")
    parser.add_argument("--pretrain-steps", type=int, default=None, help="预训练步数（测试用）")
    parser.add_argument("--sft-steps", type=int, default=None, help="SFT 步数（测试用）")
    parser.add_argument("--ppo-iterations", type=int, default=None, help="PPO 的 rollout 轮数")
    parser.add_argument("--online-steps", type=int, default=None, help="RLOO 和 GRPO 的优化步数")
    parser.add_argument("--reward-steps", type=int, default=None, help="奖励模型的训练步数")
    parser.add_argument("--eval-prompts", type=int, default=None, help="只用前 N 个留出提示词打分")
    parser.add_argument("--quiet", action="store_true", help="不显示进度条")


def run(args) -> int:
    from dataclasses import replace

    from ..rlhf.compare import CompareConfig, run_comparison
    from ..training.config import TrainConfig
    from ..training.data import PreferenceDataError
    from ..training.device import DeviceError
    from ..training.impl import ImplementationError

    train = TrainConfig(impl=args.impl, device=args.device, data=args.data, seed=args.seed, threads=args.threads,
                        out=None, progress=not args.quiet)
    if args.sft_steps is not None:
        train = train.but(sft={"steps": args.sft_steps})
    if args.pretrain_steps is not None:
        train = train.but(pretrain={"steps": args.pretrain_steps})
    if args.steps is not None:
        train = train.but(steps=args.steps)
    config = CompareConfig(train=train, out=args.out)
    config = config.quick() if args.quick else config
    if args.ppo_iterations is not None:
        config = replace(config, ppo=replace(config.ppo, iterations=args.ppo_iterations))
    if args.online_steps is not None:
        config = replace(config, online=replace(config.online, steps=args.online_steps))
    if args.reward_steps is not None:
        config = replace(config, reward=replace(config.reward, steps=args.reward_steps))
    if args.eval_prompts is not None:
        config = replace(config, eval_prompts=args.eval_prompts)
    try:
        result = run_comparison(config)
    except (ImplementationError, PreferenceDataError, DeviceError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    print()
    print(summary(result))
    print(f"结果已写入 {args.out}（frontier.json、frontier.png）")
    return 0


def summary(result) -> str:
    """一张中文小表：每个点的设置、裁判好回答率、奖励模型分数、KL、用时。"""
    from ..rlhf.compare import METHOD_NAMES

    ref = result["reference"]
    lines = [f"奖励模型留出集准确率 {result['reward_model']['eval_accuracy']:.1%}；参考模型：裁判好回答率 "
             f"{ref['judge_rate']:.1%}，奖励模型分数 {ref['reward_model_score']:+.2f}",
             f"{'方法':<10}{'设置':<18}{'种子':>4}{'裁判好回答率':>10}{'裁判分数':>8}{'奖励模型分数':>10}{'KL':>12}{'秒':>7}"]
    for p in result["points"]:
        setting = ",".join(f"{k}={v}" for k, v in p["setting"].items())
        lines.append(f"{METHOD_NAMES[p['method']]:<10}{setting:<18}{p['seed']:>4}{p['judge_rate']:>12.1%}{p['judge_score']:>10.3f}"
                     f"{p['reward_model_score']:>+12.2f}{p['kl']:>8.2f}±{p['kl_se']:.2f}{p['seconds']:>7.0f}")
    bounds = [f"n={p['setting']['n']} 时 {p['kl_bound']:.2f}" for p in result["points"] if p["method"] == "best_of_n"]
    if bounds:
        lines.append("best-of-N 的 KL 是从样本估计的（Beirami et al., 2024）；闭式上界 log N − (N−1)/N：" + "，".join(bounds))
    return "\n".join(lines)
