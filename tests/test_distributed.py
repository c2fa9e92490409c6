"""`--backend trl` 在 torchrun 下用两个 CPU 进程跑通：结果与单进程一致，只有主进程写文件、打印总结。"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from step5_rlhf.training.distributed import Launch, per_device_batch_size
from training_fixtures import small_data_dir

AUDIT = Path(__file__).parent / "distributed_audit"  # a sitecustomize that records the other ranks' writes
STEPS = 4


def _train(command, cwd, env, out):
    return subprocess.run([*command, "train", "--backend", "trl", "--steps", str(STEPS), "--out", str(out),
                           "--data", str(cwd.parent / "data"), "--impl", "solution", "--device", "cpu", "--quiet",
                           "--pretrain-steps", "20", "--sft-steps", "30", "--eval-samples", "0"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    pytest.importorskip("trl")
    root = tmp_path_factory.mktemp("ddp")
    small_data_dir(root / "data", n_train=64, n_eval=8)
    env = {**os.environ, "STEP5_RLHF_CACHE": str(root / "cache"), "OMP_NUM_THREADS": "1",
           "STEP5_AUDIT_DIR": str(root / "audit"), "PYTHONPATH": os.pathsep.join([str(AUDIT), os.environ.get("PYTHONPATH", "")])}
    (root / "audit").mkdir()
    results = {}
    # Two processes first, with an empty cache: rank 0 trains the SFT warm start while rank 1 waits,
    # then the single process reads the same cached reference.
    for name, command in (("ddp", [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                   "--nproc_per_node", "2", "-m", "step5_rlhf.cli"]),
                          ("single", [sys.executable, "-m", "step5_rlhf.cli"])):
        cwd = root / f"work_{name}"
        cwd.mkdir()
        done = _train(command, cwd, env, "out")
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        out = cwd / "out"
        results[name] = {
            "stdout": done.stdout, "cwd": cwd, "out": out,
            "metrics": json.loads((out / "metrics.json").read_text(encoding="utf-8")),
            "history": [json.loads(line) for line in (out / "history.jsonl").read_text(encoding="utf-8").splitlines()],
        }
    results["audit"] = [json.loads(line) for f in sorted((root / "audit").glob("rank*.jsonl"))
                        for line in f.read_text(encoding="utf-8").splitlines()]
    results["audit_files"] = sorted(f.name for f in (root / "audit").iterdir())
    return results


def test_two_processes_train_the_requested_steps_and_report_once(runs):
    ddp = runs["ddp"]
    assert ddp["metrics"]["train.world_size"] == 2 and runs["single"]["metrics"]["train.world_size"] == 1
    assert [r["step"] for r in ddp["history"]] == list(range(STEPS))
    assert ddp["stdout"].count("结果已写入") == 1 and "2 个进程" in ddp["stdout"]


def test_two_processes_see_the_same_batches_as_one(runs):
    ddp, single = runs["ddp"]["history"], runs["single"]["history"]
    assert abs(ddp[0]["loss"] - single[0]["loss"]) <= 1e-5
    # Same global batch, same order: later steps follow the single-process run too (up to the
    # rounding of averaging gradients across two processes).
    for a, b in zip(ddp, single):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)
        assert a["rewards/accuracies"] == pytest.approx(b["rewards/accuracies"], abs=1e-6)


def test_only_the_main_process_writes(runs):
    assert runs["audit_files"] == ["rank1.jsonl"]  # the audit hook did run in rank 1
    ddp = runs["ddp"]
    for event in runs["audit"]:
        path = Path(event["path"])
        assert not path.is_relative_to(ddp["cwd"]), f"rank 1 wrote {path}"
    written = {p.relative_to(ddp["out"]) for p in ddp["out"].rglob("*")}
    assert written == {p.relative_to(runs["single"]["out"]) for p in runs["single"]["out"].rglob("*")}
    assert {p.name for p in ddp["cwd"].iterdir()} == {"out"}


def test_native_backend_refuses_several_processes_in_chinese(tmp_path):
    env = {**os.environ, "WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}
    done = subprocess.run([sys.executable, "-m", "step5_rlhf.cli", "train", "--quiet", "--out", str(tmp_path / "o")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--backend trl" in done.stderr and "单进程" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "o").exists()


def test_launch_reads_torchrun_variables_and_splits_the_batch():
    launch = Launch.from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert launch.distributed and not launch.is_main and launch.local_rank == 1
    assert not Launch.from_env({}).distributed
    assert per_device_batch_size(16, 2) == (8, None)
    per_device, note = per_device_batch_size(16, 3)
    assert per_device == 5 and "15" in note


@pytest.mark.parametrize("name, kind", [("deepspeed_zero2.yaml", "DEEPSPEED"), ("fsdp.yaml", "FSDP")])
def test_shipped_accelerate_configs_load(name, kind):
    # Only that accelerate reads them: there is no GPU here to run them on.
    config_args = pytest.importorskip("accelerate.commands.config.config_args")
    config = config_args.load_config_from_file(str(Path(__file__).parents[1] / "configs" / "accelerate" / name))
    assert config.distributed_type.name == kind and not config.use_cpu
