import threading
from pathlib import Path

import pytest

from inference.engines.llama_engine import LlamaCppEngine, LlamaSettings
from inference.engines.owned_engine import split_at_stop
from inference.engines.types import (
    ChatMessage,
    ContextOverflowError,
    GenerationRequest,
    ModelInfo,
    ModelLoadError,
)

QUESTION = [ChatMessage("user", "Write a short poem about the sea.")]


def _answer(engine: LlamaCppEngine, **options) -> tuple[str, list]:
    chunks = list(engine.stream(GenerationRequest(messages=QUESTION, **options)))
    return "".join(c.text for c in chunks), chunks


def test_stream_carries_text_counts_and_timings(engine: LlamaCppEngine) -> None:
    text, chunks = _answer(engine, temperature=0, max_tokens=24)
    assert text.strip()
    last = chunks[-1]
    assert last.finish_reason in ("stop", "length")
    assert all(c.finish_reason is None for c in chunks[:-1])
    assert last.completion_tokens <= 24
    assert [c.completion_tokens for c in chunks[:-1]] == list(range(1, len(chunks)))
    assert last.prompt_tokens == engine.count_tokens(QUESTION)
    timings = last.timings
    assert 0 < timings.ttft_s <= timings.total_s
    assert timings.prefill_tps > 0 and timings.decode_tps > 0


def test_temperature_zero_is_deterministic(engine: LlamaCppEngine) -> None:
    assert _answer(engine, temperature=0, max_tokens=20)[0] == \
        _answer(engine, temperature=0, max_tokens=20)[0]


def test_same_seed_same_sample(engine: LlamaCppEngine) -> None:
    first = _answer(engine, temperature=1.0, seed=7, max_tokens=20)[0]
    assert first == _answer(engine, temperature=1.0, seed=7, max_tokens=20)[0]


def test_max_tokens_ends_with_length(engine: LlamaCppEngine) -> None:
    _, chunks = _answer(engine, temperature=0, max_tokens=3)
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].completion_tokens == 3


def test_cancel_stops_between_tokens(engine: LlamaCppEngine) -> None:
    cancel = threading.Event()
    request = GenerationRequest(messages=QUESTION, temperature=0, max_tokens=300)
    chunks = []
    for chunk in engine.stream(request, cancel):
        chunks.append(chunk)
        if len(chunks) == 3:
            cancel.set()
    assert chunks[-1].finish_reason == "cancelled"
    assert chunks[-1].completion_tokens == 4  # the token in flight when cancel was set


def test_an_abandoned_stream_frees_the_model(engine: LlamaCppEngine) -> None:
    stream = engine.stream(GenerationRequest(messages=QUESTION, temperature=0, max_tokens=500))
    next(stream)
    stream.close()
    # The owner thread stops the abandoned answer at its next token and serves this one.
    assert _answer(engine, temperature=0, max_tokens=5)[1][-1].completion_tokens == 5


def test_second_turn_reuses_the_first_turns_kv_cache(engine: LlamaCppEngine) -> None:
    first, chunks = _answer(engine, temperature=0, max_tokens=40)
    follow_up = [*QUESTION, ChatMessage("assistant", first),
                 ChatMessage("user", "Now make it rhyme.")]
    last = list(engine.stream(GenerationRequest(messages=follow_up, temperature=0,
                                                max_tokens=5)))[-1]
    reused = last.timings.prompt_tokens_reused
    assert reused >= chunks[-1].prompt_tokens  # at least the whole first prompt
    assert last.timings.prompt_tokens_evaluated == last.prompt_tokens - reused
    assert last.timings.prompt_tokens_evaluated < 25


def test_logprobs_are_log_probabilities(engine: LlamaCppEngine) -> None:
    _, chunks = _answer(engine, temperature=0, max_tokens=10, logprobs=True)
    values = [c.logprobs[0].logprob for c in chunks if c.logprobs]
    assert len(values) >= 5
    assert all(v <= 0 for v in values)
    assert any(v < -1e-6 for v in values)  # a real distribution, not a constant
    assert _answer(engine, temperature=0, max_tokens=3)[1][0].logprobs is None


def test_stop_strings_end_the_answer_and_are_not_shown(engine: LlamaCppEngine) -> None:
    text, _ = _answer(engine, temperature=0, max_tokens=60)
    word = text.split()[2]
    stopped, chunks = _answer(engine, temperature=0, max_tokens=60, stop=[word])
    assert word not in stopped and text.startswith(stopped)
    assert chunks[-1].finish_reason == "stop"


def test_two_threads_share_one_model_safely(engine: LlamaCppEngine) -> None:
    expected = _answer(engine, temperature=0, max_tokens=16)[0]
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(
        _answer(engine, temperature=0, max_tokens=16)[0])) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


def test_prompt_over_the_context_is_refused_with_counts(model: ModelInfo) -> None:
    small = LlamaCppEngine(model, LlamaSettings(context_length=256))
    small.load()
    try:
        long_prompt = [ChatMessage("user", "tell me about the sea " * 60)]
        with pytest.raises(ContextOverflowError, match=r"model.s context holds 256"):
            list(small.stream(GenerationRequest(messages=long_prompt)))
        short = [ChatMessage("user", "Hi")]
        last = list(small.stream(GenerationRequest(messages=short, max_tokens=None,
                                                   temperature=0)))[-1]
        assert last.prompt_tokens + last.completion_tokens <= 256
        assert last.finish_reason in ("stop", "context")
    finally:
        small.unload()


def test_loading_a_damaged_file_says_why(model: ModelInfo, tmp_path) -> None:
    broken = tmp_path / "broken.gguf"
    with Path(model.path).open("rb") as source:
        broken.write_bytes(source.read(2_000_000))
    engine = LlamaCppEngine(ModelInfo(id="b", name="Broken", path=str(broken), format="gguf",
                                      quantization=None, size_bytes=0, sha256=None))
    with pytest.raises(ModelLoadError, match="is truncated"):
        engine.load()
    assert not engine.loaded


@pytest.mark.parametrize(("text", "expected"), [
    ("hello world", ("hello world", "", False)),
    ("hello STOP more", ("hello ", "", True)),
    ("hello ST", ("hello ", "ST", False)),
    ("S", ("", "S", False)),
])
def testsplit_at_stop(text: str, expected: tuple[str, str, bool]) -> None:
    assert split_at_stop(text, ("STOP",)) == expected


def test_a_context_that_is_not_a_multiple_of_256_is_the_limit(model: ModelInfo) -> None:
    """llama.cpp pads the context to a multiple of 256 (320 -> 512), but llama-cpp-python's
    token buffer holds only the 320 asked for: a prompt that fits 512 but not 320 failed
    with numpy's "could not broadcast input array" (found by `chat --file`'s map-reduce)."""
    engine = LlamaCppEngine(model, LlamaSettings(context_length=320))
    engine.load()
    try:
        assert engine.context_length == 320
        words = " ".join(f"item{n}" for n in range(85))
        messages = [ChatMessage("user", f"List: {words}")]
        assert 256 < engine.count_tokens(messages) < 320 - 4  # past 256, within 320
        chunks = list(engine.stream(GenerationRequest(messages=messages, max_tokens=4,
                                                      temperature=0)))
        assert chunks[-1].finish_reason in ("length", "stop", "context")
    finally:
        engine.unload()


def test_stream_starts_the_answer_before_it_is_read(engine: LlamaCppEngine) -> None:
    # The prompt is evaluated while the caller finishes its own setup (the chat turn writes
    # its answer row then), not once it asks for the first chunk.
    cancel = threading.Event()
    stream = engine.stream(GenerationRequest(messages=QUESTION, temperature=0, max_tokens=3),
                           cancel)
    engine.count_tokens(QUESTION)  # the owner serves calls in order: the answer came first
    cancel.set()
    assert list(stream)[-1].finish_reason == "length"


def test_a_stream_dropped_unread_frees_the_model(engine: LlamaCppEngine) -> None:
    n_prompt = engine.count_tokens(QUESTION)
    stream = engine.stream(GenerationRequest(messages=QUESTION, temperature=0, max_tokens=400))
    del stream  # started at once, then never read: the owner stops it at its next token
    assert engine._owner is not None
    evaluated = engine._owner.call(lambda: engine._llama.n_tokens)  # after the dropped answer
    assert evaluated <= n_prompt + 2
