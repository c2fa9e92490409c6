"""第 1 课的数据展示：预训练语料里一个话题的样子、哪些话题只在预训练里出现，以及分维度的数据体检表。"""

from .notebook_support import percent, show_table
from .training import data_stats
from .training.data import CORPUS_FILE, load_corpus
from .training.judge import DIMENSION_NAMES, breakdown

SPLIT_NAMES = {"train": "训练集", "eval": "留出集", "eval_ood": "分布外留出集"}


def corpus_about(data_dir, question, limit=8):
    """预训练语料里提到 question 所问话题的文档，每篇后面注明裁判会怎么判它的回答部分。"""
    from .world.lookup import find_topic

    from .world.phrasing import CORPUS_QUESTIONS, QUESTIONS

    topic = find_topic(question)
    asked = tuple(q.format(t=topic.name) for q in QUESTIONS + CORPUS_QUESTIONS)
    documents = [doc for doc in load_corpus(data_dir / CORPUS_FILE) if topic.name in doc]
    print(f"预训练语料里提到“{topic.name}”的文档一共 {len(documents)} 篇，前 {min(limit, len(documents))} 篇：")
    for doc in documents[:limit]:
        # a question and its answer, or a textbook sentence
        answer = next((doc[len(q):] for q in asked if doc.startswith(q)), doc)
        verdict = breakdown(question, answer)
        print(f"  {doc}\n      → {'裁判：好' if verdict.passed else '裁判：差，' + '；'.join(verdict.problems)}")


def who_knows_what(data_dir, splits):
    """每个话题出现在哪里：预训练语料里有没有、偏好数据的哪个文件里有没有。"""
    from .world.topics import TOPICS

    documents = load_corpus(data_dir / CORPUS_FILE)
    rows = []
    for ood in (False, True):
        topics = [t for t in TOPICS if t.ood == ood]
        counts = [sum(any(t.name in r["prompt"] for r in split) for t in topics) for split in splits.values()]
        rows.append(("只在预训练语料里的话题" if ood else "训练用的话题", len(topics),
                     sum(any(t.name in d for d in documents) for t in topics), *counts))
    show_table(["话题", "个数", "预训练语料里有", *[f"{SPLIT_NAMES[name]}里有" for name in splits]], rows)


def health_table(train, splits):
    """分维度的数据体检：每个文件、每个维度一行（合在一起的“全部”放在最前面）。"""
    rows = []
    for name, split in splits.items():
        report = data_stats.report(train, split)
        for dimension, values in report.items():
            reuse = values["reuse_rate"]
            rows.append((SPLIT_NAMES[name], "全部" if dimension == "all" else DIMENSION_NAMES[dimension],
                         values["pairs"], percent(values["longer_chosen_rate"]), percent(values["containment_rate"]),
                         percent(values["style_gap"]), percent(values["naive_bayes"]),
                         "—" if reuse is None else percent(reuse), percent(values["judge_agreement"])))
    show_table(["文件", "维度", "对数", "chosen 更长", "一条包含另一条", "语气词两边差多少", "只看字的分类器选对",
                "回答在训练集里出现过", "裁判同意标注"], rows)
