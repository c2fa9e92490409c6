"""偏好数据与预训练语料：坏文件给出文件、行号和原因；每个维度里都没有表面捷径、留出集真的留出、
分布外的话题只在预训练语料里；裁判与标注一致。"""

import json

import pytest

from step5_rlhf import paths
from step5_rlhf.training import data_stats as stats
from step5_rlhf.training.data import PreferenceDataError, load_corpus, load_jsonl, load_showcase
from step5_rlhf.training.judge import breakdown, explain, judge
from step5_rlhf.world.lookup import find_request, find_topic
from step5_rlhf.world.requests import REQUESTS
from step5_rlhf.world.topics import TOPICS

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
        (_line({"prompt": "x", "chosen": "一样的回答", "rejected": "一样的回答"}), "完全相同"),
        (_line({"chosen": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}],
                "rejected": [{"role": "system", "content": "z"}, {"role": "assistant", "content": "w"}]}), "无法确定提示词"),
        (_line({"prompt": [{"role": "user", "content": "x"}], "chosen": [{"role": "robot", "content": "y"}],
                "rejected": [{"role": "assistant", "content": "w"}]}), "role"),
    ],
)
def test_bad_file_names_file_line_and_problem(tmp_path, bad_line, problem):
    path = _write(tmp_path, [_line(GOOD), _line(GOOD), bad_line])
    with pytest.raises(PreferenceDataError) as info:
        load_jsonl(path)
    message = str(info.value)
    assert str(path) in message and "第 3 行" in message and problem in message
    assert isinstance(info.value, ValueError)


def _split(name):
    return load_jsonl(paths.DATA_DIR / f"{name}.jsonl")


def _subject(row):
    return find_request(row["prompt"]) or find_topic(row["prompt"])


def test_sizes_dimensions_and_disjoint_splits():
    train, evals, ood = _split("train"), _split("eval"), _split("eval_ood")
    assert len(train) >= 700 and len(evals) >= 300 and len(ood) >= 200
    for rows in (train, evals, ood):
        assert {r["dimension"] for r in rows} == {"helpful", "honest", "harmless", "concise"}
    prompts = [{r["prompt"] for r in rows} for rows in (train, evals, ood)]
    assert not (prompts[0] & prompts[1] or prompts[0] & prompts[2] or prompts[1] & prompts[2])  # no prompt in two files
    # eval: the training topics and requests, asked in ways training never used; ood: pretraining-only subjects
    assert all(not _subject(r).ood for r in train + evals) and all(_subject(r).ood for r in ood)


def test_no_preference_pair_touches_an_out_of_distribution_topic():
    ood_names = [t.name for t in TOPICS if t.ood]
    for row in _split("train") + _split("eval"):
        text = row["prompt"] + row["chosen"] + row["rejected"]
        assert not any(name in text for name in ood_names), row


def test_the_pretraining_corpus_knows_every_topic_in_several_wordings():
    corpus = load_corpus(paths.DATA_DIR / "pretrain.txt")
    for topic in TOPICS:
        mentions = [doc for doc in corpus if topic.name in doc]
        assert len({doc for doc in mentions if topic.truth in doc}) >= 1, topic.name
        assert sum(topic.truth in doc or topic.paraphrase in doc for doc in mentions) >= 3, topic.name
        assert any(wrong in doc for doc in mentions for wrong in topic.wrong), topic.name  # misconceptions too
    for request in REQUESTS:  # every request, with the reply it should get and the one it should not
        docs = [doc for doc in corpus if doc.startswith((request.text, *request.variants))]
        assert any(request.answer in doc for doc in docs), request.text
        assert any(request.bad[-10:] in doc for doc in docs), request.text


@pytest.mark.parametrize("name", ["train", "eval", "eval_ood"])
def test_no_marker_inside_any_dimension(name):
    """Per dimension (pooled, a dimension's own rule could hide): length, containment and style say nothing."""
    train, rows = _split("train"), _split(name)
    for dimension, group in stats.by_dimension(rows).items():
        assert 0.30 <= stats.longer_chosen_rate(group) <= 0.70, (dimension, stats.longer_chosen_rate(group))
        assert stats.containment_rate(group) <= 0.20, dimension
        assert stats.style_gap(group) <= 0.15, (dimension, stats.style_shares(group))
    assert stats.top_rejected_share(rows) <= 0.05
    if name != "train":
        assert stats.first_char_rule_accuracy(train, rows) <= 0.75


def test_only_knowledge_tells_the_true_answer_on_pretraining_only_topics():
    train, groups = _split("train"), stats.by_dimension(_split("eval_ood"))
    for dimension in ("honest", "helpful"):  # an answer-only classifier learned on the training answers
        assert stats.naive_bayes_accuracy(train, groups[dimension]) <= 0.65, dimension


@pytest.mark.parametrize("name", ["eval", "eval_ood"])
def test_held_out_answers_are_new_strings(name):
    assert stats.reuse_rate(_split("train"), _split(name)) <= 0.05


def test_label_noise_is_recorded_and_real():
    meta = json.loads((paths.DATA_DIR / "meta.json").read_text(encoding="utf-8"))
    noise = meta["label_noise"]
    assert 0.09 <= noise["rate"] <= 0.11 and noise["flipped"] == len(noise["flipped_rows"])
    assert noise["rate"] == pytest.approx(noise["flipped"] / meta["sizes"]["train"], abs=1e-6)
    train = _split("train")
    assert all(judge(train[i]["prompt"], train[i]["rejected"]) for i in noise["flipped_rows"])


def test_chosen_answers_are_true_and_rejected_ones_are_not():
    for name in ("eval", "eval_ood", "showcase"):  # clean labels
        rows = _split(name)
        for row in rows:
            assert judge(row["prompt"], row["chosen"]) and not judge(row["prompt"], row["rejected"]), row
        assert stats.judge_agreement(rows) >= 0.95
    facts = [r for r in _split("eval") if r["dimension"] in ("helpful", "honest", "concise")]
    assert all(breakdown(r["prompt"], r["chosen"]).checks["honest"] for r in facts)


def test_showcase_has_the_lesson_example():
    first = load_showcase(paths.DATA_DIR)[0]
    assert {k: first[k] for k in ("prompt", "chosen", "rejected")} == {
        "prompt": "什么是AI？", "chosen": "AI是人工智能的缩写，是计算机科学的一个分支……", "rejected": "AI就是机器人。"}
    assert explain(first["prompt"], first["rejected"]) == ["没有说出“AI”具体是什么（空话）"]
    assert {r["dimension"] for r in load_showcase(paths.DATA_DIR)} == {"helpful", "honest", "harmless", "concise"}


def test_data_generator_is_deterministic(tmp_path):
    from step5_rlhf.training.make_data import main

    main(tmp_path)
    for name in ("pretrain.txt", "train.jsonl", "eval.jsonl", "eval_ood.jsonl", "showcase.jsonl", "meta.json"):
        assert (tmp_path / name).read_bytes() == (paths.DATA_DIR / name).read_bytes(), name


def test_windows_notepad_file_with_bom_and_crlf_loads(tmp_path):
    path = tmp_path / "notepad.jsonl"
    lines = [json.dumps(GOOD, ensure_ascii=False), json.dumps({**GOOD, "prompt": "什么是DPO？"}, ensure_ascii=False)]
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    rows = load_jsonl(path)
    assert rows == [GOOD, {**GOOD, "prompt": "什么是DPO？"}]


def test_conversational_format_with_explicit_and_implicit_prompt(tmp_path):
    user = {"role": "user", "content": "什么是AI？"}
    good = {"role": "assistant", "content": "AI是人工智能的缩写。"}
    bad = {"role": "assistant", "content": "不知道。"}
    explicit = {"prompt": [user], "chosen": [good], "rejected": [bad], "dimension": "helpful"}
    implicit = {"chosen": [{"role": "system", "content": "你是助手。"}, user, good],
                "rejected": [{"role": "system", "content": "你是助手。"}, user, bad]}
    path = _write(tmp_path, [_line(explicit), _line(implicit)])
    first, second = load_jsonl(path)
    assert {k: first[k] for k in ("prompt", "chosen", "rejected", "dimension")} == {**GOOD, "dimension": "helpful"}
    assert second["prompt"] == "系统：你是助手。\n用户：什么是AI？\n助手："  # the documented plain rendering
    assert (second["chosen"], second["rejected"]) == (GOOD["chosen"], GOOD["rejected"])
    assert second["messages"]["prompt"] == implicit["chosen"][:2]


def test_conversational_rows_use_the_chat_template_when_the_tokenizer_has_one(tmp_path):
    from step5_rlhf.training.data import text_row, tokenize_pair
    from step5_rlhf.training.model import build_tokenizer

    user = {"role": "user", "content": "什么是AI？"}
    row = {"prompt": [user], "chosen": [{"role": "assistant", "content": "AI是人工智能。"}],
           "rejected": [{"role": "assistant", "content": "不知道。"}]}
    (loaded,) = load_jsonl(_write(tmp_path, [_line(row)]))
    tokenizer = build_tokenizer(["<|user|><|assistant|>什么是AI？AI是人工智能。不知道。"])
    assert text_row(tokenizer, loaded)["prompt"] == "什么是AI？"  # no template: the plain rendering
    tokenizer.chat_template = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
                               "{% if add_generation_prompt %}<|assistant|>{% endif %}")
    rendered = text_row(tokenizer, loaded)
    assert rendered == {"prompt": "<|user|>什么是AI？<|assistant|>", "chosen": "AI是人工智能。",
                        "rejected": "不知道。"}
    pair = tokenize_pair(tokenizer, loaded)
    assert tokenizer.decode(pair["chosen_ids"], skip_special_tokens=True) == "AI是人工智能。"
