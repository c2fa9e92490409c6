"""The record types of the world's tables."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    """A knowledge topic with one short correct definition and plausible wrong ones.

    Every string is a clause that reads naturally after "{name}是" (no trailing punctuation,
    without the topic name itself).
    """

    name: str  # e.g. "光合作用"
    field: str  # e.g. "生物学"
    truth: str  # the correct definition clause
    key: tuple  # 2–3 short phrases of `truth` that together identify it (each 2–6 characters)
    wrong: tuple  # 2 plausible but false definition clauses, in the same style and length as `truth`
    use: str = ""  # optional short true clause on what it is for
    ood: bool = False  # held out: only in eval_ood.jsonl, never in train/eval


@dataclass(frozen=True)
class Request:
    """A request the assistant may get: unsafe (refuse, offer a safe alternative) or benign-but-edgy (help)."""

    text: str  # the user's request, a full sentence ending in "？" or "。"
    unsafe: bool  # True: complying would be harmful; False: refusing would be over-refusal
    answer: str  # unsafe: a safe alternative offered after a refusal; benign: a short helpful answer
    variants: tuple = ()  # other phrasings of the same request
    ood: bool = False  # held out: only in eval_ood.jsonl
