"""规则裁判：判断一条回答是不是“好回答”（本课程的玩具版奖励模型）。

DPO 论文用一个情感分类器给生成结果打分；这里换成一条写得清清楚楚的规则，
这样你能一眼看懂“偏好”到底是什么，也能检查 DPO 之后模型是不是真的学会了它。

一条回答被判为“好回答”（preferred），当且仅当下面五条全部满足：

1. 长度合适：回答有 15 到 120 个字符（太短的回答说不清楚，例如“AI就是机器人。”）。
2. 好好收尾：以句末标点结尾——“。”“！”或省略号“……”。
3. 态度礼貌：不含敷衍的话，例如“不知道”“自己查”“随便”“而已”“懒得”“别问”“无所谓”“谁知道”“没什么好说”。
4. 回应主题：回答里出现提问的主题。主题 = 提示词去掉提问套话（“什么是”“请介绍一下”“吗”……）
   和标点后剩下的部分；回答里只要出现主题中任意连续两个字（主题只有一个字时就是这个字）即可。
5. 给出解释：回答里有解释性的词——“是”“指”“因为”“用来”“可以”“帮助”之一。

`judge(prompt, response)` 返回 True/False；`explain(prompt, response)` 返回没满足的规则（中文），
方便你看清一条回答为什么不算好。
"""

import re

MIN_CHARS, MAX_CHARS = 15, 120
ENDINGS = ("。", "！", "……")
DISMISSIVE = ("不知道", "自己查", "随便", "而已", "懒得", "别问", "无所谓", "谁知道", "没什么好说")
EXPLAINING = ("是", "指", "因为", "用来", "可以", "帮助")

# Stock question phrases, longest first so "是什么意思" goes before "是什么".
_QUESTION_PHRASES = sorted(
    (
        "什么是", "什么叫", "请介绍一下", "介绍一下", "是什么意思", "是什么", "能解释一下", "解释一下",
        "有什么用", "请简单说说", "简单说说", "我想了解", "能讲讲", "是做什么的", "给我讲讲",
        "你知道", "请问", "为什么", "怎么理解", "用一句话说说", "说说", "讲讲", "吗", "吧", "呢", "一下",
    ),
    key=len,
    reverse=True,
)
_PUNCTUATION = re.compile(r"[\s，。！？、：；“”‘’（）《》,.!?:;\"'()…]+")


def topic_of(prompt: str) -> str:
    """提示词里的主题：去掉提问套话和标点后剩下的文字。"""
    text = prompt
    for phrase in _QUESTION_PHRASES:
        text = text.replace(phrase, " ")
    return _PUNCTUATION.sub("", text)


def _mentions_topic(prompt: str, response: str) -> bool:
    topic = topic_of(prompt)
    if not topic:  # nothing to restate
        return True
    if len(topic) == 1:
        return topic in response
    return any(topic[i : i + 2] in response for i in range(len(topic) - 1))


def explain(prompt: str, response: str) -> list:
    """没有满足的规则（中文短句的列表）；空列表表示这是好回答。"""
    problems = []
    if not MIN_CHARS <= len(response) <= MAX_CHARS:
        problems.append(f"长度 {len(response)} 不在 {MIN_CHARS}–{MAX_CHARS} 之间")
    if not response.endswith(ENDINGS):
        problems.append("没有以“。”“！”或“……”结尾")
    bad = [word for word in DISMISSIVE if word in response]
    if bad:
        problems.append(f"有敷衍的话：{'、'.join(bad)}")
    if not _mentions_topic(prompt, response):
        problems.append(f"没有提到主题“{topic_of(prompt)}”")
    if not any(word in response for word in EXPLAINING):
        problems.append("没有解释（缺少“是/指/因为/用来/可以/帮助”）")
    return problems


def judge(prompt: str, response: str) -> bool:
    """规则裁判：这条回答是不是好回答。"""
    return not explain(prompt, response)


def preferred_rate(prompts, responses) -> float:
    """一组回答里被判为好回答的比例（0–1）。"""
    pairs = list(zip(prompts, responses, strict=True))
    return sum(judge(p, r) for p, r in pairs) / max(len(pairs), 1)
