"""A catalogued wrong answer: what a check needs to name the mistake a student made.

The wrong answers themselves (functions) live with the reference solution, for instructors only
(solutions/mistakes.py); students get their outputs on the practice inputs, shipped as data.
"""

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Mistake:
    todo: str
    name: str
    hint: str
    func: Callable = None
