"""小型 DPO 训练：能学到偏好、写出约定的文件、未完成的 TODO 立即停下、可复现、可换模型。

与 TRL 逐步一致（每种 loss_type）见 test_loss_variants.py。
"""

import json
import math

import pytest
import torch

from step5_rlhf import paths
from step5_rlhf.cli import main
from step5_rlhf.training import TodoNotImplementedError, TrainConfig, run_training
from training_fixtures import FAST, small_data_dir

REQUIRED_KEYS = tuple(f"{split}.{key}" for split in ("eval", "ood") for key in (
    "rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected", "logps/chosen", "logps/rejected",
    "logps/prefers_chosen_reference", "logps/prefers_chosen_policy", "baseline/longer_wins", "baseline/first_char",
    "judge_rate_reference", "judge_rate_policy", "judge_rate_delta_ci95", "kl", "kl_se", "answer_length_reference",
    "answer_length_policy", "distinct_2_reference", "distinct_2_policy",
)) + ("train.seconds", "train.pairs_per_second", "total.seconds", "peak_rss_mb", "time.prepare", "time.reference",
      "time.score", "time.train", "time.evaluate", "time.write")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("sft_cache")


def test_short_run_learns_preference_and_writes_files(tmp_path, cache):
    # every training pair (DPO on 192 of them generalises to new prompts far less well), a short run
    result = run_training(impl="solution", steps=30, out=tmp_path / "run", cache_dir=cache,
                          evaluation={"samples": 2, "bootstrap": 200}, **{**FAST, "train_limit": None})
    first = result.history[0]
    # Step 0: policy == reference, so the loss is log 2 and every implicit reward is (numerically) zero.
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-5) and abs(first["rewards/margins"]) < 1e-4
    assert result["eval.rewards/accuracies"] >= 0.8 and result["eval.rewards/margins"] > 0
    assert result.history[-1]["loss"] < first["loss"]

    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(encoding="utf-8"))
    assert set(REQUIRED_KEYS) <= set(metrics)
    for split in ("eval", "ood"):  # per-dimension judge rates, before and after
        dims = {k.rsplit("/", 1)[1] for k in metrics if k.startswith(f"{split}.judge_rate_policy/")}
        assert dims and all(f"{split}.judge_rate_reference/{d}" in metrics for d in dims)
        low, high = metrics[f"{split}.judge_rate_delta_ci95"]
        assert low <= metrics[f"{split}.judge_rate_policy"] - metrics[f"{split}.judge_rate_reference"] <= high
    config = json.loads((tmp_path / "run" / "config.json").read_text(encoding="utf-8"))
    assert config["steps"] == 30 and config["sft"]["steps"] == 60 and config["pretrain"]["steps"] == 40
    history = (tmp_path / "run" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(history) == 30 and {"loss", "rewards/margins", "grad_norm"} <= set(json.loads(history[0]))
    assert (tmp_path / "run" / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    samples = json.loads((tmp_path / "run" / "samples.json").read_text(encoding="utf-8"))
    assert samples and {"prompt", "reference", "policy"} <= set(samples[0])

    from transformers import AutoModelForCausalLM, AutoTokenizer

    saved = tmp_path / "run" / "model"
    assert AutoTokenizer.from_pretrained(saved, local_files_only=True)("什么是AI？")["input_ids"]
    assert AutoModelForCausalLM.from_pretrained(saved, local_files_only=True).config.num_hidden_layers == 2


def test_untouched_exercise_stops_with_one_chinese_line(tmp_path, capsys):
    code = main(["train", "--impl", "exercise", "--out", str(tmp_path / "x"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("TODO 1（dpo_loss）") and "还没有完成" in err and "--impl solution" in err
    assert "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()  # stopped before any training
    assert all(f"TODO {n}" in err for n in range(1, 6))  # every unfinished TODO is named
    with pytest.raises(TodoNotImplementedError):
        run_training(impl="exercise", out=None, progress=False, log=None)


def test_one_unfinished_todo_is_named(tmp_path):
    source = paths.SOLUTION.read_text(encoding="utf-8")
    marker = '    if not examples:\n        raise ValueError'
    assert marker in source
    partial = source.replace(marker, '    raise NotImplementedError("TODO 3（collate_preference_batch）还没有完成")\n' + marker)
    student = tmp_path / "student.py"
    student.write_text(partial, encoding="utf-8")
    with pytest.raises(TodoNotImplementedError, match=r"^TODO 3（collate_preference_batch）还没有完成：先完成它"):
        run_training(impl=str(student), out=None, progress=False, log=None)


def test_nan_loss_stops_with_a_chinese_message(tmp_path, cache):
    from step5_rlhf.training import TrainingDivergedError

    source = paths.SOLUTION.read_text(encoding="utf-8")
    student = tmp_path / "nan.py"
    student.write_text(source.replace("    return losses.mean()", "    return losses.mean() * float('nan')"), encoding="utf-8")
    with pytest.raises(TrainingDivergedError, match="第 0 步的损失变成了 nan"):
        run_training(impl=str(student), steps=5, out=None, cache_dir=cache, generate=False, **FAST)


def test_same_seed_gives_identical_loss_history(tmp_path):
    runs = [
        run_training(impl="solution", steps=6, out=None, cache_dir=tmp_path / f"cache{i}", generate=False,
                     **{**FAST, "sft": {"steps": 30}})
        for i in range(2)
    ]
    assert not runs[0].sft_cached and not runs[1].sft_cached  # both trained their own SFT model
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[1].history]
    assert runs[0].metrics["eval.rewards/margins"] == runs[1].metrics["eval.rewards/margins"]


def test_local_model_directory_can_replace_the_default(tmp_path):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from step5_rlhf.training.data import load_jsonl
    from step5_rlhf.training.model import build_tokenizer

    rows = [r for name in ("train", "eval", "eval_ood", "showcase") for r in load_jsonl(paths.DATA_DIR / f"{name}.jsonl")]
    tokenizer = build_tokenizer([r[k] for r in rows for k in ("prompt", "chosen", "rejected")])
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=128,
                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")

    result = run_training(impl="solution", steps=4, out=tmp_path / "run", model=str(tmp_path / "tiny"),
                          cache_dir=tmp_path / "cache", generate=False, **{**FAST, "sft": {"steps": 10}})
    assert len(result.history) == 4 and math.isfinite(result.history[-1]["loss"])
    saved = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert saved["model_type"] == "qwen2" and saved["hidden_size"] == 32


def test_cli_runs_on_a_small_data_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STEP5_RLHF_CACHE", str(tmp_path / "cache"))
    data = small_data_dir(tmp_path / "data")
    code = main(["train", "--data", str(data), "--steps", "3", "--out", str(tmp_path / "out"), "--quiet",
                 "--device", "cpu", "--threads", "1", "--pretrain-steps", "20", "--sft-steps", "40", "--eval-samples", "1"])
    out = capsys.readouterr().out
    assert code == 0 and "奖励准确率" in out and "裁判判为好回答的比例" in out and "分维度" in out
    assert (tmp_path / "out" / "metrics.json").is_file()


def test_settings_are_one_config_object():
    config = TrainConfig()
    changed = config.but(beta=0.5, sft={"steps": 3}, evaluation={"samples": 1})
    assert (changed.beta, changed.sft.steps, changed.evaluation.samples) == (0.5, 3, 1)
    assert (config.beta, config.sft.steps) == (0.1, TrainConfig().sft.steps)  # the original is unchanged
    with pytest.raises(TypeError):
        config.but(no_such_setting=1)
