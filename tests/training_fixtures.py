"""训练测试共用的小工具：小数据子集 + 很少的 SFT 步数，让每个测试几秒内跑完。"""

import json

from step5_rlhf import paths
from step5_rlhf.training.data import load_jsonl

# One thread: on a busy 2-core machine (pytest next to notebooks) two threads per process can be 10x slower.
FAST = dict(train_limit=192, eval_limit=48, pretrain={"steps": 40}, sft={"steps": 60}, progress=False, log=None,
            threads=1)


def small_data_dir(path, n_train=96, n_eval=24):
    """把提交的数据截一小段写到 path/ 下（train、eval、eval_ood、showcase；没有预训练语料：直接从零做 SFT）。"""
    path.mkdir(parents=True, exist_ok=True)
    for name, n in (("train", n_train), ("eval", n_eval), ("eval_ood", n_eval), ("showcase", n_eval)):
        rows = load_jsonl(paths.DATA_DIR / f"{name}.jsonl")[:n]
        (path / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                            encoding="utf-8")
    return path
