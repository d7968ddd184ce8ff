"""The hold a request takes against its user's tokens per day is an upper bound on what it
can be billed: counted here with the embedded model's own tokenizer and chat template (as
the ledger counts it), over plain, long, non-Latin and emoji text, with and without a
system prompt and earlier messages."""

from __future__ import annotations

import pytest

from app.server.answering import AnswerRequest
from app.server.limits import most_tokens
from inference.engines.llama_engine import LlamaCppEngine
from inference.engines.types import ChatMessage

PROMPTS = [
    "Say hello.",
    "x",
    "Summarise the minutes of the meeting. " * 60,
    "請把這份合約的第三條翻譯成英文，並指出任何不尋常的條款。",
    "🙂🎉🚀 " * 40,
    "1234567890" * 30,
]


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize("system", [None, "You are terse."])
def test_the_bound_covers_the_billed_prompt(engine: LlamaCppEngine, prompt: str,
                                            system: str | None) -> None:
    earlier = (ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello! " * 5))
    request = AnswerRequest(prompt=prompt, earlier=earlier, system_prompt=system,
                            max_tokens=1)
    messages = [*([ChatMessage("system", system)] if system else []), *earlier,
                ChatMessage("user", prompt)]
    billed_prompt = engine.count_tokens(messages)
    assert most_tokens(request, system_prompt=None) - 1 >= billed_prompt


def test_the_turns_default_system_prompt_is_counted() -> None:
    request = AnswerRequest(prompt="Hi", max_tokens=10)
    assert most_tokens(request, system_prompt="x" * 500) == \
        most_tokens(request, system_prompt=None) + 500


def test_without_a_cap_there_is_no_bound() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        most_tokens(AnswerRequest(prompt="Hi"), system_prompt=None)
