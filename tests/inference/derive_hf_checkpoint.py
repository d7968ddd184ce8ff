"""Turn a llama-architecture GGUF back into a Hugging Face safetensors checkpoint.

The embedded SmolLM2 GGUF is the only model the tests have, and the MLX path starts from a
Hugging Face checkpoint (config.json + *.safetensors + tokenizer). So we derive one from the
GGUF's own weights: every tensor dequantized with gguf-py, llama.cpp's Q/K row permutation
undone, the config rebuilt from the GGUF metadata, and the tokenizer rebuilt from the GGUF's
token list and merges with `tokenizers` (transformers' own GGUF loader needs torch, which we
do not install). The result answers like the GGUF does, because it holds the same numbers.

Used by the MLX tests (cached per session) and by hand:

    .venv/bin/python -m tests.inference.derive_hf_checkpoint OUT_DIR [GGUF]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

# GGUF tensor name (after "blk.N.") -> Hugging Face Llama name (after "model.layers.N.").
_LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
_CONTROL_TOKEN = 3  # gguf TokenType.CONTROL: special tokens such as <|im_end|>


def _unpermute(weight: np.ndarray, n_head: int) -> np.ndarray:
    """Undo convert_hf_to_gguf.py's permute(): llama.cpp stores each head's rotary halves
    interleaved, Hugging Face stores them as two blocks."""
    half = weight.shape[0] // n_head // 2
    return (weight.reshape(n_head, half, 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def _field(reader: object, key: str) -> object:
    field = reader.fields.get(key)  # type: ignore[attr-defined]
    return None if field is None else field.contents()


def _hf_name(gguf_name: str) -> str:
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    prefix, layer, rest = gguf_name.split(".", 2)
    if prefix != "blk" or rest not in _LAYER_NAMES:
        raise ValueError(f"no Hugging Face name for GGUF tensor {gguf_name}")
    return f"model.layers.{layer}.{_LAYER_NAMES[rest]}"


def _weights(reader: object, n_head: int, n_head_kv: int) -> dict[str, np.ndarray]:
    from gguf.quants import dequantize

    weights: dict[str, np.ndarray] = {}
    for tensor in reader.tensors:  # type: ignore[attr-defined]
        # GGUF lists dimensions fastest-first; numpy (and torch) slowest-first.
        values = dequantize(tensor.data, tensor.tensor_type)
        values = values.reshape(tuple(int(d) for d in reversed(tensor.shape)))
        if tensor.name.endswith("attn_q.weight"):
            values = _unpermute(values, n_head)
        elif tensor.name.endswith("attn_k.weight"):
            values = _unpermute(values, n_head_kv)
        weights[_hf_name(tensor.name)] = np.ascontiguousarray(values.astype(np.float16))
    return weights


def _config(reader: object, weights: dict[str, np.ndarray], vocab_size: int) -> dict:
    arch = _field(reader, "general.architecture")
    if arch != "llama":
        raise ValueError(f"only llama-architecture GGUFs can be derived, not {arch}")

    def meta(key: str) -> object:
        return _field(reader, f"llama.{key}")

    n_head = int(meta("attention.head_count"))
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": int(meta("embedding_length")),
        "intermediate_size": int(meta("feed_forward_length")),
        "num_hidden_layers": int(meta("block_count")),
        "num_attention_heads": n_head,
        "num_key_value_heads": int(meta("attention.head_count_kv") or n_head),
        "max_position_embeddings": int(meta("context_length")),
        "rms_norm_eps": float(meta("attention.layer_norm_rms_epsilon")),
        "rope_theta": float(meta("rope.freq_base") or 10000.0),
        "vocab_size": vocab_size,
        "tie_word_embeddings": "lm_head.weight" not in weights,
        "bos_token_id": int(_field(reader, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(_field(reader, "tokenizer.ggml.eos_token_id")),
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "torch_dtype": "float16",
    }


def _tokenizer(reader: object) -> object:
    """A fast tokenizer equal to the GGUF's byte-level BPE (checked against llama.cpp's
    tokenization in the tests)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    if _field(reader, "tokenizer.ggml.model") != "gpt2":
        raise ValueError("only byte-level BPE (gpt2-style) GGUF tokenizers can be rebuilt")
    tokens = list(_field(reader, "tokenizer.ggml.tokens"))
    types = list(_field(reader, "tokenizer.ggml.token_type"))
    merges = [tuple(m.split(" ", 1)) for m in _field(reader, "tokenizer.ggml.merges")]
    bpe = models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges)
    tokenizer = Tokenizer(bpe)
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    pre = _field(reader, "tokenizer.ggml.pre")
    # llama.cpp's "smollm"/"starcoder" pre-tokenizers split every digit on its own first.
    tokenizer.pre_tokenizer = (
        pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level])
        if pre in ("smollm", "starcoder") else byte_level)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                  for t, kind in zip(tokens, types, strict=True)
                                  if kind == _CONTROL_TOKEN])

    def token(key: str) -> str | None:
        index = _field(reader, f"tokenizer.ggml.{key}_token_id")
        return None if index is None else tokens[int(index)]

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=token("bos"), eos_token=token("eos"),
        unk_token=token("unknown"), pad_token=token("padding"),
        chat_template=_field(reader, "tokenizer.chat_template"),
        model_max_length=int(_field(reader, "llama.context_length")),
    )


def derive(gguf_path: str | Path, out_dir: str | Path) -> Path:
    """Write config.json, model.safetensors and the tokenizer files into `out_dir`."""
    from gguf import GGUFReader
    from safetensors.numpy import save_file

    reader = GGUFReader(str(gguf_path))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _tokenizer(reader)
    n_head = int(_field(reader, "llama.attention.head_count"))
    n_head_kv = int(_field(reader, "llama.attention.head_count_kv") or n_head)
    weights = _weights(reader, n_head, n_head_kv)
    config = _config(reader, weights, vocab_size=len(tokenizer))
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    tokenizer.save_pretrained(str(out))
    return out


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python -m tests.inference.derive_hf_checkpoint OUT_DIR [GGUF]")
    from inference.models.library import embedded_model

    source = sys.argv[2] if len(sys.argv) == 3 else embedded_model().path
    print(derive(source, sys.argv[1]))
