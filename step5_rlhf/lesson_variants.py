"""第 6 课（选学）的实验：DPO 的几种损失在标注噪声、长度、过拟合和 β 上的表现。讲义单元只调用这里的函数。

所有实验共用一个 SFT 参考模型和它事先算好的 log 概率（`Lab` 建一次）；每个设置从参考模型的一份拷贝开始，
用你的 TODO 2、3、4 和选做 TODO 6（`preference_loss`，经 `--loss-type` 同样的训练步）训练，
再在留出集上量：隐式奖励准确率（留出集的标注是干净的）、裁判好回答率（与第 4 课同一个定义）、
回答的平均长度、KL(π‖π_ref)（每个提示词一个温度 1 的采样）。
"""

import copy
import random
from dataclasses import dataclass

from .notebook_support import SMOKE_NOTE, autograding, percent, show_table, skipped, smoke_test
from .training import evaluate
from .training.config import TrainConfig
from .training.dpo import sequence_logps, train_dpo
from .training.judge import DIMENSION_NAMES, judge_score

LOSS_NAMES = {"sigmoid": "sigmoid（DPO）", "robust": "robust", "hinge": "hinge", "ipo": "ipo", "sigmoid_norm": "sigmoid_norm"}


@dataclass(frozen=True)
class LabSize:
    steps: int = 80  # DPO steps of each setting (as `step5-rlhf train`)
    eval_prompts: int = 60  # held-out prompts judged per setting (sized so that each experiment takes about a minute)
    overfit_pairs: int = 32  # lesson 3: a few pairs seen over and over
    overfit_steps: int = 200
    checkpoints: int = 5  # points of the over-fitting curves
    overfit_kl_prompts: int = 30  # the KL estimate at each checkpoint
    eval_pairs: int = None  # held-out pairs for the accuracy (None: all)


SMOKE = LabSize(steps=4, eval_prompts=8, overfit_pairs=16, overfit_steps=8, checkpoints=2, overfit_kl_prompts=4,
                eval_pairs=16)


class Lab:
    """第 6 课的实验台：一个参考模型（SFT 热启动，读缓存）、它在训练集和留出集上的 log 概率、评估用的提示词。"""

    def __init__(self, impl):
        from .training.run import Pipeline

        self.size = SMOKE if smoke_test() else LabSize()
        if smoke_test():
            print(SMOKE_NOTE)
        config = TrainConfig(impl=impl.__file__, out=None, progress=False, steps=self.size.steps)
        pipeline = Pipeline(config, log=None).scored()
        self.p, self.impl, self.config = pipeline, impl, config
        self.runs = {}  # (loss type, β, ε, extra flipped share) -> evaluation: a setting two experiments share runs once
        self._flipped = {}
        rows = pipeline.setup["eval"]
        self.prompts = list(dict.fromkeys(r["prompt"] for r in rows))[: self.size.eval_prompts]
        self.dimension = {r["prompt"]: r["dimension"] for r in rows}
        self.reference_values = self.evaluate(pipeline.reference_model, config)
        print(f"参考模型准备好了（SFT 热启动{'：读缓存' if pipeline.sft_cached else ''}）；每个设置训练 {config.steps} 步，"
              f"每步 {config.batch_size} 对，在 {len(self.prompts)} 个留出提示词上评估。"
              f"参考模型：裁判好回答率 {percent(self.reference_values['judge_rate'])}，"
              f"回答平均 {self.reference_values['length']:.1f} 字")

    # ------------------------------------------------------------ shared pieces
    def train(self, config, examples=None, ref_logps=None, on_step=None):
        p = self.p
        policy = copy.deepcopy(p.reference_model).requires_grad_(True)
        history = train_dpo(self.impl, policy, examples or p.setup["train_examples"], ref_logps or p.ref_logps["train"],
                            p.pad, p.device, config, on_step=on_step)
        return policy.requires_grad_(False), history

    def evaluate(self, policy, config) -> dict:
        p, n = self.p, self.size.eval_pairs
        ref_logps = tuple(t[:n] for t in p.ref_logps["eval"])
        values = evaluate.preference_metrics(self.impl, policy, ref_logps, p.setup["eval_examples"][:n], p.pad,
                                             p.device, config.beta, config.loss_type, config.label_smoothing)
        # the module's one judge rate: a greedy answer and a few samples per prompt (EvalConfig), as in lesson 04
        answers = evaluate.answers(policy, p.tokenizer, self.prompts, p.device, config.seed, config.evaluation)
        rates = evaluate.judged(self.prompts, answers)
        every = [(q, a) for q, group in zip(self.prompts, answers) for a in group]
        kl, kl_se = evaluate.sampled_kl(self.impl, policy, p.reference_model, p.tokenizer, self.prompts, p.device,
                                        config.seed + 1, config.evaluation.max_new_tokens)
        by_dimension = {}
        for prompt, rate in zip(self.prompts, rates):
            by_dimension.setdefault(self.dimension[prompt], []).append(rate)
        return {"accuracy": values["rewards/accuracies"], "judge_rate": sum(rates) / len(rates),
                "judge_score": sum(judge_score(q, a) for q, a in every) / len(every),
                "length": sum(len(a) for _, a in every) / len(every), "kl": kl, "kl_se": kl_se,
                "by_dimension": {d: sum(v) / len(v) for d, v in sorted(by_dimension.items())}}

    def run(self, extra=0.0, **changes) -> dict:
        """Train one setting (the config changed by `changes`, `extra` of the pairs flipped) and evaluate it."""
        config = self.config.but(**changes)
        key = (config.loss_type, config.beta, config.label_smoothing, extra)
        if key not in self.runs:
            examples, ref_logps, _ = self.flipped(extra) if extra else (None, None, None)
            policy, history = self.train(config, examples, ref_logps)
            self.runs[key] = {**self.evaluate(policy, config), "final_loss": history[-1]["loss"]}
        return self.runs[key]

    # ------------------------------------------------------------ 1. noisy labels
    def flipped(self, extra):
        """The training pairs with `extra` of them (chosen, rejected) swapped; and the share the judge disagrees with."""
        if extra not in self._flipped:
            self._flipped[extra] = self._flip(extra)
        return self._flipped[extra]

    def _flip(self, extra):
        p = self.p
        examples, (ref_c, ref_r) = list(p.setup["train_examples"]), p.ref_logps["train"]
        ref_c, ref_r = ref_c.clone(), ref_r.clone()
        picked = random.Random(7).sample(range(len(examples)), round(extra * len(examples)))
        for i in picked:
            e = examples[i]
            examples[i] = {**e, "chosen_ids": e["rejected_ids"], "rejected_ids": e["chosen_ids"]}
            ref_c[i], ref_r[i] = ref_r[i].clone(), ref_c[i].clone()
        flipped = set(picked)
        rows = p.setup["train"]
        wrong = sum((judge_score(r["prompt"], r["chosen"]) < judge_score(r["prompt"], r["rejected"])) != (i in flipped)
                    for i, r in enumerate(rows))
        return examples, (ref_c, ref_r), wrong / len(rows)

    def noisy_labels(self, extra=(0.0, 0.15, 0.4)):
        """在训练集上另外标反 extra 比例的对：sigmoid 与 robust（ε = 标反比例）各训练一次，看干净的留出集。

        数据本身的噪声水平（extra = 0）只跑 sigmoid：它就是第 4 课的训练，也是后面两个实验的基准。
        """
        results = []
        for share in extra:
            noise = self.flipped(share)[2]
            robust = [("robust", min(round(noise, 2), 0.45))] if share else []
            for loss_type, eps in [("sigmoid", 0.0), *robust]:
                values = self.run(share, loss_type=loss_type, label_smoothing=eps)
                results.append({"noise": noise, "loss_type": loss_type, "eps": eps, **values})
        show_table(["训练集里标反的比例（以裁判为准）", "损失", "ε", "留出集准确率（干净标注）", "裁判好回答率", "KL ± 标准误"], [
            (percent(r["noise"]), LOSS_NAMES[r["loss_type"]], r["eps"] if r["loss_type"] == "robust" else "—",
             percent(r["accuracy"]), percent(r["judge_rate"]), _kl(r)) for r in results])
        return results

    # ------------------------------------------------------------ 2. length
    def length(self, beta=0.1):
        """求和（sigmoid）与按长度归一化（sigmoid_norm）各训练一次：回答长度和分维度的好回答率。

        按长度归一化后 log ratio 是“每个 token 的平均”，数值小了大约“平均回答长度”倍，所以它的 β
        取 beta × 训练集回答的平均 token 数，两种损失的有效尺度才相当。
        """
        examples = self.p.setup["train_examples"]
        mean_tokens = sum(len(e["chosen_ids"]) + len(e["rejected_ids"]) for e in examples) / (2 * len(examples))
        runs = {"参考模型（训练前）": self.reference_values}
        settings = (("sigmoid", beta), ("sigmoid_norm", round(beta * mean_tokens, 2)))
        for loss_type, b in settings:
            runs[f"{LOSS_NAMES[loss_type]}，β = {b}"] = self.run(loss_type=loss_type, beta=b)
        longer = _chosen_longer_by_dimension(self.p.setup["train"])
        dims = sorted(self.reference_values["by_dimension"])
        show_table(["", "回答平均长度（字）", "裁判好回答率", "KL ± 标准误",
                    *[f"{DIMENSION_NAMES.get(d, d)}：好回答率" for d in dims]], [
            (name, f"{v['length']:.1f}", percent(v["judge_rate"]), _kl(v),
             *[percent(v["by_dimension"].get(d, 0.0)) for d in dims]) for name, v in runs.items()])
        show_table(["维度", "训练集里 chosen 比 rejected 长的比例"],
                   [(DIMENSION_NAMES.get(d, d), percent(longer[d])) for d in sorted(longer)])
        print(f"训练集回答平均 {mean_tokens:.1f} 个 token，所以 sigmoid_norm 的 β 取 {beta} × {mean_tokens:.1f} ≈ {settings[1][1]}")
        return runs

    # ------------------------------------------------------------ 3. over-fitting
    def overfitting(self, beta=0.5):
        """同一小撮偏好对反复训练很多步：sigmoid 与 ipo 的长度归一化 log ratio 间隔 z̄ 和 KL 怎样变化。

        β = 0.5：IPO 的目标 1/(2β) = 1，是这么多步里 DPO 也走得到的间隔，两条曲线才看得出谁停、谁不停。
        """
        p, size = self.p, self.size
        examples = p.setup["train_examples"][: size.overfit_pairs]
        ref_c, ref_r = (t[: size.overfit_pairs] for t in p.ref_logps["train"])
        lengths = evaluate.answer_lengths(examples, p.device)
        every = max(1, size.overfit_steps // size.checkpoints)
        curves = {}
        for loss_type in ("sigmoid", "ipo"):
            config = self.config.but(loss_type=loss_type, beta=beta, steps=size.overfit_steps)
            curve = []
            policy_box = {}

            def measure(record, config=config, curve=curve, box=policy_box):
                step = record["step"] + 1
                if step % every and step != config.steps:
                    return
                policy = box["policy"]
                chosen, rejected = sequence_logps(self.impl, policy, examples, p.pad, p.device)
                z = (chosen - ref_c) / lengths[0] - (rejected - ref_r) / lengths[1]
                kl, _ = evaluate.sampled_kl(self.impl, policy, p.reference_model, p.tokenizer,
                                            self.prompts[: size.overfit_kl_prompts], p.device, 11,
                                            config.evaluation.max_new_tokens)
                curve.append({"step": step, "margin": z.mean().item(), "kl": kl})
                policy.train()

            policy = copy.deepcopy(p.reference_model).requires_grad_(True)
            policy_box["policy"] = policy
            train_dpo(self.impl, policy, examples, (ref_c, ref_r), p.pad, p.device, config, on_step=measure)
            curves[loss_type] = curve
        _overfitting_figure(curves, beta)
        return curves

    # ------------------------------------------------------------ 4. β across loss types
    def beta_table(self, betas=(0.1, 0.5), loss_types=("sigmoid", "hinge", "ipo")):
        results = [{"loss_type": loss_type, "beta": beta, **self.run(loss_type=loss_type, beta=beta)}
                   for loss_type in loss_types for beta in betas]
        show_table(["损失", "β", "最后一步的训练损失", "留出集准确率", "裁判好回答率", "KL ± 标准误"], [
            (LOSS_NAMES[r["loss_type"]], r["beta"], f"{r['final_loss']:.3f}", percent(r["accuracy"]), percent(r["judge_rate"]),
             _kl(r)) for r in results])
        return results


def _kl(values) -> str:
    return f"{values['kl']:.2f} ± {values['kl_se']:.2f}"


def _chosen_longer_by_dimension(rows):
    counts = {}
    for r in rows:
        counts.setdefault(r["dimension"], []).append(len(r["chosen"]) > len(r["rejected"]))
    return {d: sum(v) / len(v) for d, v in counts.items()}


def _overfitting_figure(curves, beta):
    import matplotlib.pyplot as plt

    from .plots import label, setup_chinese_font, show_step_panels

    setup_chinese_font()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for loss_type, curve in curves.items():
        steps = [c["step"] for c in curve]
        left.plot(steps, [c["margin"] for c in curve], marker="o", label=LOSS_NAMES[loss_type])
        right.plot(steps, [c["kl"] for c in curve], marker="o", label=LOSS_NAMES[loss_type])
    left.axhline(1 / (2 * beta), color="gray", linestyle="--", label=label(f"IPO 的目标 1/(2β) = {1 / (2 * beta):g}",
                                                                          "IPO target"))
    # no combining macron here: the CJK fonts lack it (and then report the plain "z" as missing too)
    left.set_title(label("训练对上按长度归一化的 log ratio 间隔（平均）", "mean length-normalised margin, training pairs"))
    right.set_title(label("KL(策略‖参考)（留出提示词，采样估计）", "KL(policy‖reference)"))
    show_step_panels(fig, (left, right))


def start(impl):
    """讲义单元调用：impl 可用时建好实验台，否则打印原因并返回 None（后面的单元都会跳过）。"""
    if autograding():
        print("⏭ 自动评分中：实验不计分，这里不再运行。")
        return None
    if skipped(impl, "第 6 课的实验"):
        return None
    return Lab(impl)


def run(lab, experiment, **settings):
    """lab 是 None（TODO 没完成或自动评分中）时跳过，否则运行 lab 的一个实验。"""
    if skipped(lab, "这个实验"):
        return None
    return getattr(lab, experiment)(**settings)
