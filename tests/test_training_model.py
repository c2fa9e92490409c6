"""分词器和模型可以 save_pretrained，再用 AutoTokenizer / AutoModelForCausalLM 原样读回。"""

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from step5_rlhf.training.data import tokenize_pair
from step5_rlhf.training.model import build_model, build_tokenizer


def test_round_trip_same_ids_and_logits(tmp_path):
    tokenizer = build_tokenizer(["什么是光合作用？", "光合作用是植物的过程。"])
    model = build_model(tokenizer, seed=0).eval()
    tokenizer.save_pretrained(tmp_path)
    model.save_pretrained(tmp_path)

    tok2 = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    model2 = AutoModelForCausalLM.from_pretrained(tmp_path, local_files_only=True).eval()
    text = "什么是AI？光合作用是过程。"
    ids = tokenizer(text)["input_ids"]
    assert tok2(text)["input_ids"] == ids
    assert ids[0] == tokenizer.bos_token_id and len(ids) == len(text) + 1  # one token per character
    assert tok2.decode(ids, skip_special_tokens=True) == text
    with torch.no_grad():
        x = torch.tensor([ids])
        assert torch.equal(model(input_ids=x).logits, model2(input_ids=x).logits)


def test_pair_tokenization_matches_trl_layout():
    tokenizer = build_tokenizer(["什么是AI？", "AI是人工智能。", "不知道。"])
    ex = tokenize_pair(tokenizer, {"prompt": "什么是AI？", "chosen": "AI是人工智能。", "rejected": "不知道。"})
    assert ex["prompt_ids"][0] == tokenizer.bos_token_id and len(ex["prompt_ids"]) == 1 + len("什么是AI？")
    assert ex["chosen_ids"][-1] == ex["rejected_ids"][-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ex["chosen_ids"], skip_special_tokens=True) == "AI是人工智能。"
