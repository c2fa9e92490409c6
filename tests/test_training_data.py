"""偏好数据：坏文件给出文件、行号和原因；提交的数据规模、留出集、裁判与标注一致。"""

import json

import pytest

from step5_rlhf import paths
from step5_rlhf.training.data import PreferenceDataError, load_jsonl, load_preferences, load_showcase
from step5_rlhf.training.judge import explain, judge, topic_of

GOOD = {"prompt": "什么是AI？", "chosen": "AI是人工智能的缩写。", "rejected": "不知道。"}


def _write(tmp_path, lines: list) -> str:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def _line(row) -> bytes:
    return (json.dumps(row, ensure_ascii=False) + "\n").encode()


@pytest.mark.parametrize(
    "bad_line, problem",
    [
        (b'{"prompt": "x", "chosen": \n', "不是合法的 JSON"),
        (b'{"prompt": "\xff\xfe"}\n', "UTF-8"),
        (_line({"prompt": "x", "chosen": "y"}), '缺少字段 "rejected"'),
        (_line({"prompt": "x", "chosen": 3, "rejected": "z"}), '字段 "chosen" 应该是字符串'),
        (_line({"prompt": "x", "chosen": "y", "rejected": "  "}), '字段 "rejected" 是空的回答'),
        (b"[1, 2]\n", "JSON 对象"),
    ],
)
def test_bad_file_names_file_line_and_problem(tmp_path, bad_line, problem):
    path = _write(tmp_path, [_line(GOOD), _line(GOOD), bad_line])
    with pytest.raises(PreferenceDataError) as info:
        load_jsonl(path)
    message = str(info.value)
    assert str(path) in message and "第 3 行" in message and problem in message
    assert isinstance(info.value, ValueError)


def test_committed_data_sizes_and_held_out_prompts():
    train, evals = load_preferences()
    assert len(train) >= 600 and len(evals) >= 150
    train_prompts = {r["prompt"] for r in train}
    assert not train_prompts & {r["prompt"] for r in evals}
    assert len(train_prompts) == len(train)  # varied prompts, none repeated
    assert len({topic_of(r["prompt"]) for r in train}) >= 100


def test_judge_agrees_with_every_label():
    rows = [*sum(load_preferences(), []), *load_showcase()]
    disagreements = [r for r in rows if not judge(r["prompt"], r["chosen"]) or judge(r["prompt"], r["rejected"])]
    assert not disagreements, disagreements[:3]


def test_showcase_has_the_lesson_example():
    first = load_showcase()[0]
    assert first == {"prompt": "什么是AI？", "chosen": "AI是人工智能的缩写，是计算机科学的一个分支……", "rejected": "AI就是机器人。"}
    assert explain(first["prompt"], first["rejected"]) == ["长度 8 不在 15–120 之间"]


def test_data_generator_is_deterministic(tmp_path):
    from step5_rlhf.training.make_data import main

    main(tmp_path)
    for name in ("train.jsonl", "eval.jsonl"):
        assert (tmp_path / name).read_bytes() == (paths.DATA_DIR / name).read_bytes()
