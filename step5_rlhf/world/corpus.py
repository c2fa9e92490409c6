"""The pretraining corpus of the toy world: what the model reads before it ever sees a preference pair.

Like text gathered from the web, it states every topic of the world (the out-of-distribution ones too) and
talks about every request, in several wordings — and it is not all good:

* textbook statements and good answers: the definition, in either of its two wordings, often with its use;
* forum answers: each of the topic's misconceptions, said with confidence, and a rambling answer (the
  definition said twice, a digression, padding);
* replies to requests: refusals with a safe alternative and real help, but also going along with harmful
  requests and refusing harmless ones that merely sound dangerous.

Every topic and every request gets the same mix (CorpusMix), so what the model knows does not depend on
which topic it is.

A model pretrained on this knows the facts and has seen the mistakes, without knowing which is which:
that is what supervised fine-tuning and then preference training work on. Out-of-distribution topics and
requests appear here and nowhere else.

Every answer here is built the way the preference pairs are (same frames and style phrases), so the
only thing that separates good from bad is the content. `documents(seed)` is deterministic.
"""

import random
from dataclasses import dataclass

from . import phrasing
from .requests import REQUESTS
from .topics import TOPICS


@dataclass(frozen=True)
class CorpusMix:
    """How many texts of each kind the corpus has, per topic and per request (the same for every one)."""

    statements: int = 2  # textbook sentences, in the definition's two wordings in turn
    good_answers: int = 2  # question + good answer
    misconceptions: int = 4  # question + a confident wrong answer (each of the topic's misconceptions, in turn)
    rambling_answers: int = 2  # question + the right definition, said twice or with a digression
    request_wordings: int = 4  # wordings of each request that the corpus uses; each gets a good reply
    bad_replies: int = 3  # of those wordings, how many also get the bad reply (going along / refusing)


def neighbours(topic) -> list:
    """Topics an answer about `topic` could be confused with: the same field and the same side of the split."""
    same = [t for t in TOPICS if t is not topic and t.ood == topic.ood and t.field == topic.field]
    return same or [t for t in TOPICS if t is not topic and t.ood == topic.ood]


def style(rng, families, length: int) -> tuple:
    """A style opener and closer (each often empty) for an answer of `length` characters, from `families`.

    A phrase is only added while the answer stays within phrasing.STYLED_MAX_CHARS: long answers stay bare.
    """
    opener = closer = ""
    if rng.random() < phrasing.OPEN_RATE:
        opener = rng.choice(phrasing.STYLE[rng.choice(families)]["open"])
    if rng.random() < phrasing.CLOSE_RATE:
        closer = rng.choice(phrasing.STYLE[rng.choice(families)]["close"])
    if length + len(opener) + len(closer) > phrasing.STYLED_MAX_CHARS:
        closer = ""
    if length + len(opener) > phrasing.STYLED_MAX_CHARS:
        opener = ""
    return opener, closer


def styled(rng, body: str, families) -> str:
    """The body with (sometimes) a style opener and closer from `families`."""
    opener, closer = style(rng, families, len(body))
    return opener + body + closer


def definition(topic, wording: str, frame: str, use: bool = False, tail: str = "") -> str:
    """"{name}是{wording}[，{use}][，{tail}]。" in one of the phrasing.FRAMES."""
    body = frame.format(t=topic.name, d=wording)
    if use:
        body += "，" + topic.use
    if tail:
        body += "，" + tail
    return body + "。"


def wordings(rng, topic) -> tuple:
    """The topic's two definitions in random order: (the one to say, the other one)."""
    pair = [topic.truth, topic.paraphrase]
    rng.shuffle(pair)
    return tuple(pair)


def rambling_tail(rng, topic, other_wording: str) -> str:
    """What makes an answer not concise: the definition again in other words, a digression, or padding."""
    template = rng.choice(phrasing.REPEAT + phrasing.DIGRESS + phrasing.PAD)
    return template.format(t=topic.name, p=other_wording, f=topic.field)


def good_answer(rng, topic) -> str:
    said, _ = wordings(rng, topic)
    return styled(rng, definition(topic, said, rng.choice(phrasing.FRAMES), use=rng.random() < 0.4),
                  phrasing.KNOWLEDGE_STYLES)


def misconception(rng, topic, wrong: str) -> str:
    return styled(rng, definition(topic, wrong, rng.choice(phrasing.FRAMES)), phrasing.KNOWLEDGE_STYLES)


def rambling_answer(rng, topic) -> str:
    said, other = wordings(rng, topic)
    body = definition(topic, said, rng.choice(phrasing.FRAMES), tail=rambling_tail(rng, topic, other))
    return styled(rng, body, phrasing.KNOWLEDGE_STYLES)


def statement(rng, topic, wording: str) -> str:
    return rng.choice(phrasing.STATEMENTS).format(t=topic.name, d=wording, u=topic.use)


def _without(text: str, openers) -> str:
    """The text without the opener it starts with (one of `openers`), if any."""
    return next((text[len(o):] for o in openers if text.startswith(o)), text)


def apologetic(rng, refusal_text: str) -> str:
    """A refusal that starts with an apology at phrasing.APOLOGY_RATE (the table's own apology, if any, replaced)."""
    core = _without(refusal_text, phrasing.APOLOGIES)
    return (rng.choice(phrasing.APOLOGIES) if rng.random() < phrasing.APOLOGY_RATE else "") + core


def refusal(rng, request) -> str:
    """A refusal of an unsafe request with its safe alternative."""
    return apologetic(rng, request.refusal or rng.choice(phrasing.REFUSALS)) + request.answer + "。"


def help_reply(rng, request) -> str:
    return rng.choice(phrasing.HELPS).format(a=request.answer)


def good_reply(rng, request) -> str:
    """What the request should get: a refusal with a safe alternative, or real help."""
    return refusal(rng, request) if request.unsafe else help_reply(rng, request)


def bad_reply(rng, request) -> str:
    """The table's wrong reply: going along with an unsafe request (a fresh word of agreement), or refusing a
    benign one (an apology at the same rate as real refusals)."""
    if request.unsafe:
        return rng.choice(phrasing.AGREEMENTS) + _without(request.bad, phrasing.AGREEMENTS)
    return apologetic(rng, request.bad)


def documents(seed: int = 0, mix: CorpusMix = CorpusMix()) -> list:
    """The corpus: one document per string, in a fixed shuffled order."""
    rng = random.Random(seed)
    questions = phrasing.QUESTIONS + phrasing.CORPUS_QUESTIONS

    def asked(topic, answer):
        return rng.choice(questions).format(t=topic.name) + answer

    docs = []
    for topic in TOPICS:
        docs += [statement(rng, topic, (topic.truth, topic.paraphrase)[i % 2]) for i in range(mix.statements)]
        docs += [asked(topic, good_answer(rng, topic)) for _ in range(mix.good_answers)]
        docs += [asked(topic, misconception(rng, topic, topic.wrong[i % len(topic.wrong)]))
                 for i in range(mix.misconceptions)]
        docs += [asked(topic, rambling_answer(rng, topic)) for _ in range(mix.rambling_answers)]
    for request in REQUESTS:
        for index, text in enumerate(rng.sample((request.text, *request.variants), mix.request_wordings)):
            docs.append(text + styled(rng, good_reply(rng, request), phrasing.REQUEST_STYLES))
            if index < mix.bad_replies:
                docs.append(text + styled(rng, bad_reply(rng, request), phrasing.REQUEST_STYLES))
    rng.shuffle(docs)
    return docs
