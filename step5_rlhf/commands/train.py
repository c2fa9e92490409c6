"""`step5-rlhf train`：命令行入口（参数 → run_training → 中文总结）。"""

import sys

from ..training import DEFAULT_BETA, DEFAULT_STEPS
from ..training.config import LOSS_TYPES


def configure(parser) -> None:
    parser.add_argument("--impl", default="auto",
                        help="用谁的五个函数：exercise（你的练习文件）、solution（参考答案，只在课程仓库里有）或一个 .py 文件路径；"
                             "默认 auto：仓库里用参考答案，否则用当前文件夹里的练习文件")
    parser.add_argument("--beta", type=float, default=DEFAULT_BETA, help=f"DPO 的 β（默认 {DEFAULT_BETA}）")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"DPO 训练步数（默认 {DEFAULT_STEPS}）")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"], help="计算设备（默认 auto）")
    parser.add_argument("--model", default=None, help="本地 HF 因果语言模型目录（含分词器）；默认从零建一个小模型")
    parser.add_argument("--data", default=None, help="含 train.jsonl 和 eval.jsonl 的目录（默认：当前文件夹的 data/）")
    parser.add_argument("--out", default=None, help="输出目录（默认：当前文件夹的 runs/latest）")
    parser.add_argument("--seed", type=int, default=0, help="随机种子（CPU 上同一种子结果完全相同）")
    parser.add_argument("--loss-type", default="sigmoid", choices=list(LOSS_TYPES),
                        help="损失（与 TRL 的 loss_type 同名）：sigmoid 是 DPO（TODO 1）；其余用你的选做 TODO 6（preference_loss）")
    parser.add_argument("--label-smoothing", type=float, default=0.0,
                        help="loss_type=robust 的 ε：假设每条标注被标反的概率（0 ≤ ε < 0.5）")
    parser.add_argument("--backend", default="native", choices=["native", "trl"],
                        help="native：用你的五个函数训练；trl：用 TRL 的 DPOTrainer 做对照")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU 线程数（默认由 PyTorch 决定；机器上同时跑着别的程序时，设为 1 往往更快）")
    parser.add_argument("--pretrain-steps", type=int, default=None, help="预训练的步数（默认见 PretrainConfig）")
    parser.add_argument("--sft-steps", type=int, default=None, help="SFT 的步数（默认见 SFTConfig）")
    parser.add_argument("--eval-samples", type=int, default=None, help="评估时每个提示词采样几次（另加一次贪心解码）")
    parser.add_argument("--quiet", action="store_true", help="不显示进度条")


def run(args) -> int:
    from ..training.config import TrainConfig
    from ..training.data import PreferenceDataError
    from ..training.device import DeviceError
    from ..training.distributed import DistributedError, Group, Launch
    from ..training.dpo import TrainingDivergedError
    from ..training.impl import ImplementationError
    from ..training.run import run_training

    config = TrainConfig(impl=args.impl, steps=args.steps, beta=args.beta, device=args.device, seed=args.seed,
                         model=args.model, data=args.data, out=args.out or "runs/latest", backend=args.backend,
                         threads=args.threads, loss_type=args.loss_type, label_smoothing=args.label_smoothing,
                         progress=not args.quiet)
    if not 0.0 <= args.label_smoothing < 0.5:
        print(f"--label-smoothing 要在 [0, 0.5) 里（你给的是 {args.label_smoothing}）", file=sys.stderr)
        return 2
    if args.pretrain_steps is not None:
        config = config.but(pretrain={"steps": args.pretrain_steps})
    if args.sft_steps is not None:
        config = config.but(sft={"steps": args.sft_steps})
    if args.eval_samples is not None:
        config = config.but(evaluation={"samples": args.eval_samples})
    launch = Launch.from_env()
    try:
        result = run_training(config)
    except (ImplementationError, PreferenceDataError, DeviceError, TrainingDivergedError, FileNotFoundError,
            DistributedError) as error:
        if launch.is_main:  # the same line from every process would only be noise
            print(error, file=sys.stderr)  # one Chinese line, no traceback
        return 2
    except ImportError as error:
        if args.backend == "trl":
            print(f"--backend trl 需要安装 TRL：pip install 'step5-rlhf[trl]'（{error}）", file=sys.stderr)
            return 2
        raise
    finally:
        Group.close()  # leave the process group of a torchrun / accelerate launch (nothing to do otherwise)
    if not result.is_main:
        return 0  # the main process reports for everyone
    print()
    print(result.summary())
    print(f"结果已写入 {result.paths['metrics'].parent}（metrics.json、config.json、history.jsonl、samples.json、"
          "training_curves.png、model/）")
    return 0
