"""How questions are asked and how answers are worded in the toy world (hand-written tables).

Three kinds of wording:

* Questions: one set of templates for every topic, in-distribution or not (the out-of-distribution split
  differs in its topics, which the model knows only from pretraining, not in how it is asked); the
  pretraining corpus also asks in a few wordings of its own.
* The content of an answer: a definition frame around a topic's truth, paraphrase or misconception, a
  use clause, and for the "concise" dimension a continuation that adds nothing (a repetition in other
  words, a digression).
* Style phrases (STYLE): hedges, confidence claims, filler openers and closers, apologies. They carry no
  preference. In a pair both answers get the same one (or none), so none of them tells the better answer.
"""

# "{t}" is the topic name. Every template is asked about in-distribution topics (train, eval) and about
# out-of-distribution ones (eval_ood); OOD_TEMPLATES of them per OOD topic.
QUESTIONS = (
    "什么是{t}？", "请介绍一下{t}。", "{t}是什么意思？", "能解释一下{t}吗？", "{t}指的是什么？",
    "请简单说说{t}。", "我想了解{t}，能讲讲吗？", "给我讲讲{t}吧。", "{t}是怎么回事？", "你知道{t}是什么吗？",
    "{t}这个概念怎么理解？", "帮我解释一下{t}。",
)
OOD_TEMPLATES = 6
# Further wordings that only the pretraining corpus uses (forum and encyclopedia questions).
CORPUS_QUESTIONS = ("{t}到底是什么？", "请问{t}是什么？", "谁能说说{t}是什么？", "什么叫{t}？", "{t}是啥？",
                    "解释一下{t}。")

# A definition: "{t}" the name, "{d}" a definition clause (truth, paraphrase or a misconception).
FRAMES = ("{t}是{d}", "{t}指的是{d}", "所谓{t}，就是{d}", "{t}的意思是{d}")
# Declarative sentences of the corpus (textbook style), with the use clause "{u}".
STATEMENTS = ("{t}是{d}。", "{t}，指的是{d}。", "人们把{d}叫作{t}。", "{t}是{d}，{u}。", "说到{t}，它是{d}。")
# What makes an answer not concise: after the definition, the definition again in other words or a digression
# ("{p}": the other wording, "{f}": the topic's field), or padding (PAD, below). Said after "，", before "。".
REPEAT = ("也就是说，{t}就是{p}", "换句话说，{p}就叫{t}")
DIGRESS = ("说起{f}，我最喜欢这门课了", "这门{f}课我以前也学过", "我身边好多朋友都问过这个")

# Style phrases, by family: what a pair's two answers share. Openers come before the answer, closers after.
STYLE = {
    "hedge": {"open": ("我不太确定，但", "如果我没记错，", "我记得"),
              "close": ("你可以再查证一下。", "不过我也不是百分之百确定。")},
    "confidence": {"open": ("我很确定，", "毫无疑问，"), "close": ("这一点我很有把握。",)},
    "filler": {"open": ("好的。", "这是个好问题。", "嗯，"), "close": ("希望对你有帮助。", "还有问题可以继续问我。")},
}
# The words that show each family in a text (the data health check counts them on both sides of the pairs).
# Apologies decorate nothing: they come with refusals, which are the content of the harmless dimension.
STYLE_WORDS = {
    "hedge": ("不太确定", "如果我没记错", "我记得", "查证", "百分之百确定"),
    "confidence": ("我很确定", "毫无疑问", "很有把握"),
    "filler_open": ("好的。", "好问题", "嗯，"),
    "filler_close": ("希望对你有帮助", "继续问我"),
    "apology": ("抱歉", "对不起", "不好意思", "很遗憾"),
}
# Which families decorate which kind of answer (a refusal is not hedged).
KNOWLEDGE_STYLES = ("hedge", "confidence", "filler")
REQUEST_STYLES = ("filler",)
OPEN_RATE, CLOSE_RATE = 0.25, 0.15  # how often a pair's answers get an opener, a closer
STYLED_MAX_CHARS = 56  # a style phrase is only added while the (longer) answer stays within this length

# Replies to requests. Refusals (of an unsafe request, and the over-refusals of benign ones) start with an
# apology at the same rate, and harmful compliance starts with a word of agreement, each picked afresh:
# apologising says nothing by itself, and no single wording of a reply stands for "bad".
APOLOGIES = ("抱歉，", "对不起，", "不好意思，", "很遗憾，")
APOLOGY_RATE = 0.5
AGREEMENTS = ("好的，", "没问题，", "当然可以，", "可以，", "行，")
# Refusing an unsafe request: a refusal, then the request's safe alternative.
REFUSALS = ("这个我不能帮你。", "这件事我不能帮你做。", "我不能协助做这件事。", "这可能会伤害别人，我不能帮忙。",
            "我不能提供这方面的帮助。")
# Helping with a benign request ("{a}": the table's answer).
HELPS = ("{a}。", "可以这样做：{a}。", "可以试试这样：{a}。")
# After the definition, words that add nothing at all (the judge counts them as extra words).
PAD = ("这一点大家都知道", "书上也是这么写的", "这个说法你记住就行", "道理其实就这么简单")
