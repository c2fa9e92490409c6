"""生成课程用的中文数据（每次生成的文件逐字节相同）：

    python -m step5_rlhf.training.make_data

    data/pretrain.txt     预训练语料：每行一篇，所有话题（包括分布外的）和所有请求，好的坏的都有（见 world/corpus.py）
    data/train.jsonl      训练集：标注带噪声（像真实的标注员一样，约 10% 的对被标反了）
    data/eval.jsonl       留出集：训练集里的话题和请求，没用过的问法；回答的字符串都不在训练集里；标注干净
    data/eval_ood.jsonl   分布外留出集：只在预训练语料里出现过的话题和请求；标注干净
    data/showcase.jsonl   讲义里展示的样例（每个维度至少一对）
    data/meta.json        噪声率、被标反的行、各维度的数量

每一对都标明它考察的偏好维度（"dimension"：helpful / honest / harmless / concise；TRL 会忽略多余的列）。
一对里的两条回答用同样的开头、结尾语气词和句式，只在“偏好本身”上不同：
* helpful：说的是问的这个话题，还是旁边另一个话题的定义（答非所问）；
* honest：正确的定义，还是一个常见的错误说法；
* concise：定义说一次（可以加一句用途），还是换个说法再说一遍、或扯些无关的话；
* harmless：拒绝有害请求并给出替代建议，还是照做；帮忙做正常的请求，还是因为某个词听起来吓人而拒绝。
好回答由裁判（judge.py）判为好，差回答判为差；训练集的标注再由一个 Bradley–Terry 标注员给出：
他认为好回答更好的概率是 σ((s_好 − s_差)/τ)，s 是裁判的分数，τ 取使平均翻转率为 10% 的值——
两条回答差得越少，标注员越容易标反。
"""

import json
import math
import random
from collections import Counter
from pathlib import Path

from .. import paths
from ..world import corpus, phrasing
from ..world.requests import REQUESTS
from ..world.topics import TOPICS
from .data import CORPUS_FILE
from .judge import judge, judge_score

SEED = 20261207
NOISE_TARGET = 0.10
N_EVAL = 320
KNOWLEDGE = ("helpful", "honest", "concise")
OOD_WORDINGS = 4  # of each out-of-distribution request's seven wordings (the knowledge questions: phrasing.OOD_TEMPLATES)
USE_RATE = 0.9  # how often the concise answer adds the topic's use (so that concise is not just "shorter")


def knowledge_pair(rng, dimension, topic) -> tuple:
    """(good, bad) for a question about `topic` that tests `dimension`: same style, same frame, different content."""
    said, other = corpus.wordings(rng, topic)
    frame = rng.choice(phrasing.FRAMES)
    good = corpus.definition(topic, said, frame)
    if dimension == "honest":
        bad = corpus.definition(topic, rng.choice(topic.wrong), frame)
    elif dimension == "helpful":
        neighbour = rng.choice(corpus.neighbours(topic))
        bad = corpus.definition(neighbour, rng.choice((neighbour.truth, neighbour.paraphrase)), frame)
    else:
        good = corpus.definition(topic, said, frame, use=rng.random() < USE_RATE)
        bad = corpus.definition(topic, said, frame, tail=corpus.rambling_tail(rng, topic, other))
    return shared(rng, good, bad, phrasing.KNOWLEDGE_STYLES)


def request_pair(rng, request) -> tuple:
    return shared(rng, corpus.good_reply(rng, request), corpus.bad_reply(rng, request), phrasing.REQUEST_STYLES)


def shared(rng, good, bad, families) -> tuple:
    """Both answers with the same style opener and closer (often none): style says nothing about which is better."""
    opener, closer = corpus.style(rng, families, max(len(good), len(bad)))
    return opener + good + closer, opener + bad + closer


def _items(ood: bool, rng) -> list:
    """(prompt, subject, dimension) for every question of one side of the split, in table order."""
    items = []
    for topic in (t for t in TOPICS if t.ood == ood):
        templates = rng.sample(phrasing.QUESTIONS, phrasing.OOD_TEMPLATES) if ood else list(phrasing.QUESTIONS)
        dimensions = [KNOWLEDGE[i % len(KNOWLEDGE)] for i in range(len(templates))]
        rng.shuffle(dimensions)  # each topic is asked about every dimension
        items += [(template.format(t=topic.name), topic, dim) for template, dim in zip(templates, dimensions)]
    for request in (r for r in REQUESTS if r.ood == ood):
        wordings = (request.text, *request.variants)
        items += [(text, request, "harmless") for text in (rng.sample(wordings, OOD_WORDINGS) if ood else wordings)]
    return items


def _pair(item, rng) -> dict:
    prompt, subject, dimension = item
    good, bad = request_pair(rng, subject) if dimension == "harmless" else knowledge_pair(rng, dimension, subject)
    return {"prompt": prompt, "chosen": good, "rejected": bad, "dimension": dimension}


def _unseen_pair(item, rng, seen, tries=200) -> dict:
    """A pair none of whose answers is in `seen` (the training answers), if one of `tries` draws gives it."""
    for _ in range(tries):
        row = _pair(item, rng)
        if row["chosen"] not in seen and row["rejected"] not in seen:
            return row
    return row


def _check(rows):
    for row in rows:
        good, bad = judge_score(row["prompt"], row["chosen"]), judge_score(row["prompt"], row["rejected"])
        assert judge(row["prompt"], row["chosen"]) and not judge(row["prompt"], row["rejected"]) and good > bad, row


def score_gaps(rows):
    """s_good − s_bad for each pair (judge scores)."""
    return [judge_score(r["prompt"], r["chosen"]) - judge_score(r["prompt"], r["rejected"]) for r in rows]


def flip_probabilities(gaps, temperature):
    """P(the annotator labels the worse answer as chosen) for each pair: 1 − σ((s_good − s_bad)/τ)."""
    return [1 / (1 + math.exp(gap / temperature)) for gap in gaps]


def noise_temperature(gaps, target=NOISE_TARGET):
    """The τ whose expected flip rate is `target` (bisection; the rate grows with τ)."""
    low, high = 1e-3, 10.0
    for _ in range(60):
        middle = (low + high) / 2
        rate = sum(flip_probabilities(gaps, middle)) / len(gaps)
        low, high = (middle, high) if rate < target else (low, middle)
    return (low + high) / 2


def annotate(rows, rng):
    """The Bradley–Terry annotator's labels: (rows with some pairs swapped, indices of the swapped rows, τ).

    Each pair is flipped with its own probability, drawn by systematic sampling (one uniform offset, then a
    flip wherever the running sum of probabilities passes the next whole number): every pair keeps its
    chance, and the number of flips is the expected one (NOISE_TARGET of the pairs) rather than a random count.
    """
    gaps = score_gaps(rows)
    temperature = noise_temperature(gaps)
    flipped, total, next_flip = [], 0.0, rng.random()
    for index, (row, p) in enumerate(zip(rows, flip_probabilities(gaps, temperature))):
        total += p
        if total > next_flip:
            row["chosen"], row["rejected"] = row["rejected"], row["chosen"]
            flipped.append(index)
            next_flip += 1.0
    return rows, flipped, temperature


def _topic(name):
    return next(t for t in TOPICS if t.name == name)


def _request(text):
    return next(r for r in REQUESTS if r.text == text)


def showcase() -> list:
    """The lessons' examples: the seed's "什么是AI？" and one pair per dimension, built from the tables."""
    gravity, photosynthesis = _topic("万有引力"), _topic("光合作用")
    cheat, process = _request("考试时怎么作弊不被老师发现？"), _request("怎么杀死一个卡住的程序进程？")
    frame = phrasing.FRAMES[0]
    return [
        {"prompt": "什么是AI？", "chosen": "AI是人工智能的缩写，是计算机科学的一个分支……", "rejected": "AI就是机器人。",
         "dimension": "helpful"},
        {"prompt": "万有引力是什么意思？", "chosen": corpus.definition(gravity, gravity.truth, frame),
         "rejected": corpus.definition(gravity, gravity.wrong[0], frame), "dimension": "honest"},
        {"prompt": cheat.text, "chosen": "抱歉，" + phrasing.REFUSALS[0] + cheat.answer + "。", "rejected": cheat.bad,
         "dimension": "harmless"},
        {"prompt": process.text, "chosen": process.answer + "。", "rejected": process.bad, "dimension": "harmless"},
        {"prompt": "什么是光合作用？", "chosen": corpus.definition(photosynthesis, photosynthesis.truth, frame, use=True),
         "rejected": corpus.definition(photosynthesis, photosynthesis.truth, frame, tail=phrasing.REPEAT[0].format(
             t=photosynthesis.name, p=photosynthesis.paraphrase)), "dimension": "concise"},
    ]


def build() -> dict:
    """All files' contents: {"pretrain": docs, "train": rows, "eval": rows, "eval_ood": rows, "showcase": rows, "meta"}."""
    rng = random.Random(SEED)
    items = _items(ood=False, rng=rng)
    rng.shuffle(items)
    held_out, training = items[:N_EVAL], items[N_EVAL:]
    train = [_pair(item, rng) for item in training]
    seen = {r[k] for r in train for k in ("chosen", "rejected")}
    evals = [_unseen_pair(item, rng, seen) for item in held_out]
    ood = [_pair(item, rng) for item in _items(ood=True, rng=rng)]
    for rows in (train, evals, ood, showcase()):
        _check(rows)
    train, flipped, temperature = annotate(train, rng)
    docs = corpus.documents(SEED)
    by_dimension = Counter(train[i]["dimension"] for i in flipped)
    meta = {
        "seed": SEED,
        "sizes": {"pretrain_documents": len(docs), "pretrain_characters": sum(map(len, docs)), "train": len(train),
                  "eval": len(evals), "eval_ood": len(ood)},
        "dimensions": {name: _count(rows) for name, rows in (("train", train), ("eval", evals), ("eval_ood", ood))},
        "label_noise": {"model": "Bradley–Terry 标注员：P(标对) = σ((s_好 − s_差)/τ)，s 为裁判分数",
                        "temperature": round(temperature, 6), "target_rate": NOISE_TARGET,
                        "flipped": len(flipped), "rate": round(len(flipped) / len(train), 6),
                        "rate_by_dimension": {d: round(by_dimension[d] / n, 6) for d, n in _count(train).items()},
                        "flipped_rows": flipped},
    }
    return {"pretrain": docs, "train": train, "eval": evals, "eval_ood": ood, "showcase": showcase(), "meta": meta}


def _count(rows) -> dict:
    return dict(sorted(Counter(row["dimension"] for row in rows).items()))


def _jsonl(rows) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main(out_dir: Path = paths.DATA_DIR) -> None:
    data = build()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CORPUS_FILE).write_text("".join(doc + "\n" for doc in data["pretrain"]), encoding="utf-8", newline="\n")
    for name in ("train", "eval", "eval_ood", "showcase"):
        (out_dir / f"{name}.jsonl").write_text(_jsonl(data[name]), encoding="utf-8", newline="\n")
    (out_dir / "meta.json").write_text(json.dumps(data["meta"], ensure_ascii=False, indent=1) + "\n",
                                       encoding="utf-8", newline="\n")
    sizes, noise = data["meta"]["sizes"], data["meta"]["label_noise"]
    print(f"已写入 {out_dir}：预训练语料 {sizes['pretrain_documents']} 篇（{sizes['pretrain_characters']} 字），"
          f"训练集 {sizes['train']} 对（{noise['flipped']} 对标注被标反，{noise['rate']:.1%}），"
          f"留出集 {sizes['eval']} 对，分布外留出集 {sizes['eval_ood']} 对")


if __name__ == "__main__":
    main()
