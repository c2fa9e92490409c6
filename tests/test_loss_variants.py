"""Optional TODO 6 in training: `--loss-type` trains with the chosen impl's preference_loss, and for every
loss type the native loop and TRL's DPOTrainer (given the same settings) agree step by step."""

import copy
import math

import pytest
import torch

from step5_rlhf.cli import main
from step5_rlhf.training import TrainConfig
from step5_rlhf.training.config import LOSS_TYPES
from step5_rlhf.training.dpo import train_dpo
from step5_rlhf.training.run import Pipeline, cache_root
from submissions import make_submission
from training_fixtures import FAST, small_data_dir

SETTINGS = {"sigmoid": 0.0, "robust": 0.2, "hinge": 0.0, "ipo": 0.0, "sigmoid_norm": 0.0}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    fast = {k: v for k, v in FAST.items() if k != "log"}
    # lr 3e-4: large enough that one step of every loss (sigmoid_norm's is divided by the lengths) visibly moves it
    config = TrainConfig(impl="solution", steps=2, lr=3e-4, out=None, generate=False,
                         cache_dir=str(tmp_path_factory.mktemp("cache"))).but(**{**fast, "train_limit": 64})
    return Pipeline(config, log=None).scored()


def test_every_loss_type_of_todo6_is_covered():
    assert tuple(SETTINGS) == LOSS_TYPES


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_native_and_trl_agree_for_every_loss_type(pipeline, loss_type):
    pytest.importorskip("trl")
    from step5_rlhf.training.trl_backend import train_dpo_trl

    p = pipeline
    config = p.config.but(loss_type=loss_type, label_smoothing=SETTINGS[loss_type])
    start = lambda: copy.deepcopy(p.reference_model).requires_grad_(True)  # noqa: E731
    native = train_dpo(p.impl, start(), p.setup["train_examples"], p.ref_logps["train"], p.pad, p.device, config)
    trl = train_dpo_trl(start(), p.tokenizer, p.setup["train"], config, p.device, cache_root(config), p.group)
    # Step 0: policy = reference, so every type's loss is its value at z = 0 (log 2, 1, or (1/(2β))² for IPO).
    expected = {"hinge": 1.0, "ipo": (1 / (2 * config.beta)) ** 2}.get(loss_type, math.log(2))
    assert native[0]["loss"] == pytest.approx(expected, abs=1e-5)
    assert abs(native[0]["loss"] - trl[0]["loss"]) <= 1e-5
    # Step 1 follows one update with that loss's gradient (IPO's and sigmoid_norm's through the lengths).
    assert native[1]["loss"] == pytest.approx(trl[1]["loss"], rel=1e-4, abs=1e-4)
    assert native[1]["loss"] != pytest.approx(native[0]["loss"], abs=1e-6)  # the step really moved the policy


INLINED_TODO5 = """
def dpo_train_step(policy, batch, ref_chosen_log_probs, ref_rejected_log_probs, optimizer, beta=0.1):
    size = ref_chosen_log_probs.shape[0]
    logits = policy(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    lp = sequence_log_probs(logits, batch["input_ids"], batch["loss_mask"])
    z = (lp[:size] - ref_chosen_log_probs) - (lp[size:] - ref_rejected_log_probs)
    loss = -F.logsigmoid(beta * z).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return {"loss": loss.item(), **dpo_metrics(lp[:size], lp[size:], ref_chosen_log_probs, ref_rejected_log_probs, beta)}
"""


def _train(tmp_path, impl, *extra):
    data = small_data_dir(tmp_path / "data", n_train=32, n_eval=8)
    return main(["train", "--impl", str(impl), "--data", str(data), "--quiet", "--steps", "2", "--sft-steps", "2",
                 "--eval-samples", "0", "--threads", "1", "--out", str(tmp_path / "out"), *extra])


def test_loss_type_needs_todo6_and_names_it_in_chinese(tmp_path, capsys, monkeypatch):
    from step5_rlhf import paths
    from step5_rlhf.build_exercise import exercise_source

    monkeypatch.setenv("STEP5_RLHF_CACHE", str(tmp_path / "cache"))
    solution = paths.SOLUTION.read_text(encoding="utf-8")
    exercise = exercise_source(solution)

    def todo6(text):
        return text[text.index("def preference_loss("):text.index("def reward_model_loss(")]

    stubbed = tmp_path / "todo6_untouched.py"  # the core done, TODO 6 as handed out
    stubbed.write_text(solution.replace(todo6(solution), todo6(exercise)), encoding="utf-8")
    assert _train(tmp_path, stubbed, "--loss-type", "ipo") == 2
    assert "TODO 6（preference_loss）还没有完成" in capsys.readouterr().err
    assert _train(tmp_path, stubbed) == 0  # plain DPO does not need the optional TODO
    capsys.readouterr()
    assert main(["train", "--label-smoothing", "0.7", "--loss-type", "robust"]) == 2
    assert "--label-smoothing" in capsys.readouterr().err


def test_a_todo5_with_the_loss_written_inside_cannot_swap_it_and_is_told_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STEP5_RLHF_CACHE", str(tmp_path / "cache"))
    path = make_submission(tmp_path, "inlined", INLINED_TODO5)
    assert _train(tmp_path, path) == 0  # fine for plain DPO
    capsys.readouterr()
    assert _train(tmp_path, path, "--loss-type", "hinge") == 2
    assert "没有调用 dpo_loss" in capsys.readouterr().err


def test_eval_loss_is_the_trained_loss(pipeline):
    from step5_rlhf.training import evaluate

    p = pipeline
    values = evaluate.preference_metrics(p.impl, p.reference_model, p.ref_logps["eval"], p.setup["eval_examples"], p.pad,
                                         p.device, 0.1, "ipo")
    assert values["loss"] == pytest.approx((1 / (2 * 0.1)) ** 2, abs=1e-3)  # policy = reference: z = 0
    assert torch.isfinite(torch.tensor(values["loss"]))
