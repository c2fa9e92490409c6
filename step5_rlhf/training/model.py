"""字符级中文分词器 + 一个很小的 Llama 结构因果语言模型，都能 save_pretrained / from_pretrained。"""

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


def build_tokenizer(texts):
    """用 texts 里出现过的全部字符建一个字符级分词器（PreTrainedTokenizerFast）。"""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    # Printable ASCII too, so prompts like "什么是AI？" never hit <unk>.
    chars = sorted({ch for text in texts for ch in text} | {chr(c) for c in range(33, 127)})
    vocab = {token: i for i, token in enumerate([PAD, BOS, EOS, UNK] + chars)}
    core = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("(?m)."), behavior="isolated")  # one token per character
    core.decoder = decoders.Fuse()  # join characters back without spaces
    core.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", special_tokens=[(BOS, vocab[BOS])]
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
