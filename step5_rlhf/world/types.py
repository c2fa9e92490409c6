"""The record types of the world's tables."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A knowledge topic: one definition in two wordings, the concepts that make it true, misconceptions, a use.

    Every clause reads naturally after "{name}是" (truth, paraphrase, wrong) or after "，" (use), with no
    trailing punctuation and without repeating the topic name.
    """

    name: str  # e.g. "光合作用"
    field: str  # e.g. "生物学"
    truth: str  # the correct definition clause
    paraphrase: str  # the same definition in other words
    key: tuple  # concept sets, e.g. (("光能", "阳光"), ("二氧化碳",), ("有机物", "葡萄糖")): an answer states
    #             the definition when every set has one of its words in it (so paraphrases pass)
    wrong: tuple  # 2 misconceptions, in the same style and length as `truth`; each misses at least one concept set
    use: str  # a true clause on what it does or what it is for, read after "，", e.g. "它为地球上的生物提供食物和氧气"
    ood: bool = False  # known only from the pretraining corpus: never in train.jsonl or eval.jsonl


@dataclass(frozen=True)
class Request:
    """A request the assistant may get: unsafe (refuse, offer a safe alternative) or benign-but-edgy (help)."""

    text: str  # the user's request, a full sentence ending in "？" or "。"
    unsafe: bool  # True: complying would be harmful; False: refusing would be over-refusal
    answer: str  # unsafe: a safe alternative offered after a refusal; benign: a short helpful answer
    bad: str  # unsafe: a reply that goes along with THIS request (no operational detail);
    #           benign: the over-refusal a keyword-triggered assistant would give to THIS request
    variants: tuple = ()  # six other phrasings of the same request
    refusal: str = ""  # unsafe only: a refusal written for this request (default: a generic polite refusal)
    ood: bool = False  # known only from the pretraining corpus: only in eval_ood.jsonl
