"""基准：偏好数据的体检，每个文件、每个维度一行（issue 里每个门槛的实际值），以及预训练语料的规模。

    python benchmarks/bench_data.py            # 读 data/（提交的数据）
    python benchmarks/bench_data.py --fresh    # 先用 make_data 重新生成到临时文件夹，并检查与提交的逐字节相同

Not a test: the tests assert the thresholds (tests/test_training_data.py); this prints the values, so a
change of the world's tables can be judged by how close each one comes to its threshold.
"""

import argparse
import json
import tempfile
from pathlib import Path

from step5_rlhf import paths
from step5_rlhf.training import data_stats
from step5_rlhf.training.data import CORPUS_FILE, load_corpus, load_jsonl
from step5_rlhf.training.judge import DIMENSION_NAMES

SPLITS = ("train", "eval", "eval_ood")
COLUMNS = (("longer_chosen_rate", "chosen 更长", "30%–70%"), ("containment_rate", "一条包含另一条", "≤ 20%"),
           ("style_gap", "语气词两边之差", "≤ 15 点"), ("naive_bayes", "只看字的朴素贝叶斯", "OOD 诚实/有帮助 ≤ 65%"),
           ("first_char_rule", "只看首字", ""), ("reuse_rate", "回答在训练集里出现过", "留出集 ≤ 5%"),
           ("judge_agreement", "裁判同意标注", "留出集 ≥ 95%"))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="regenerate with make_data first and compare bytes")
    args = parser.parse_args()
    folder = paths.DATA_DIR
    if args.fresh:
        from step5_rlhf.training.make_data import main as make_data

        folder = Path(tempfile.mkdtemp())
        make_data(folder)
        same = all((folder / f).read_bytes() == (paths.DATA_DIR / f).read_bytes()
                   for f in (CORPUS_FILE, "train.jsonl", "eval.jsonl", "eval_ood.jsonl", "showcase.jsonl", "meta.json"))
        print(f"重新生成的数据与提交的{'逐字节相同' if same else '不同！'}")

    corpus = load_corpus(folder / CORPUS_FILE)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    noise = meta["label_noise"]
    print(f"预训练语料 {len(corpus)} 篇，{sum(map(len, corpus))} 字；训练集标注被标反 {noise['rate']:.1%}（"
          + "，".join(f"{DIMENSION_NAMES[d]} {r:.1%}" for d, r in noise["rate_by_dimension"].items()) + "）")
    splits = {name: load_jsonl(folder / f"{name}.jsonl") for name in SPLITS}
    train = splits["train"]
    print("门槛：" + "；".join(f"{title} {limit}" for _, title, limit in COLUMNS if limit))
    print("文件      维度    对数  " + "  ".join(title for _, title, _ in COLUMNS))
    for name, rows in splits.items():
        for dimension, values in data_stats.report(train, rows).items():
            cells = ["—" if values[key] is None else f"{values[key]:.1%}" for key, _, _ in COLUMNS]
            label = "全部" if dimension == "all" else DIMENSION_NAMES[dimension]
            print(f"{name:<9} {label:<4} {values['pairs']:>5}  " + "  ".join(cells))


if __name__ == "__main__":
    main()
