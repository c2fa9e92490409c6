"""偏好数据的“体检”：有没有表面捷径、标注和裁判一致到什么程度（测试、讲义 01 和基准都用它）。"""

from collections import Counter

from .judge import judge_score


def longer_chosen_rate(rows) -> float:
    """chosen 比 rejected 长的比例；接近 0.5 说明“选更长的”这条捷径没用。"""
    return sum(len(r["chosen"]) > len(r["rejected"]) for r in rows) / len(rows)


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


def top_rejected_share(rows) -> float:
    """出现最多的那条 rejected 回答占全部对的比例（模板化的差回答会让它很高）。"""
    return Counter(r["rejected"] for r in rows).most_common(1)[0][1] / len(rows)


def distinct_share(rows, field) -> float:
    """某个字段里不重复的字符串占多少。"""
    return len({r[field] for r in rows}) / len(rows)


def shared_prefix_rate(rows, chars=2) -> float:
    """chosen 与 rejected 开头至少 chars 个字相同的比例：好坏要读到后面才分得出来。"""
    return sum(r["chosen"][:chars] == r["rejected"][:chars] for r in rows) / len(rows)


def judge_agreement(rows) -> float:
    """裁判给 chosen 的分数高于 rejected 的比例（训练集因为标注噪声，会低于 1）。"""
    return sum(judge_score(r["prompt"], r["chosen"]) > judge_score(r["prompt"], r["rejected"]) for r in rows) / len(rows)


def report(train_rows, rows) -> dict:
    """一张体检表：上面全部统计。"""
    return {"longer_chosen_rate": longer_chosen_rate(rows), "first_char_rule": first_char_rule_accuracy(train_rows, rows),
            "top_rejected_share": top_rejected_share(rows), "distinct_chosen": distinct_share(rows, "chosen"),
            "distinct_rejected": distinct_share(rows, "rejected"), "shared_prefix": shared_prefix_rate(rows),
            "judge_agreement": judge_agreement(rows)}
