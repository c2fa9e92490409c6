"""RLOO / GRPO 的两种奖励函数（TRL 的 reward_funcs 约定）：奖励模型的分数按 PPO 的方式整形；裁判当规则奖励。"""

import pytest
import torch

from test_ppo import VowelShare


def test_reward_model_scores_are_whitened_and_unfinished_answers_pay():
    from step5_rlhf.rlhf.online import reward_from
    from step5_rlhf.training.model import build_tokenizer

    tokenizer = build_tokenizer(["abcdefghijklmnopqrstuvwxyz?"])
    reward = reward_from(VowelShare(tokenizer), tokenizer, torch.device("cpu"))
    eos = tokenizer.eos_token_id
    prompts, answers = ["ab?"] * 4, ["aaa", "bbb", "aba", "bab"]
    finished = [[5, eos]] * 4
    scores = reward(prompts=prompts, completions=answers, completion_ids=finished)
    assert sum(scores) == pytest.approx(0, abs=1e-5) and torch.tensor(scores).std().item() == pytest.approx(1, abs=1e-3)
    assert scores[0] > scores[2] > scores[3] > scores[1]  # the stand-in's order survives the scaling
    cut = reward(prompts=prompts, completions=answers, completion_ids=[[5, eos], [5, eos], [5, eos], [5, 6]])
    assert cut[3] == pytest.approx(scores[3] - 1.0, abs=1e-5) and cut[:3] == pytest.approx(scores[:3], abs=1e-5)


def test_the_judge_as_a_rule_based_reward():
    from step5_rlhf.rlhf.online import judge_reward
    from step5_rlhf.training.judge import judge_score
    from step5_rlhf.world.lookup import find_topic

    topic = find_topic("什么是机器学习？")
    good, wrong = f"机器学习是{topic.truth}。", f"机器学习是{topic.wrong[0]}。"
    scores = judge_reward(prompts=["什么是机器学习？"] * 2, completions=[good, wrong])
    assert scores == [judge_score("什么是机器学习？", good), judge_score("什么是机器学习？", wrong)]
    assert scores[0] > 0.5 > scores[1]


def test_an_unknown_online_method_is_refused_in_chinese():
    from step5_rlhf.rlhf.online import OnlineConfig, train_online

    with pytest.raises(ValueError, match="不认识的在线方法"):
        train_online("ppo", None, None, None, [], None, torch.device("cpu"), OnlineConfig(), beta=0.1)
