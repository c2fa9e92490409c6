"""偏好数据的“体检”：有没有表面捷径、评估集是否真的留出、标注和裁判一致到什么程度（测试、讲义 01 和基准都用它）。

捷径要按维度查：合在一起看，“选更长的”也许只对一半，可在某一个维度里它可能每次都对。所以 report() 对每个维度
分别给出每个统计量。
"""

import math
from collections import Counter, defaultdict

from ..world.phrasing import STYLE_WORDS
from .judge import judge_score

SIDES = ("chosen", "rejected")


def longer_chosen_rate(rows) -> float:
    """chosen 比 rejected 长的比例；离 0.5 越远，“选更长（或更短）的”这条捷径越管用。"""
    return sum(len(r["chosen"]) > len(r["rejected"]) for r in rows) / len(rows)


def containment_rate(rows) -> float:
    """一条回答整个包含在另一条里的比例（“差回答 = 好回答 + 一段废话”这样的对，一眼就能看穿）。"""
    return sum(r["chosen"] in r["rejected"] or r["rejected"] in r["chosen"] for r in rows) / len(rows)


def style_shares(rows) -> dict:
    """每一类语气词（犹豫、笃定、开场与结尾的客套话、道歉）出现在 chosen 和 rejected 里的比例：{类: (chosen, rejected)}。"""
    return {family: tuple(sum(any(w in r[side] for w in words) for r in rows) / len(rows) for side in SIDES)
            for family, words in STYLE_WORDS.items()}


def style_gap(rows) -> float:
    """各类语气词在两边出现比例之差的最大值（0 表示语气词完全不泄露哪边更好）。"""
    return max(abs(c - r) for c, r in style_shares(rows).values())


def first_char_votes(train_rows) -> Counter:
    """每个首字在训练集里作为 chosen 开头的次数减去作为 rejected 开头的次数。"""
    votes = Counter()
    for r in train_rows:
        votes[r["chosen"][:1]] += 1
        votes[r["rejected"][:1]] -= 1
    return votes


def first_char_rule_accuracy(train_rows, rows) -> float:
    """只看回答的第一个字来选（规则从训练集学来；两边首字一样时算一半对）能选对多少。"""
    votes = first_char_votes(train_rows)

    def score(r):
        a, b = votes[r["chosen"][:1]], votes[r["rejected"][:1]]
        return 1.0 if a > b else 0.5 if a == b else 0.0

    return sum(map(score, rows)) / len(rows)


def naive_bayes(train_rows):
    """只看回答本身的分类器：按字的朴素贝叶斯（训练集的 chosen 一类、rejected 一类，加一平滑）。返回打分函数。"""
    counts = {side: Counter(ch for r in train_rows for ch in r[side]) for side in SIDES}
    vocabulary = len(set(counts["chosen"]) | set(counts["rejected"])) + 1
    totals = {side: sum(counts[side].values()) + vocabulary for side in SIDES}

    def score(text):  # log P(text | chosen) − log P(text | rejected)
        return sum(math.log((counts["chosen"][ch] + 1) / totals["chosen"])
                   - math.log((counts["rejected"][ch] + 1) / totals["rejected"]) for ch in text)

    return score


def naive_bayes_accuracy(train_rows, rows) -> float:
    """这个分类器在多少对里给 chosen 的分更高（打平算一半）：接近 0.5 说明只看字面分不出好坏。"""
    score = naive_bayes(train_rows)
    results = [(a > b) + 0.5 * (a == b) for a, b in ((score(r["chosen"]), score(r["rejected"])) for r in rows)]
    return sum(results) / len(results)


def reuse_rate(train_rows, rows) -> float:
    """有多少对的 chosen 或 rejected 一字不差地出现在训练集的回答里（留出集应该接近 0）。"""
    seen = {r[side] for r in train_rows for side in SIDES}
    return sum(r["chosen"] in seen or r["rejected"] in seen for r in rows) / len(rows)


def top_rejected_share(rows) -> float:
    """出现最多的那条 rejected 回答占全部对的比例（模板化的差回答会让它很高）。"""
    return Counter(r["rejected"] for r in rows).most_common(1)[0][1] / len(rows)


def judge_agreement(rows) -> float:
    """裁判给 chosen 的分数高于 rejected 的比例（训练集因为标注噪声，会低于 1）。"""
    return sum(judge_score(r["prompt"], r["chosen"]) > judge_score(r["prompt"], r["rejected"]) for r in rows) / len(rows)


def by_dimension(rows) -> dict:
    """{维度: 这个维度的对}，按维度名排序。"""
    groups = defaultdict(list)
    for r in rows:
        groups[r.get("dimension", "all")].append(r)
    return dict(sorted(groups.items()))


def report(train_rows, rows) -> dict:
    """一张体检表：{"all": 全部的对, 维度: 这个维度的对} → 每个统计量（训练集自己没有“重复使用”这一项）。"""
    held_out = rows is not train_rows

    def one(group):
        return {"pairs": len(group), "longer_chosen_rate": longer_chosen_rate(group),
                "containment_rate": containment_rate(group), "style_gap": style_gap(group),
                "naive_bayes": naive_bayes_accuracy(train_rows, group),
                "first_char_rule": first_char_rule_accuracy(train_rows, group),
                "reuse_rate": reuse_rate(train_rows, group) if held_out else None,
                "top_rejected_share": top_rejected_share(group), "judge_agreement": judge_agreement(group)}

    return {"all": one(rows), **{dim: one(group) for dim, group in by_dimension(rows).items()}}
