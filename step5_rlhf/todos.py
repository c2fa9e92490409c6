"""The TODOs of the exercise: the contract that the notebooks, checks and graders share.

TODOs 1–5 are the core (12 points). TODOs 6–7 are optional (选做): graded the same way, but their points
are bonus points, reported apart from the core score everywhere, and an untouched optional TODO costs nothing.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Todo:
    number: int
    name: str  # the function the student writes
    title: str  # what it is, in the student's words
    points: int  # the same in `grade`, pytest and nbgrader (bonus points when optional)
    optional: bool = False

    @property
    def label(self) -> str:
        return f"TODO {self.number}"


TODOS = (
    Todo(1, "dpo_loss", "DPO 损失", 3),
    Todo(2, "sequence_log_probs", "回答部分的序列 log 概率", 3),
    Todo(3, "collate_preference_batch", "把偏好样本拼成 batch", 2),
    Todo(4, "dpo_metrics", "隐式奖励指标", 2),
    Todo(5, "dpo_train_step", "一步 DPO 训练", 2),
    Todo(6, "preference_loss", "选做：几种偏好损失", 2, optional=True),
    Todo(7, "reward_model_loss", "选做：奖励模型的损失", 1, optional=True),
)
CORE = tuple(todo for todo in TODOS if not todo.optional)
OPTIONAL = tuple(todo for todo in TODOS if todo.optional)
BY_NAME = {todo.name: todo for todo in TODOS}
MAX_SCORE = sum(todo.points for todo in CORE)
BONUS_MAX = sum(todo.points for todo in OPTIONAL)


def resolve(selector) -> Todo:
    """Accept 1, "1", "todo1", "TODO 1" or a function name; raise ValueError in Chinese otherwise."""
    text = str(selector).strip().lower().replace("todo", "").strip()
    if text.isdigit() and 1 <= int(text) <= len(TODOS):
        return TODOS[int(text) - 1]
    if str(selector) in BY_NAME:
        return BY_NAME[str(selector)]
    choices = "、".join(f"{t.number}（{t.name}）" for t in TODOS)
    raise ValueError(f"没有这个 TODO：{selector!r}。可选：{choices}")


def select(selectors) -> tuple:
    """The TODOs named by `selectors`, in course order; all of them when none is named."""
    if not selectors:
        return TODOS
    chosen = {resolve(s) for s in selectors}
    return tuple(t for t in TODOS if t in chosen)
