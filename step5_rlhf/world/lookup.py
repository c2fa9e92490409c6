"""Which topic or request a prompt is about, and character n-gram overlap between texts."""

import functools


@functools.cache
def topics() -> tuple:
    from .topics import TOPICS

    return TOPICS


@functools.cache
def requests() -> tuple:
    from .requests import REQUESTS

    return REQUESTS


@functools.cache
def _request_index() -> dict:
    return {text: request for request in requests() for text in (request.text, *request.variants)}


def find_request(prompt: str):
    """The request whose wording (or one of its variants) is the prompt; None otherwise."""
    return _request_index().get(prompt.strip())


def find_topic(text: str):
    """The topic named in `text` (names never contain one another, so at most one matches)."""
    found = [t for t in topics() if t.name in text]
    return max(found, key=lambda t: len(t.name)) if found else None


def other_topics(text: str, topic) -> list:
    """Topics other than `topic` named in `text`."""
    return [t for t in topics() if t is not topic and t.name in text]


def ngrams(text: str, n: int = 3) -> set:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def recall(reference: str, text: str, n: int = 3) -> float:
    """Share of the reference's character n-grams that appear in text (1.0 = all of it is there)."""
    wanted = ngrams(reference, n)
    return len(wanted & ngrams(text, n)) / len(wanted) if wanted else 0.0
