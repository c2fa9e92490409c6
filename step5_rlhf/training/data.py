"""读取偏好数据（JSONL），逐行检查，出错时说清楚是哪个文件、第几行、哪里不对。"""

import hashlib
import json
from pathlib import Path

from .. import paths

FIELDS = ("prompt", "chosen", "rejected")
CORPUS_FILE = "pretrain.txt"  # the pretraining corpus in a data folder: one document per line


class PreferenceDataError(ValueError):
    """偏好数据文件有问题（错误信息写明文件、行号和原因）。"""


OPTIONAL_FIELDS = ("dimension",)  # kept when present (TRL ignores extra columns)


def _row(raw: dict, where: str) -> dict:
    """One validated row in the standard format, from a standard or a conversational JSON object."""
    from .conversation import ConversationError, is_conversational, plain

    if not isinstance(raw, dict):
        raise PreferenceDataError(f"{where}：应该是一个 JSON 对象 {{\"prompt\", \"chosen\", \"rejected\"}}")
    for field in ("chosen", "rejected"):
        if field not in raw:
            raise PreferenceDataError(f"{where}：缺少字段 \"{field}\"")
    if is_conversational(raw["chosen"]):
        try:
            row = plain(raw)
        except (ConversationError, TypeError) as error:
            raise PreferenceDataError(f"{where}：{error}") from None
    else:
        if "prompt" not in raw:
            raise PreferenceDataError(f"{where}：缺少字段 \"prompt\"")
        for field in FIELDS:
            if not isinstance(raw[field], str):
                kind = type(raw[field]).__name__
                raise PreferenceDataError(f"{where}：字段 \"{field}\" 应该是字符串，实际是 {kind}")
        row = {field: raw[field] for field in FIELDS}
    for field in ("chosen", "rejected"):
        if not row[field].strip():
            raise PreferenceDataError(f"{where}：字段 \"{field}\" 是空的回答")
    if row["chosen"] == row["rejected"]:
        raise PreferenceDataError(f"{where}：chosen 和 rejected 完全相同，这一对没有偏好可学")
    row.update({key: raw[key] for key in OPTIONAL_FIELDS if isinstance(raw.get(key), str)})
    return row


def load_jsonl(path) -> list:
    """读取一个偏好数据文件，返回 [{"prompt", "chosen", "rejected", ...}, ...]。

    接受 TRL 的两种格式：标准格式（三个字符串字段）和对话格式（消息列表，提示词可以显式给出，
    也可以是 chosen/rejected 共同的开头消息），后者按 `conversation` 模块说明的方式转成文字。
    UTF-8（可以带 BOM，Windows 记事本会加）、LF 或 CRLF 换行都可以。出错时说明文件、行号和原因。
    """
    path = Path(path)
    if not path.is_file():
        raise PreferenceDataError(f"{path}：文件不存在")
    rows = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path} 第 {number} 行"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise PreferenceDataError(f"{where}：不是合法的 UTF-8 编码（第 {error.start + 1} 个字节）") from None
            if number == 1:
                line = line.removeprefix("\ufeff")  # the BOM Windows editors write
            if not line.strip():
                continue  # blank lines are harmless
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise PreferenceDataError(f"{where}：不是合法的 JSON（{error.msg}，第 {error.colno} 列）") from None
            rows.append(_row(row, where))
    if not rows:
        raise PreferenceDataError(f"{path}：文件里没有任何样本")
    return rows


def load_corpus(path) -> list:
    """读取预训练语料：每行一篇文档（UTF-8，可带 BOM；空行跳过）。出错时说明文件和原因。"""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise PreferenceDataError(f"{path}：不是合法的 UTF-8 编码（第 {error.start + 1} 个字节）") from None
    documents = [line.strip() for line in text.removeprefix("\ufeff").splitlines() if line.strip()]
    if not documents:
        raise PreferenceDataError(f"{path}：预训练语料是空的")
    return documents


def load_preferences(data_dir=None) -> tuple:
    """读取 data_dir 下的 train.jsonl 和 eval.jsonl，返回 (训练集, 评估集)。"""
    data_dir = paths.find_data_dir(data_dir)
    return load_jsonl(data_dir / "train.jsonl"), load_jsonl(data_dir / "eval.jsonl")


def load_showcase(data_dir=None) -> list:
    """讲义里展示的几条手写偏好样本（data/showcase.jsonl）。"""
    return load_jsonl(paths.find_data_dir(data_dir) / "showcase.jsonl")


def fingerprint(rows) -> str:
    """数据内容的哈希：SFT 缓存的键的一部分。"""
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def _common_prefix(a, b) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def text_row(tokenizer, row) -> dict:
    """The prompt / chosen / rejected text the model sees: the chat template's rendering of a
    conversational row when the tokenizer has one, else the row's own (plain) text."""
    if row.get("messages") and getattr(tokenizer, "chat_template", None):
        from .conversation import render_with_chat_template

        return render_with_chat_template(tokenizer, row["messages"])
    return {field: row[field] for field in FIELDS}


def tokenize_pair(tokenizer, row) -> dict:
    """把一条偏好样本变成 TODO 3 要的 {"prompt_ids", "chosen_ids", "rejected_ids"}。

    与 TRL 的 DPOTrainer 完全同样的做法：回答末尾加 eos，整段“提示词+回答”一起分词，
    回答从“提示词单独分词”与“提示词+回答分词”开始不同的地方算起。对话格式的样本在分词器
    有聊天模板时用模板渲染。
    """
    row = text_row(tokenizer, row)
    eos = tokenizer.eos_token
    prompt_ids = tokenizer(row["prompt"])["input_ids"]
    full = {}
    for field in ("chosen", "rejected"):
        text = row[field] if row[field].endswith(eos) else row[field] + eos
        full[field] = tokenizer(row["prompt"] + text)["input_ids"]
    cut = min(_common_prefix(prompt_ids, full["chosen"]), _common_prefix(prompt_ids, full["rejected"]))
    return {
        "prompt_ids": prompt_ids[:cut],
        "chosen_ids": full["chosen"][cut:],
        "rejected_ids": full["rejected"][cut:],
    }
