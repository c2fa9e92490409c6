"""`step5-rlhf compare`：奖励模型、DPO、PPO、RLOO、GRPO、best-of-N 都跑一遍（很小的设置），frontier.json 的结构与约定一致；
best-of-N 的 KL 估计不超过闭式上界。"""

import json
import math

import pytest

from step5_rlhf.cli import main
from training_fixtures import small_data_dir


@pytest.fixture(scope="module")
def frontier(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    data = small_data_dir(root / "data", n_train=96, n_eval=16)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEP5_RLHF_CACHE", str(root / "cache"))
        code = main(["compare", "--quick", "--impl", "solution", "--out", str(root / "out"), "--data", str(data),
                     "--device", "cpu", "--threads", "1", "--quiet", "--pretrain-steps", "30", "--sft-steps", "40", "--reward-steps", "30",
                     "--ppo-iterations", "3", "--online-steps", "2", "--eval-prompts", "8", "--steps", "10"])
    assert code == 0
    return root / "out"


def test_frontier_json_has_every_method_and_field(frontier):
    result = json.loads((frontier / "frontier.json").read_text(encoding="utf-8"))
    assert set(result["reference"]) >= {"judge_rate", "reward_model_score"}
    assert 0 <= result["reward_model"]["eval_accuracy"] <= 1
    assert result["reward_model"]["loss"] == "todo7"  # the chosen impl's optional TODO 7 trained it
    methods = [p["method"] for p in result["points"]]
    for method in ("dpo", "ppo", "rloo", "grpo", "best_of_n"):
        assert methods.count(method) >= 3, methods
    for point in result["points"]:
        assert set(point) >= {"method", "setting", "kl", "judge_rate", "judge_score", "reward_model_score", "seconds",
                              "peak_rss_mb", "seed"}
        assert 0 <= point["judge_rate"] <= 1 and math.isfinite(point["kl"]) and point["peak_rss_mb"] > 0
    assert {tuple(p["setting"]) for p in result["points"]} == {("beta",), ("kl_coef",), ("n",)}
    # what each point optimised is on the point: GRPO the judge as a rule (no reward model in memory then)
    rewards = {p["method"]: p["reward"] for p in result["points"]}
    assert rewards == {"dpo": "preference_data", "ppo": "reward_model", "rloo": "reward_model", "grpo": "judge",
                       "best_of_n": "reward_model"}
    assert all(p["models_in_memory"].startswith("2") for p in result["points"] if p["method"] == "grpo")
    # best-of-N's KL is estimated from its samples, never above the closed form log N − (N−1)/N, kept as the bound
    for point in (p for p in result["points"] if p["method"] == "best_of_n"):
        n = point["setting"]["n"]
        assert point["kl_bound"] == pytest.approx(math.log(n) - (n - 1) / n)
        assert 0 <= point["kl"] <= point["kl_bound"] + 1e-9 and 0 <= point["repeated_share"] < 1
    assert (frontier / "frontier.png").stat().st_size > 10_000
    from transformers import AutoModelForSequenceClassification

    reward_model = AutoModelForSequenceClassification.from_pretrained(frontier / "reward_model", local_files_only=True)
    assert reward_model.config.num_labels == 1


def test_summary_table_is_printed_in_chinese(frontier, capsys):
    from step5_rlhf.commands.compare import summary

    text = summary(json.loads((frontier / "frontier.json").read_text(encoding="utf-8")))
    assert "奖励模型留出集准确率" in text and "裁判好回答率" in text
    rows = [line.split()[0] for line in text.splitlines()[2:] if line.split()[1:2] and "=" in line.split()[1]]
    assert all(rows.count(method) == 3 for method in ("DPO", "PPO", "RLOO", "GRPO", "best-of-N")), rows
    assert "best-of-N 的 KL 是从样本估计的" in text and "上界" in text


def test_reward_model_uses_todo7_only_when_it_is_done(tmp_path):
    """An untouched optional TODO 7 does not stop compare: the course's Bradley–Terry loss, said so in Chinese."""
    from step5_rlhf import paths
    from step5_rlhf.rlhf.compare import CompareConfig, Comparison
    from step5_rlhf.rlhf.reward_model import bradley_terry_loss
    from step5_rlhf.training.impl import load_impl

    said = []
    comparison = Comparison(CompareConfig(), log=said.append)
    comparison.impl = load_impl(str(paths.SOLUTION))
    assert comparison.reward_loss() == (comparison.impl.reward_model_loss, "todo7")
    # core TODOs done, TODO 7 untouched: the reference with TODO 7's stub put back
    source = paths.SOLUTION.read_text(encoding="utf-8")
    start = source.index("    ### BEGIN SOLUTION\n    difference = chosen_rewards - rejected_rewards")
    end = source.index("### END SOLUTION\n", start) + len("### END SOLUTION\n")
    stubbed = tmp_path / "todo7_untouched.py"
    stubbed.write_text(source[:start] + "    raise NotImplementedError\n" + source[end:], encoding="utf-8")
    comparison.impl = load_impl(str(stubbed))
    assert comparison.reward_loss() == (bradley_terry_loss, "course")
    assert "课程自带的 Bradley–Terry 损失" in said[-1] and "TODO 7" in said[-1]


@pytest.mark.parametrize("n", [1, 2, 4, 8, 16, 64])
def test_best_of_n_kl_estimate_is_at_most_the_closed_form(n):
    """Beirami et al.'s estimate: the bound when the best answer is rare, 0 when it is the only answer, never above."""
    from step5_rlhf.rlhf.compare import best_of_n_kl

    bound = math.log(n) - (n - 1) / n
    estimates = [best_of_n_kl(n, math.log(eps)) for eps in (1e-12, 1e-6, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.9, 0.999)]
    assert all(0 <= kl <= bound + 1e-9 for kl in estimates), estimates
    assert estimates[0] == pytest.approx(bound, abs=1e-6)
    assert best_of_n_kl(n, 0.0) == 0.0
    assert all(a >= b - 1e-12 for a, b in zip(estimates, estimates[1:]))  # the likelier the best answer, the closer to the reference


def test_best_of_n_kl_estimate_matches_the_exact_kl_of_a_uniform_reference():
    """A reference uniform over K answers with distinct rewards: best-of-n picks answer i (ranked from the worst)
    with probability (i/K)^n − ((i−1)/K)^n, so its KL is exact. The estimate, from the top answer's 1/K, is close."""
    from step5_rlhf.rlhf.compare import best_of_n_kl

    for answers in (50, 1000):
        for n in (2, 4, 8):
            picks = [(i / answers) ** n - ((i - 1) / answers) ** n for i in range(1, answers + 1)]
            exact = sum(p * math.log(p * answers) for p in picks if p > 0)
            estimate = best_of_n_kl(n, -math.log(answers))
            assert exact <= math.log(n) - (n - 1) / n + 1e-9
            assert estimate == pytest.approx(exact, abs=0.02 + 2 * n / answers), (answers, n, exact, estimate)


def test_the_lesson_reads_the_frontier_from_the_numbers(capsys):
    """Lesson 5's reading: the noise threshold, each method's best point within KL ≤ 2 with its verdict, the
    over-optimised point (reward model up, judge flat) and best-of-N's estimate beside its bound."""
    from step5_rlhf.lesson_compare import describe

    def point(method, setting, rate, rm, kl, **more):
        return {"method": method, "setting": setting, "seed": 0, "judge_rate": rate, "reward_model_score": rm,
                "kl": kl, **more}

    result = {"reference": {"judge_rate": 0.25, "reward_model_score": -1.0},
              "settings": {"eval_prompts": 400, "samples_per_prompt": 2},
              "points": [point("dpo", {"beta": 0.1}, 0.40, -0.5, 1.0), point("dpo", {"beta": 0.05}, 0.60, -0.4, 3.0),
                         point("ppo", {"kl_coef": 0.1}, 0.26, 2.0, 1.5),
                         point("best_of_n", {"n": 4}, 0.35, 1.0, 0.5, kl_bound=0.64, repeated_share=0.2)]}
    describe(result)
    text = capsys.readouterr().out
    assert "800 个温度 1 的回答" in text
    assert "DPO      （beta = 0.1，KL 1.00）：+15.0%" in text and "高于参考模型" in text  # the KL-3 point is out of budget
    assert "PPO      （kl_coef = 0.1，KL 1.50）：+1.0%" in text and "和参考模型分不开" in text
    assert "③ 奖励模型分数涨得多、裁判好回答率却没有显著上升的点" in text and "PPO（kl_coef = 0.1，奖励模型分数 +2.00" in text
    assert "N = 4 估计 0.50（上界 0.64）" in text and "20% 是同一提示词下的重复" in text
