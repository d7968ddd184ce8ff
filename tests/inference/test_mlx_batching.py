"""BatchedMlxEngine on real MLX (the CPU backend here) with the MLX 4-bit model made from the
embedded model's weights: many streams decoded together by mlx-lm's BatchGenerator."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.engines.batching import BatchSettings
from inference.engines.manager import EngineManager
from inference.engines.mlx_batching import BatchedMlxEngine
from inference.engines.mlx_engine import MlxEngine
from inference.engines.types import (
    ChatMessage,
    ContextOverflowError,
    EngineBusyError,
    EngineError,
    GenerationRequest,
    ModelInfo,
    ModelLoadError,
    RequestTooLongError,
)
from inference.models.library import ModelLibrary
from tests.conftest import requires_mlx
from tests.inference.test_batching import _drain_all, _text, _Timed

PROMPTS = [
    "Write a short poem about the sea.",
    "What is the capital of France?",
    "List three fruits.",
    "Explain gravity to a child.",
]


def _request(prompt: str, **options) -> GenerationRequest:
    options.setdefault("temperature", 0)
    options.setdefault("max_tokens", 12)
    return GenerationRequest(messages=[ChatMessage("user", prompt)], **options)


@pytest.fixture(scope="module")
def mlx_model(mlx_4bit_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelInfo:
    return ModelLibrary(tmp_path_factory.mktemp("library")).register(mlx_4bit_dir)


@pytest.fixture(scope="module")
def batched(mlx_model: ModelInfo) -> Iterator[BatchedMlxEngine]:
    engine = BatchedMlxEngine(mlx_model, BatchSettings(slots=4, context_per_slot=512))
    engine.load()
    yield engine
    engine.unload()


@pytest.fixture
def small_engine(mlx_model: ModelInfo):
    """Makes engines with the settings a test needs; unloads them after it."""
    engines: list[BatchedMlxEngine] = []

    def make(**settings) -> BatchedMlxEngine:
        settings.setdefault("context_per_slot", 512)
        engine = BatchedMlxEngine(mlx_model, BatchSettings(**settings))
        engine.load()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.unload()


@requires_mlx
def test_greedy_answers_together_equal_each_alone(batched: BatchedMlxEngine,
                                                  mlx_model: ModelInfo) -> None:
    alone = [_text(list(batched.stream(_request(p, max_tokens=16)))) for p in PROMPTS]
    # Different owners, so no answer starts from another's kept cache.
    together = _drain_all([batched.stream(_request(p, max_tokens=16), owner=f"u{i}")
                           for i, p in enumerate(PROMPTS)])
    assert [_text(chunks) for chunks in together] == alone
    assert len(set(alone)) == 4
    single = MlxEngine(mlx_model, context_length=512)
    single.load()
    try:
        assert _text(list(single.stream(_request(PROMPTS[1], max_tokens=16)))) == alone[1]
    finally:
        single.unload()


@requires_mlx
def test_concurrent_streams_carry_counts_timings_and_logprobs(
        batched: BatchedMlxEngine) -> None:
    # Six streams on four slots: two wait, then take the slots the first ones free.
    requests = [_request(PROMPTS[i % 4] + " " * (i // 4), max_tokens=8, logprobs=True)
                for i in range(6)]
    results = _drain_all([batched.stream(r, owner=f"user{i}") for i, r in enumerate(requests)])
    for request, chunks in zip(requests, results, strict=True):
        last = chunks[-1]
        assert last.finish_reason in ("stop", "length") and last.completion_tokens <= 8
        assert all(c.finish_reason is None for c in chunks[:-1])
        assert [c.completion_tokens for c in chunks[:-1]] == list(range(1, len(chunks)))
        assert last.prompt_tokens == batched.count_tokens(request.messages)
        assert 0 < last.timings.ttft_s <= last.timings.total_s
        scored = [c for c in chunks if c.logprobs]
        assert len(scored) == last.completion_tokens
        assert all(-30 < c.logprobs[0].logprob <= 0 for c in scored)
        assert _text(chunks).strip()
    assert batched.queue_depth == 0


@requires_mlx
def test_cancelling_one_stream_lets_the_others_go_on(batched: BatchedMlxEngine) -> None:
    cancel = threading.Event()
    doomed = batched.stream(_request("Write a long story.", max_tokens=40), cancel, owner="a")
    others = [batched.stream(_request(p, max_tokens=10), owner="b") for p in PROMPTS[:2]]
    first = next(doomed)
    cancel.set()
    rest = list(doomed)
    assert rest[-1].finish_reason == "cancelled"
    # Cancelled between tokens: at most the token already on its way comes after the first.
    assert rest[-1].completion_tokens <= first.completion_tokens + 2
    for chunks in _drain_all(others):
        assert chunks[-1].finish_reason in ("stop", "length")
        assert chunks[-1].completion_tokens == 10 or chunks[-1].finish_reason == "stop"
    assert batched.queue_depth == 0


@requires_mlx
def test_closing_or_dropping_a_stream_ends_it(batched: BatchedMlxEngine) -> None:
    stream = batched.stream(_request("Write a long story.", max_tokens=200))
    next(stream)
    stream.close()
    dropped = batched.stream(_request("Write a long story.", max_tokens=200))
    del dropped
    after = list(batched.stream(_request("Say hi.", max_tokens=3)))
    assert after[-1].finish_reason in ("stop", "length")
    assert batched.queue_depth == 0 and batched.stats().running == 0


@requires_mlx
def test_a_light_owner_goes_before_a_heavy_owners_later_requests(small_engine) -> None:
    engine = small_engine(slots=1)
    heavy = [_Timed(engine, _request(p, max_tokens=6), owner="heavy") for p in PROMPTS[:3]]
    light = _Timed(engine, _request(PROMPTS[3], max_tokens=6), owner="light")
    timed = [*heavy, light]
    for one, chunks in zip(timed, _drain_all([t.stream for t in timed]), strict=True):
        one.chunks = chunks
    # One slot: the light request waits only for the heavy answer already running.
    light_started = light.first_token_at()
    assert heavy[0].first_token_at() < light_started
    assert light_started < heavy[1].first_token_at() < heavy[2].first_token_at()


@requires_mlx
def test_a_running_cap_keeps_a_slot_for_other_owners(small_engine) -> None:
    engine = small_engine(slots=2, max_running_per_owner=1)
    heavy = [_Timed(engine, _request(p, max_tokens=12), owner="heavy") for p in PROMPTS[:2]]
    light = _Timed(engine, _request(PROMPTS[2], max_tokens=4), owner="light")
    timed = [*heavy, light]
    for one, chunks in zip(timed, _drain_all([t.stream for t in timed]), strict=True):
        one.chunks = chunks
    # The second heavy request waited for the first to end; the light one took the free slot.
    assert heavy[1].first_token_at() >= heavy[0].ended_at()
    assert light.first_token_at() < heavy[0].ended_at()


@requires_mlx
def test_the_wait_queue_refuses_at_once_when_full(small_engine) -> None:
    engine = small_engine(slots=1, max_waiting=1)
    streams = [engine.stream(_request(PROMPTS[0], max_tokens=4))]
    with pytest.raises(EngineBusyError, match="requests are already waiting"):
        for _ in range(3):  # the first may already hold the slot, the next waits
            streams.append(engine.stream(_request(PROMPTS[1], max_tokens=4)))
    _drain_all(streams)
    assert engine.queue_depth == 0


@requires_mlx
def test_stop_strings_end_the_answer_and_are_not_shown(batched: BatchedMlxEngine) -> None:
    full = _text(list(batched.stream(_request("Say hi.", max_tokens=8))))
    assert "!" in full, full  # the model's greedy greeting has one
    chunks = list(batched.stream(_request("Say hi.", max_tokens=8, stop=["!"])))
    assert _text(chunks) == full[:full.index("!")]
    assert chunks[-1].finish_reason == "stop"


@requires_mlx
def test_limits_of_one_request_are_clear_errors(small_engine) -> None:
    engine = small_engine(slots=2, context_per_slot=40)
    n_prompt = engine.count_tokens([ChatMessage("user", "Say hi.")])
    with pytest.raises(RequestTooLongError, match=f"Set max_tokens to {40 - n_prompt} or less"):
        list(engine.stream(_request("Say hi.", max_tokens=100)))
    with pytest.raises(ContextOverflowError, match="holds 40"):
        list(engine.stream(_request("word " * 60)))
    chunks = list(engine.stream(_request("Write a long story.", max_tokens=None)))
    assert chunks[-1].finish_reason in ("context", "stop")
    assert chunks[-1].prompt_tokens + chunks[-1].completion_tokens <= 40


@requires_mlx
def test_a_seed_gives_the_same_sample_alone_and_beside_other_streams(
        batched: BatchedMlxEngine) -> None:
    seeded = _request("Tell me about cats.", max_tokens=10, temperature=1.0, seed=7)
    alone = _text(list(batched.stream(seeded, owner="s")))
    beside = _drain_all([batched.stream(seeded, owner="t"),
                         batched.stream(_request(PROMPTS[0], temperature=1.0), owner="u")])
    assert _text(beside[0]) == alone
    other = _text(list(batched.stream(_request("Tell me about cats.", max_tokens=10,
                                               temperature=1.0, seed=8), owner="v")))
    assert other != alone


@requires_mlx
def test_a_follow_up_reuses_the_owners_kept_cache_only(batched: BatchedMlxEngine) -> None:
    first = list(batched.stream(_request("Say hi.", max_tokens=6), owner="alice"))
    turn = GenerationRequest(messages=[
        ChatMessage("user", "Say hi."), ChatMessage("assistant", _text(first)),
        ChatMessage("user", "What is 2+2?")], max_tokens=6, temperature=0)
    theirs = list(batched.stream(turn, owner="mallory"))
    assert theirs[-1].timings.prompt_tokens_reused == 0
    mine = list(batched.stream(turn, owner="alice"))
    timings = mine[-1].timings
    assert timings.prompt_tokens_reused >= first[-1].prompt_tokens
    assert timings.prompt_tokens_evaluated == mine[-1].prompt_tokens - timings.prompt_tokens_reused
    assert _text(mine) == _text(theirs)


@requires_mlx
def test_a_json_schema_is_refused_for_that_stream_only(batched: BatchedMlxEngine) -> None:
    schema = {"type": "object", "properties": {"label": {"enum": ["a", "b"]}}}
    free = batched.stream(_request(PROMPTS[1], max_tokens=4))
    with pytest.raises(EngineError, match=r"^JSON-schema output needs a llama.cpp model"):
        list(batched.stream(_request("Classify this.", json_schema=schema)))
    assert list(free)[-1].finish_reason in ("stop", "length")


@requires_mlx
def test_unloading_ends_running_and_waiting_streams_with_a_clear_error(small_engine) -> None:
    engine = small_engine(slots=1)
    running = engine.stream(_request("Write a long story.", max_tokens=200))
    waiting = engine.stream(_request("Write a long story.", max_tokens=200))
    next(running)
    engine.unload()
    for stream in (running, waiting):
        with pytest.raises(ModelLoadError, match="was unloaded"):
            list(stream)
    assert not engine.loaded and engine.queue_depth == 0
    with pytest.raises(ModelLoadError, match="is not loaded"):
        engine.stream(_request("Say hi."))


@requires_mlx
def test_the_manager_batches_mlx_models_when_asked(mlx_model: ModelInfo) -> None:
    manager = EngineManager(batch=BatchSettings(slots=2, context_per_slot=256))
    try:
        engine = manager.engine_for(mlx_model)
        assert isinstance(engine, BatchedMlxEngine) and engine.loaded
        assert engine.context_length == 256 and engine.stats().slots == 2
    finally:
        manager.close()
    assert isinstance(EngineManager()._create(mlx_model), MlxEngine)


def test_without_mlx_the_batched_engine_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.cli.test_models_mlx import tiny_mlx_folder

    for name in ("mlx", "mlx.core", "mlx_lm", "mlx_lm.generate"):
        monkeypatch.setitem(sys.modules, name, None)  # `import` raises ImportError
    model = ModelLibrary(tmp_path / "home").register(tiny_mlx_folder(tmp_path))
    engine = BatchedMlxEngine(model)
    with pytest.raises(ModelLoadError, match=r"is an MLX model, and MLX is not installed "
                                             r"here; install it with: pip install "
                                             r"'stillroom\[mlx\]'"):
        engine.load()
    assert not engine.loaded
