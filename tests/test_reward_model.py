"""奖励模型：与 TRL 的 RewardTrainer 同样的损失；训练后把留出集的 chosen 排在前面；能 save_pretrained 再读回。"""

import copy

import pytest
import torch

from step5_rlhf.rlhf.reward_model import (RewardConfig, bradley_terry_loss, build_reward_model, pair_accuracy,
                                          pair_rewards, score_texts, train_reward_model)
from step5_rlhf.training import TrainConfig
from step5_rlhf.training.data import tokenize_pair
from step5_rlhf.training.run import prepare
from training_fixtures import FAST

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def world():
    config = TrainConfig(**{k: v for k, v in FAST.items() if k not in ("log",)})
    setup = prepare(config)
    return setup


@pytest.mark.parametrize("with_margin", [False, True])
def test_loss_matches_trl_reward_trainer_on_one_batch(world, tmp_path, with_margin):
    """The course's Bradley–Terry loss and the reference's optional TODO 7 equal TRL's RewardTrainer loss."""
    trl = pytest.importorskip("trl")
    from datasets import Dataset

    from step5_rlhf import paths
    from step5_rlhf.modules import load_file

    solution = load_file(paths.SOLUTION, "_reward_reference")
    tokenizer, rows = world["tokenizer"], world["train"][:6]
    margins = [0.3 * i for i in range(len(rows))]  # distinct: they tell which row is where in TRL's shuffled batch
    records = [{**{k: r[k] for k in ("prompt", "chosen", "rejected")}, **({"margin": m} if with_margin else {})}
               for r, m in zip(rows, margins)]
    model = build_reward_model(world["model"], seed=0)
    trainer = trl.RewardTrainer(
        model=model, processing_class=tokenizer, train_dataset=Dataset.from_list(records),
        args=trl.RewardConfig(output_dir=str(tmp_path), per_device_train_batch_size=6, report_to=[], use_cpu=True,
                              max_length=None, disable_tqdm=True))
    batch = next(iter(trainer.get_train_dataloader()))
    model.eval()
    with torch.no_grad():
        theirs = trainer.compute_loss(model, {k: v.clone() for k, v in batch.items()}).item()
        chosen, rejected = pair_rewards(model, [tokenize_pair(tokenizer, r) for r in rows], tokenizer.pad_token_id, "cpu")
        if with_margin:  # put our rows in TRL's order, found by their margins
            order = [min(range(len(margins)), key=lambda i: abs(margins[i] - float(m))) for m in batch["margin"]]
            chosen, rejected, margin = chosen[order], rejected[order], batch["margin"]
            ours = [solution.reward_model_loss(chosen, rejected, margin).item()]
        else:  # a shuffled batch only reorders the pairs: the mean is the same
            ours = [bradley_terry_loss(chosen, rejected).item(), solution.reward_model_loss(chosen, rejected).item()]
    for value in ours:
        assert value == pytest.approx(theirs, abs=1e-6)


def test_training_ranks_held_out_pairs_and_round_trips(world, tmp_path):
    pad = world["tokenizer"].pad_token_id
    model = build_reward_model(copy.deepcopy(world["model"]), seed=0)
    before = pair_accuracy(model, world["eval_examples"], pad, "cpu")
    history = train_reward_model(model, world["train_examples"], pad, "cpu", RewardConfig(steps=60), progress=False)
    after = pair_accuracy(model, world["eval_examples"], pad, "cpu")
    assert len(history) == 60 and history[-1]["loss"] < history[0]["loss"]
    assert after > max(before, 0.6)

    from transformers import AutoModelForSequenceClassification

    model.save_pretrained(tmp_path / "rm")
    loaded = AutoModelForSequenceClassification.from_pretrained(tmp_path / "rm", local_files_only=True)
    rows = world["eval"][:4]
    prompts, answers = [r["prompt"] for r in rows], [r["chosen"] for r in rows]
    assert torch.allclose(score_texts(model, world["tokenizer"], prompts, answers, "cpu"),
                          score_texts(loaded, world["tokenizer"], prompts, answers, "cpu"), atol=1e-5)
