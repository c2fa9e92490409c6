"""`step5-rlhf compare`：奖励模型、DPO、PPO、best-of-N 都跑一遍（很小的设置），frontier.json 的结构与约定一致。"""

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
                     "--ppo-iterations", "3", "--eval-prompts", "8", "--steps", "10"])
    assert code == 0
    return root / "out"


def test_frontier_json_has_every_method_and_field(frontier):
    result = json.loads((frontier / "frontier.json").read_text(encoding="utf-8"))
    assert set(result["reference"]) >= {"judge_rate", "reward_model_score"}
    assert 0 <= result["reward_model"]["eval_accuracy"] <= 1
    assert result["reward_model"]["loss"] == "todo7"  # the chosen impl's optional TODO 7 trained it
    methods = [p["method"] for p in result["points"]]
    for method in ("dpo", "ppo", "best_of_n"):
        assert methods.count(method) >= 3, methods
    for point in result["points"]:
        assert set(point) >= {"method", "setting", "kl", "judge_rate", "judge_score", "reward_model_score", "seconds",
                              "peak_rss_mb", "seed"}
        assert 0 <= point["judge_rate"] <= 1 and math.isfinite(point["kl"]) and point["peak_rss_mb"] > 0
    assert {tuple(p["setting"]) for p in result["points"]} == {("beta",), ("kl_coef",), ("n",)}
    # best-of-N's KL is the closed form log N − (N−1)/N
    for point in (p for p in result["points"] if p["method"] == "best_of_n"):
        n = point["setting"]["n"]
        assert point["kl"] == pytest.approx(math.log(n) - (n - 1) / n)
    assert (frontier / "frontier.png").stat().st_size > 10_000
    from transformers import AutoModelForSequenceClassification

    reward_model = AutoModelForSequenceClassification.from_pretrained(frontier / "reward_model", local_files_only=True)
    assert reward_model.config.num_labels == 1


def test_summary_table_is_printed_in_chinese(frontier, capsys):
    from step5_rlhf.commands.compare import summary

    text = summary(json.loads((frontier / "frontier.json").read_text(encoding="utf-8")))
    assert "奖励模型留出集准确率" in text and "裁判好回答率" in text and text.count("best_of_n") == 3


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
