"""第 4 课的训练实验：训练、看曲线、看结果、看样例、β 实验。讲义单元只调用这里的几个函数。

每个函数在 result / impl 是 None（TODO 还没完成、又没有参考答案可用）时打印一行说明并跳过。
"""

import copy
import inspect
from pathlib import Path

from .notebook_support import SMOKE_NOTE, autograding, percent, show_table, skipped, smoke_test
from .training import evaluate
from .training.config import TrainConfig
from .training.judge import DIMENSION_NAMES
from .training.report import SPLIT_NAMES

RUN_DIR = Path("runs") / "notebook"  # under the notebook's folder


def show_loop():
    """把训练循环（step5_rlhf.training.dpo.train_dpo）的源代码原样显示出来。"""
    from IPython.display import display

    from .training.dpo import batch_order, train_dpo

    source = inspect.getsource(batch_order) + "\n\n" + inspect.getsource(train_dpo)
    display({"text/markdown": f"```python\n{source}```", "text/plain": source}, raw=True)


def train(impl, **changes):
    """用 impl 的五个函数跑一次完整训练（设置见 TrainConfig，可用关键字覆盖）；返回 TrainingResult。"""
    from .training import run_training

    if autograding():  # nothing in a training run is graded: do not spend the grader's minutes on it
        print("⏭ 自动评分中：训练不计分，这里不再重复训练。")
        return None
    if skipped(impl, "训练"):
        return None
    config = TrainConfig(impl=impl.__file__, out=str(RUN_DIR)).but(**changes)
    if smoke_test():
        # fewer judged prompts, never fewer rows: a row limit would change the vocabulary (see prepare())
        config = config.but(steps=20, evaluation={"samples": 0, "bootstrap": 200, "max_prompts": 24})
        print(SMOKE_NOTE)
    print(f"设置：预训练 {config.pretrain.steps} 步，SFT {config.sft.steps} 步；DPO {config.steps} 步，每步 {config.batch_size} 对，"
          f"β = {config.beta}，"
          f"AdamW 学习率 {config.lr:g}，梯度裁剪 {config.max_grad_norm}；裁判给每个留出提示词的 1 个贪心回答和 "
          f"{config.evaluation.samples} 个温度 {config.evaluation.temperature} 的采样回答打分")
    result = run_training(config)
    pairs = len(result.pipeline.setup["train"])
    print(f"\n训练集 {pairs} 对：DPO 一共看了 {config.steps * config.batch_size} 对，约 {config.steps * config.batch_size / pairs:.2f} 轮（epoch）")
    print("用的是：" + ("你的代码" if impl.STEP5_SOURCE == "student" else "参考答案"))
    print(result.summary())
    seconds = result.metrics
    warm = ("（读缓存）" if result.sft_cached else
            f"（预训练 {seconds.get('time.pretrain', 0.0):.1f} 秒 + SFT {seconds.get('time.sft', 0.0):.1f} 秒）")
    print(f"各阶段用时：准备 {seconds['time.prepare']:.1f} 秒，预训练与 SFT {seconds['time.reference']:.1f} 秒{warm}，"
          f"参考模型打分 {seconds['time.score']:.1f} 秒，DPO {seconds['time.train']:.1f} 秒，评估 {seconds['time.evaluate']:.1f} 秒")
    return result


def show_curves(result):
    from IPython.display import Image, display

    if not skipped(result):
        display(Image(filename=str(result.paths["plot"])))


def show_results(result):
    """两张表：每个留出集的指标（与捷径基线、训练前后的同一指标并排），以及分维度的裁判好回答率。"""
    if skipped(result):
        return
    m = result.metrics
    splits = [s for s in SPLIT_NAMES if f"{s}.rewards/accuracies" in m]
    rows = [
        ("隐式奖励准确率 rewards/accuracies", *[percent(m[f"{s}.rewards/accuracies"]) for s in splits]),
        ("捷径基线：总选更长的回答", *[percent(m[f"{s}.baseline/longer_wins"]) for s in splits]),
        ("捷径基线：只看第一个字", *[percent(m[f"{s}.baseline/first_char"]) for s in splits]),
        ("log 概率偏好 chosen：参考模型 → DPO 之后",
         *[f"{percent(m[f'{s}.logps/prefers_chosen_reference'])} → {percent(m[f'{s}.logps/prefers_chosen_policy'])}" for s in splits]),
    ]
    if f"eval.judge_rate_policy" in m:
        rows += [
            ("裁判好回答率：参考模型 → DPO 之后",
             *[f"{percent(m[f'{s}.judge_rate_reference'])} → {percent(m[f'{s}.judge_rate_policy'])}" for s in splits]),
            ("好回答率变化的 95% 区间",
             *[f"[{m[f'{s}.judge_rate_delta_ci95'][0]:+.1%}, {m[f'{s}.judge_rate_delta_ci95'][1]:+.1%}]" for s in splits]),
            ("KL(策略‖参考)，nats", *[f"{m[f'{s}.kl']:.2f} ± {m[f'{s}.kl_se']:.2f}" for s in splits]),
            ("回答平均长度（字）：参考 → DPO 之后",
             *[f"{m[f'{s}.answer_length_reference']:.1f} → {m[f'{s}.answer_length_policy']:.1f}" for s in splits]),
        ]
    show_table(["指标", *[SPLIT_NAMES[s] for s in splits]], rows)
    if f"eval.judge_rate_policy" not in m:
        return
    dims = sorted({k.rsplit("/", 1)[1] for k in m if k.startswith("eval.judge_rate_policy/")})
    show_table(["维度", *[f"{SPLIT_NAMES[s]}：参考 → DPO 之后（变化的 95% 区间）" for s in splits]], [
        (f"{DIMENSION_NAMES.get(d, d)}（{d}）", *[_dimension_cell(m, s, d) for s in splits]) for d in dims])


def _dimension_cell(m, split, dimension):
    if f"{split}.judge_rate_policy/{dimension}" not in m:
        return "—"
    low, high = m[f"{split}.judge_rate_delta_ci95/{dimension}"]
    return (f"{percent(m[f'{split}.judge_rate_reference/{dimension}'])} → "
            f"{percent(m[f'{split}.judge_rate_policy/{dimension}'])}（[{low:+.1%}, {high:+.1%}]）")


def read_transfer(result):
    """用这次运行的数读分布外留出集：每个维度的好回答率变了没有（变化的 95% 区间在 0 的哪一边）。"""
    if skipped(result) or "ood.judge_rate_policy" not in result.metrics:
        return
    m = result.metrics
    dims = sorted({k.rsplit("/", 1)[1] for k in m if k.startswith("ood.judge_rate_policy/")})
    for label, split in (("留出集", "eval"), ("分布外留出集", "ood")):
        low, high = m[f"{split}.judge_rate_delta_ci95"]
        print(f"{label}：裁判好回答率 {percent(m[f'{split}.judge_rate_reference'])} → {percent(m[f'{split}.judge_rate_policy'])}，"
              f"{_verdict(low, high)}")
    for d in dims:
        low, high = m[f"ood.judge_rate_delta_ci95/{d}"]
        print(f"  分布外 · {DIMENSION_NAMES.get(d, d)}：{_verdict(low, high)}")


def _verdict(low, high):
    if low > 0:
        return f"变化的 95% 区间 [{low:+.1%}, {high:+.1%}] 整个在 0 以上：变好了，不是偶然"
    if high < 0:
        return f"变化的 95% 区间 [{low:+.1%}, {high:+.1%}] 整个在 0 以下：变差了"
    return f"变化的 95% 区间 [{low:+.1%}, {high:+.1%}] 包含 0：这次运行看不出变化"


def show_samples(result, n=4):
    """留出集上几条提示词：参考模型（DPO 之前）与策略模型（DPO 之后）的贪心回答，以及裁判的判断。"""
    if skipped(result):
        return
    for sample in result.samples[:n]:
        print(f"提示词（{DIMENSION_NAMES.get(sample['dimension'], sample['dimension'])}）：{sample['prompt']}")
        for who, key in (("DPO 之前", "reference"), ("DPO 之后", "policy")):
            ok = sample[f"{key}_preferred"]
            reason = "" if ok else "（" + "；".join(sample[f"{key}_problems"]) + "）"
            print(f"  {who}：{sample[key]}")
            print(f"      {'好回答' if ok else '差回答'}{reason}")
        print()


def beta_experiment(result, betas=(0.05, 0.5)):
    """同样的参考模型、数据和步数，只换 β 再训练几次，与 result（β = result 的 β）并排比较。

    每个 β：留出集的隐式奖励准确率、chosen / rejected 的 log 概率变化、裁判好回答率与 KL（留出集，
    每个提示词贪心 1 次 + 采样若干次），再画出损失和 log ratio 间隔的曲线。返回 {β: 指标}。
    """
    from .training.dpo import train_dpo

    if skipped(result):
        return None
    p, m = result.pipeline, result.metrics
    # The first run's β: its evaluation already measured the same things (same prompts, samples and seeds).
    runs = {result.config.beta: (result.history, {**{k.removeprefix("eval."): v for k, v in m.items() if k.startswith("eval.")},
                                                  "judge_rate": m["eval.judge_rate_policy"]})}
    for beta in betas:
        config = p.config.but(beta=beta)
        policy = copy.deepcopy(p.reference_model).requires_grad_(True)
        history = train_dpo(p.impl, policy, p.setup["train_examples"], p.ref_logps["train"], p.pad, p.device, config)
        runs[beta] = (history, _beta_metrics(p, policy, beta))
    show_table(["β", "留出集准确率", "chosen 的 log 概率变化", "rejected 的 log 概率变化", "裁判好回答率",
                "KL(策略‖参考) ± 标准误"], [
        (beta, percent(m["rewards/accuracies"]), f"{m['rewards/chosen'] / beta:+.2f}", f"{m['rewards/rejected'] / beta:+.2f}",
         percent(m["judge_rate"]), f"{m['kl']:.2f} ± {m['kl_se']:.2f}") for beta, (_, m) in sorted(runs.items())])
    metrics = {beta: metrics for beta, (_, metrics) in sorted(runs.items())}
    print(read_kl(metrics))
    _beta_figure({beta: history for beta, (history, _) in runs.items()})
    return metrics


def read_kl(metrics) -> str:
    """Which β moved the policy furthest, and whether that is more than the noise of the two largest estimates."""
    (first, a), (second, b) = sorted(metrics.items(), key=lambda item: item[1]["kl"], reverse=True)[:2]
    noise = 2 * (a["kl_se"] ** 2 + b["kl_se"] ** 2) ** 0.5
    within = a["kl"] - b["kl"] <= noise
    best = max(metrics, key=lambda beta: metrics[beta]["judge_rate"])
    return (f"KL 最大的是 β = {first}（{a['kl']:.2f}），其次是 β = {second}（{b['kl']:.2f}）：相差 {a['kl'] - b['kl']:.2f}，"
            f"{'在' if within else '超出了'}两个估计的噪声（两倍标准误 {noise:.2f}）{'之内，这次运行分不出谁更大' if within else ''}。"
            f"裁判好回答率最高的是 β = {best}（{percent(metrics[best]['judge_rate'])}）。")


def _beta_metrics(p, policy, beta):
    rows, examples = p.setup["eval"], p.setup["eval_examples"]
    metrics = evaluate.preference_metrics(p.impl, policy, p.ref_logps["eval"], examples, p.pad, p.device, beta)
    settings = p.config.evaluation
    prompts = list(dict.fromkeys(r["prompt"] for r in rows))[: settings.max_prompts]
    answers = evaluate.answers(policy, p.tokenizer, prompts, p.device, p.config.seed, settings)
    metrics["judge_rate"] = sum(evaluate.judged(prompts, answers)) / len(prompts)
    metrics["kl"], metrics["kl_se"] = evaluate.sampled_kl(p.impl, policy, p.reference_model, p.tokenizer, prompts,
                                                          p.device, p.config.seed + 1, settings.max_new_tokens)
    return metrics


def _beta_figure(histories):
    import matplotlib.pyplot as plt

    from .plots import label, setup_chinese_font, show_step_panels

    setup_chinese_font()
    fig, (ax_loss, ax_gap) = plt.subplots(1, 2, figsize=(11, 4))
    for beta, history in sorted(histories.items()):
        steps = [r["step"] for r in history]
        ax_loss.plot(steps, [r["loss"] for r in history], label=f"β = {beta}")
        ax_gap.plot(steps, [r["rewards/margins"] / beta for r in history], label=f"β = {beta}")
    ax_loss.set_title(label("训练损失", "training loss"))
    ax_gap.set_title(label("log ratio 间隔 = 奖励间隔 / β", "log-ratio margin = reward margin / beta"))
    show_step_panels(fig, (ax_loss, ax_gap))
