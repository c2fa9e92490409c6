"""分词器（在预训练语料上训练的 BPE，或字符级）+ 一个很小的 Llama 结构因果语言模型，都能 save_pretrained / from_pretrained。"""

import torch

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"

# Small enough to train on a 2-core CPU. Input and output embeddings are separate: with them tied,
# DPO's push on the output rows of rejected characters also moved those characters' input
# embeddings, and generations fell apart within a hundred steps (judge rate down, KL up).
MODEL_CONFIG = dict(
    hidden_size=64,
    intermediate_size=192,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    max_position_embeddings=128,
    tie_word_embeddings=False,
    attention_dropout=0.0,
)


VOCAB_SIZE = 2000  # BPE tokens learned from the pretraining corpus (about 2 characters per token)
# Punctuation is a token of its own, so no token spans the end of a prompt and the start of an answer.
PUNCTUATION = "，。？！：；、“”‘’（）《》…"


def build_tokenizer(texts, corpus=None, vocab_size=VOCAB_SIZE):
    """一个 PreTrainedTokenizerFast：有预训练语料 corpus 时是在它上面训练的 BPE（词表 vocab_size），
    否则是字符级（每个字一个 token）。texts 和 corpus 里出现过的每个字都在词表里，永远不会出现 <unk>。
    同样的输入，得到同样的词表。"""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = list(corpus or [])
    # Printable ASCII too, so prompts like "什么是AI？" never hit <unk>.
    chars = sorted({ch for text in [*texts, *corpus] for ch in text} | {chr(c) for c in range(33, 127)})
    specials = [PAD, BOS, EOS, UNK]
    if corpus:
        core = Tokenizer(models.BPE(unk_token=UNK))
        core.pre_tokenizer = pre_tokenizers.Split(Regex(f"[{PUNCTUATION}]"), behavior="isolated")
        trainer = trainers.BpeTrainer(vocab_size=max(vocab_size, len(chars) + len(specials)), special_tokens=specials,
                                      initial_alphabet=chars, show_progress=False)
        core.train_from_iterator(corpus, trainer)
    else:
        core = Tokenizer(models.WordLevel({token: i for i, token in enumerate(specials + chars)}, unk_token=UNK))
        core.pre_tokenizer = pre_tokenizers.Split(Regex("(?m)."), behavior="isolated")  # one token per character
    core.decoder = decoders.Fuse()  # join tokens back without spaces
    core.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", special_tokens=[(BOS, core.token_to_id(BOS))]
    )  # every text starts with <bos>, like most decoder LMs
    return PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, bos_token=BOS, eos_token=EOS, unk_token=UNK, padding_side="right"
    )


def build_model(tokenizer, seed=0, **overrides):
    """按 MODEL_CONFIG 新建一个随机初始化的小 Llama 模型（种子固定，权重可复现）。"""
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        **{**MODEL_CONFIG, **overrides},
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def load_model(path):
    """从本地目录读取模型和分词器（绝不联网）。"""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    if tokenizer.pad_token is None:  # many LMs ship without one; TRL does the same
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
