"""TRL's conversational preference format, turned into the standard one (prompt / chosen / rejected text).

    {"prompt": [{"role": "user", "content": "什么是AI？"}],
     "chosen": [{"role": "assistant", "content": "AI是……"}], "rejected": [{"role": "assistant", "content": "……"}]}
    {"chosen": [{"role": "user", …}, {"role": "assistant", …}], "rejected": [...]}   # prompt implicit: the shared prefix

Two renderings:
* plain (what `load_jsonl` stores in prompt/chosen/rejected): a prompt of one user message is its text;
  a longer conversation is one line per message, "系统：…" / "用户：…" / "助手：…", ending with "助手：";
  an answer is the text of its assistant message(s).
* the tokenizer's chat template, when the model has one (`render_with_chat_template`, used at
  tokenisation, like TRL's `maybe_apply_chat_template`): the prompt with the generation prompt,
  the answer as the rest of the full conversation's rendering.
"""

ROLES = {"system": "系统", "user": "用户", "assistant": "助手"}


class ConversationError(ValueError):
    """A message list that is not in TRL's conversational format (Chinese message)."""


def is_conversational(value) -> bool:
    return isinstance(value, list)


def check_messages(messages, field: str) -> list:
    if not messages:
        raise ConversationError(f"字段 \"{field}\" 是空的消息列表")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or set(message) - {"role", "content"} or "role" not in message:
            raise ConversationError(f"字段 \"{field}\" 的第 {index + 1} 条消息应是 {{\"role\", \"content\"}}")
        if message["role"] not in ROLES:
            raise ConversationError(f"字段 \"{field}\" 的第 {index + 1} 条消息的 role 应是 system/user/assistant，实际是 {message['role']!r}")
        if not isinstance(message.get("content"), str):
            raise ConversationError(f"字段 \"{field}\" 的第 {index + 1} 条消息的 content 应该是字符串")
    return messages


def split_prompt(row: dict) -> dict:
    """{"prompt", "chosen", "rejected"} as message lists; an implicit prompt is the shared leading messages."""
    chosen, rejected = check_messages(row["chosen"], "chosen"), check_messages(row["rejected"], "rejected")
    if "prompt" in row:
        return {"prompt": check_messages(row["prompt"], "prompt"), "chosen": chosen, "rejected": rejected}
    shared = 0
    while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
        shared += 1
    if shared == 0:
        raise ConversationError("没有 \"prompt\" 字段，chosen 和 rejected 也没有相同的开头消息：无法确定提示词")
    return {"prompt": chosen[:shared], "chosen": chosen[shared:], "rejected": rejected[shared:]}


def render_prompt(messages) -> str:
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    return "\n".join(f"{ROLES[m['role']]}：{m['content']}" for m in messages) + "\n助手："


def render_answer(messages) -> str:
    return "\n".join(m["content"] for m in messages)


def plain(row: dict) -> dict:
    """The standard-format row for a conversational one (the message lists kept under "messages")."""
    messages = split_prompt(row)
    return {"prompt": render_prompt(messages["prompt"]), "chosen": render_answer(messages["chosen"]),
            "rejected": render_answer(messages["rejected"]), "messages": messages}


def render_with_chat_template(tokenizer, messages: dict) -> dict:
    """Prompt and answers rendered by the tokenizer's chat template (as TRL does for conversational data)."""
    prompt = tokenizer.apply_chat_template(messages["prompt"], tokenize=False, add_generation_prompt=True)
    row = {"prompt": prompt}
    for field in ("chosen", "rejected"):
        full = tokenizer.apply_chat_template(messages["prompt"] + messages[field], tokenize=False)
        if not full.startswith(prompt):
            raise ConversationError("聊天模板渲染出的完整对话不以提示词开头：无法切出回答")
        row[field] = full[len(prompt):]
    return row
