"""The derived Hugging Face checkpoint is the embedded model: same tokens, same logits.

Everything the MLX tests say rests on this: if the derivation (dequantize, undo the Q/K
permutation, rebuild the tokenizer) were wrong, MLX would produce noise and the engine
tests would prove nothing.
"""

from pathlib import Path

import numpy as np
import pytest

from inference.engines.llama_engine import LlamaCppEngine
from inference.engines.mlx_shared import mlx_owner
from tests.conftest import requires_mlx

TEXTS = [
    "Hello world!",
    "The year 2024 had 366 days, didn't it?",
    "  spaces\n\tand tabs  ",
    "<|im_start|>user\nWhat is 12+7?<|im_end|>\n",
    "naïve café 日本語 🙂",
]


def test_rebuilt_tokenizer_matches_llama_cpp(hf_checkpoint: Path,
                                             engine: LlamaCppEngine) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(hf_checkpoint))
    llama = engine._llama
    for text in TEXTS:
        ours = tokenizer.encode(text, add_special_tokens=False)
        theirs = engine._owner.call(
            lambda t=text: llama.tokenize(t.encode(), add_bos=False, special=True))
        assert ours == theirs, text
        assert tokenizer.decode(ours) == text


@requires_mlx
@pytest.mark.parametrize("question", ["What is 2+2?", "Say hi."])
def test_derived_weights_give_llama_cpp_logits(hf_checkpoint: Path, engine: LlamaCppEngine,
                                               question: str) -> None:
    """Next-token logits after a chat prompt, MLX on the derived checkpoint vs llama.cpp on
    the GGUF: llama.cpp quantizes activations to 8 bits for its Q4_1 dot products, so they
    are close, not equal (measured correlation 0.999).

    MLX runs on the app's MLX thread, as in the app: mlx-lm's compiled functions used on
    the main thread after MLX was imported on another crash the interpreter at exit."""

    def mlx_forward() -> tuple[list[int], np.ndarray]:
        import mlx.core as mx
        from mlx_lm import load

        model, tokenizer = load(str(hf_checkpoint))
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                               add_generation_prompt=True, tokenize=False)
        ids = tokenizer.encode(prompt, add_special_tokens=False)
        return ids, np.array(model(mx.array(ids)[None])[0, -1].astype(mx.float32))

    ids, ours = mlx_owner().call(mlx_forward)

    llama = engine._llama

    def llama_logits() -> np.ndarray:
        llama.reset()
        llama.eval(ids)
        return np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1),
                                     shape=(llama.n_vocab(),)).copy()

    theirs = engine._owner.call(llama_logits)
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99
    assert int(ours.argmax()) == int(theirs.argmax())
