"""The batched llama.cpp engine with the real embedded model: many streams in one context."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

import pytest

from inference.engines.batching import BatchedLlamaEngine, BatchSettings
from inference.engines.fair_queue import FairQueue, WaitLimits
from inference.engines.llama_engine import LlamaCppEngine
from inference.engines.types import (
    ChatMessage,
    Chunk,
    ContextOverflowError,
    EngineBusyError,
    EngineError,
    GenerationRequest,
    ModelInfo,
    ModelLoadError,
    RequestTooLongError,
)

PROMPTS = [
    "Write a short poem about the sea.",
    "What is the capital of France?",
    "List three fruits.",
    "Explain gravity to a child.",
]


def _request(prompt: str, **options) -> GenerationRequest:
    options.setdefault("temperature", 0)
    options.setdefault("max_tokens", 16)
    return GenerationRequest(messages=[ChatMessage("user", prompt)], **options)


def _text(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks)


def _drain_all(streams: list[Iterator[Chunk]]) -> list[list[Chunk]]:
    """Read every stream on its own thread, as concurrent clients would."""
    results: list[list[Chunk]] = [[] for _ in streams]
    errors: list[BaseException] = []

    def read(index: int) -> None:
        try:
            results[index].extend(streams[index])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture(scope="module")
def batched(model: ModelInfo) -> Iterator[BatchedLlamaEngine]:
    engine = BatchedLlamaEngine(model, BatchSettings(slots=4, context_per_slot=512))
    engine.load()
    yield engine
    engine.unload()


@pytest.fixture
def small_engine(model: ModelInfo):
    """Makes engines with the settings a test needs; unloads them after it."""
    engines: list[BatchedLlamaEngine] = []

    def make(**settings) -> BatchedLlamaEngine:
        settings.setdefault("context_per_slot", 512)
        engine = BatchedLlamaEngine(model, BatchSettings(**settings))
        engine.load()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.unload()


def test_concurrent_streams_all_complete_with_correct_counts(
        batched: BatchedLlamaEngine) -> None:
    # Six streams on four slots: two wait, then take the slots the first ones free.
    requests = [_request(PROMPTS[i % 4] + " " * (i // 4), max_tokens=10) for i in range(6)]
    results = _drain_all([batched.stream(r, owner=f"user{i}") for i, r in enumerate(requests)])
    for request, chunks in zip(requests, results, strict=True):
        last = chunks[-1]
        assert last.finish_reason in ("stop", "length")
        assert all(c.finish_reason is None for c in chunks[:-1])
        assert [c.completion_tokens for c in chunks[:-1]] == list(range(1, len(chunks)))
        assert last.completion_tokens <= 10
        assert last.prompt_tokens == batched.count_tokens(request.messages)
        assert 0 < last.timings.ttft_s <= last.timings.total_s
        assert _text(chunks).strip()
    assert batched.queue_depth == 0


def test_greedy_batched_answers_equal_single_stream_answers(
        batched: BatchedLlamaEngine, engine: LlamaCppEngine) -> None:
    alone = [_text(list(engine.stream(_request(p, max_tokens=32)))) for p in PROMPTS]
    # All four are queued before the first step, so they are prefilled and decoded together.
    together = _drain_all([batched.stream(_request(p, max_tokens=32)) for p in PROMPTS])
    assert [_text(chunks) for chunks in together] == alone
    assert len({_text(chunks) for chunks in together}) == 4


class _Timed:
    """A stream and the moment it was asked for: the engine times each chunk from that
    moment, so `at(chunk)` puts chunks of different streams on one clock (the engine runs
    every stream to its end whether or not it is read yet)."""

    def __init__(self, engine: BatchedLlamaEngine, request: GenerationRequest,
                 cancel: threading.Event | None = None, owner: str = "local") -> None:
        self.asked = time.perf_counter()
        self.stream = engine.stream(request, cancel, owner=owner)
        self.chunks: list[Chunk] = []

    def read(self) -> list[Chunk]:
        self.chunks.extend(self.stream)
        return self.chunks

    def first_token_at(self) -> float:
        return self.asked + self.chunks[0].timings.ttft_s

    def ended_at(self) -> float:
        return self.asked + self.chunks[-1].timings.total_s


def test_cancelling_one_stream_lets_the_others_go_on_and_frees_its_slot(
        small_engine) -> None:
    engine = small_engine(slots=2)
    cancel = threading.Event()
    doomed = engine.stream(_request(PROMPTS[3], max_tokens=200), cancel, owner="a")
    survivor = _Timed(engine, _request(PROMPTS[0], max_tokens=60), owner="b")
    waiting = _Timed(engine, _request(PROMPTS[2], max_tokens=5), owner="c")
    cancelled: list[Chunk] = []
    for chunk in doomed:
        cancelled.append(chunk)
        if len(cancelled) == 3:
            cancel.set()
    assert cancelled[-1].finish_reason == "cancelled"
    assert cancelled[-1].completion_tokens < 10  # stopped within a step or two, not at 200
    assert survivor.read()[-1].finish_reason in ("length", "stop")
    assert waiting.read()[-1].completion_tokens == 5
    # The waiting request could only run in the cancelled stream's slot, and it ran beside
    # the survivor: it ended while the survivor was still decoding.
    assert survivor.chunks[-1].completion_tokens > 20
    assert waiting.ended_at() < survivor.ended_at()


def test_closing_the_iterator_frees_the_slot(small_engine) -> None:
    engine = small_engine(slots=1)
    abandoned = engine.stream(_request(PROMPTS[0], max_tokens=300))
    next(abandoned)
    abandoned.close()
    last = list(engine.stream(_request(PROMPTS[1], max_tokens=4)))[-1]
    assert last.completion_tokens == 4 and last.finish_reason == "length"


def test_a_stream_dropped_unread_is_abandoned(small_engine) -> None:
    engine = small_engine(slots=2)
    dropped = engine.stream(_request(PROMPTS[0], max_tokens=400))
    del dropped
    gc.collect()
    assert list(engine.stream(_request(PROMPTS[1], max_tokens=4)))[-1].completion_tokens == 4
    # Four tokens took a few steps; the dropped request was ended at the first of them,
    # long before its 400 tokens.
    assert engine.stats().running == 0


def test_a_full_wait_queue_refuses_at_once_with_a_clear_error(small_engine) -> None:
    engine = small_engine(slots=1, max_waiting=2)
    cancel = threading.Event()
    running = engine.stream(_request(PROMPTS[0], max_tokens=300), cancel)
    next(running)  # admitted: the slot is taken, the queue is empty
    queued = [engine.stream(_request(p, max_tokens=2), cancel) for p in PROMPTS[1:3]]
    with pytest.raises(EngineBusyError, match=r"busy: 2 requests are already waiting.*limit is 2"):
        engine.stream(_request(PROMPTS[3]))
    cancel.set()
    assert [list(s)[-1].finish_reason for s in (running, *queued)] == ["cancelled"] * 3
    assert engine.queue_depth == 0
    assert list(engine.stream(_request(PROMPTS[3], max_tokens=2)))[-1].completion_tokens == 2


def test_the_per_owner_limit_refuses_only_that_owner(small_engine) -> None:
    engine = small_engine(slots=1, max_waiting_per_owner=1)
    cancel = threading.Event()
    running = engine.stream(_request(PROMPTS[0], max_tokens=300), cancel, owner="heavy")
    next(running)
    queued = [engine.stream(_request(PROMPTS[1]), cancel, owner="heavy")]
    with pytest.raises(EngineBusyError, match="You already have 1 requests waiting"):
        engine.stream(_request(PROMPTS[2]), cancel, owner="heavy")
    queued.append(engine.stream(_request(PROMPTS[2]), cancel, owner="light"))
    cancel.set()
    for stream in (running, *queued):
        assert list(stream)[-1].finish_reason == "cancelled"


def test_a_light_owner_is_admitted_before_a_heavy_owners_later_requests(
        small_engine) -> None:
    engine = small_engine(slots=1)
    running = _Timed(engine, _request(PROMPTS[0], max_tokens=12), owner="heavy")
    running.chunks.append(next(running.stream))  # heavy's first request holds the only slot
    later = [_Timed(engine, _request(PROMPTS[i % 4], max_tokens=2), owner="heavy")
             for i in range(1, 6)]
    light = _Timed(engine, _request(PROMPTS[1], max_tokens=2), owner="light")
    for timed in (running, *later, light):
        timed.read()
    # One slot, so requests run one after another: first-token order is admission order.
    admitted = sorted([running, *later, light], key=_Timed.first_token_at)
    assert admitted == [running, light, *later]


def test_a_long_prompt_is_prefilled_in_chunks_while_a_live_stream_goes_on(
        small_engine, engine: LlamaCppEngine) -> None:
    batched = small_engine(slots=2, n_batch=32)
    live = _Timed(batched, _request(PROMPTS[0], max_tokens=60))
    live.chunks.append(next(live.stream))  # decoding before the long prompt arrives
    long_request = _request("Summarise: " + "the quick brown fox jumps over it. " * 30,
                            max_tokens=8)
    long = _Timed(batched, long_request)
    long.read()
    live.read()
    assert long.chunks[-1].prompt_tokens > 8 * 32  # needs more than eight 32-token steps
    during = [c for c in live.chunks
              if long.asked < live.asked + c.timings.total_s < long.first_token_at()]
    assert len(during) >= 8  # the live stream got a token on every prefill step
    # Chunked prefill computes the same cache as one big batch: the same greedy answer.
    assert _text(long.chunks) == _text(list(engine.stream(long_request)))


def test_a_running_cap_keeps_a_slot_open_for_other_owners(small_engine) -> None:
    engine = small_engine(slots=2, max_running_per_owner=1)
    # The cap holds once a second owner has asked (before that it would only idle a slot).
    list(engine.stream(_request(PROMPTS[3], max_tokens=1), owner="light"))
    first = _Timed(engine, _request(PROMPTS[0], max_tokens=40), owner="heavy")
    second = _Timed(engine, _request(PROMPTS[1], max_tokens=4), owner="heavy")
    light = _Timed(engine, _request(PROMPTS[2], max_tokens=4), owner="light")
    for timed in (first, second, light):
        timed.read()
    assert first.chunks[-1].completion_tokens == 40
    # light took the slot heavy may not hold twice, and was done while heavy's first ran;
    # heavy's second waited for its first to end although a slot was free by then.
    assert light.ended_at() < first.ended_at()
    assert second.first_token_at() > first.ended_at()


def test_prompt_plus_max_tokens_over_the_slot_context_is_a_clear_error(
        batched: BatchedLlamaEngine) -> None:
    n_prompt = batched.count_tokens(_request(PROMPTS[0]).messages)
    room = batched.context_length - n_prompt
    with pytest.raises(RequestTooLongError, match=f"Set max_tokens to {room} or less"):
        next(batched.stream(_request(PROMPTS[0], max_tokens=room + 1)))
    with pytest.raises(ContextOverflowError):
        next(batched.stream(_request("word " * 600)))
    # Neither took a slot or a place in the queue; the engine still answers.
    assert batched.queue_depth == 0
    assert list(batched.stream(_request(PROMPTS[0], max_tokens=2)))[-1].completion_tokens == 2


def test_stop_strings_end_the_answer_and_are_not_shown(batched: BatchedLlamaEngine) -> None:
    text = _text(list(batched.stream(_request(PROMPTS[0], max_tokens=40))))
    word = text.split()[2]
    stopped = list(batched.stream(_request(PROMPTS[0], max_tokens=40, stop=[word])))
    assert word not in _text(stopped) and text.startswith(_text(stopped))
    assert stopped[-1].finish_reason == "stop"


def test_a_seed_gives_the_same_sample_alone_and_beside_other_streams(
        batched: BatchedLlamaEngine) -> None:
    seeded = _request(PROMPTS[0], temperature=1.0, seed=7, max_tokens=20)
    alone = _text(list(batched.stream(seeded)))
    beside = _drain_all([
        batched.stream(_request(PROMPTS[1], temperature=1.0, seed=3, max_tokens=20)),
        batched.stream(seeded),
    ])
    assert _text(beside[1]) == alone
    assert _text(list(batched.stream(seeded))) == alone


def test_a_follow_up_reuses_its_slots_kv_prefix(batched: BatchedLlamaEngine,
                                                engine: LlamaCppEngine) -> None:
    question = [ChatMessage("user", PROMPTS[3])]
    first_request = GenerationRequest(messages=question, temperature=0, max_tokens=20)
    first = list(batched.stream(first_request))
    follow_up = [*question, ChatMessage("assistant", _text(first)),
                 ChatMessage("user", "Shorter, please.")]
    request = GenerationRequest(messages=follow_up, temperature=0, max_tokens=12)
    second = list(batched.stream(request))
    timings = second[-1].timings
    assert timings.prompt_tokens_reused >= first[-1].prompt_tokens
    assert timings.prompt_tokens_evaluated == second[-1].prompt_tokens - \
        timings.prompt_tokens_reused
    # The single-stream engine, taken through the same two turns, reuses its cache the same
    # way and answers the same. (A cache filled token by token while decoding differs in the
    # last bits from one prefilled in a batch, in either engine, so the comparison is
    # between equal histories.)
    assert _text(list(engine.stream(first_request))) == _text(first)
    alone = list(engine.stream(request))
    assert alone[-1].timings.prompt_tokens_reused >= first[-1].prompt_tokens
    assert _text(second) == _text(alone)


def test_a_kept_prefix_serves_only_the_owner_who_left_it(small_engine) -> None:
    engine = small_engine(slots=1)

    def reused(owner: str) -> int:
        chunks = list(engine.stream(_request(PROMPTS[3], max_tokens=2), owner=owner))
        return chunks[-1].timings.prompt_tokens_reused

    assert reused("alice") == 0
    # The same prompt from someone else is computed afresh: a fast first token must not
    # tell bob that alice just sent it.
    assert reused("bob") == 0
    assert reused("bob") > 0


def test_logprobs_come_from_each_sequences_own_logits(batched: BatchedLlamaEngine) -> None:
    results = _drain_all([batched.stream(_request(p, max_tokens=6, logprobs=True))
                          for p in PROMPTS[:2]])
    for chunks in results:
        values = [c.logprobs[0].logprob for c in chunks if c.logprobs]
        assert len(values) >= 3 and all(v <= 0 for v in values)


def test_unloading_ends_running_and_waiting_streams_with_a_clear_error(small_engine) -> None:
    engine = small_engine(slots=1)
    running = engine.stream(_request(PROMPTS[0], max_tokens=300))
    next(running)
    waiting = engine.stream(_request(PROMPTS[1]))
    engine.unload()
    for stream in (running, waiting):
        with pytest.raises(ModelLoadError, match="was unloaded"):
            list(stream)
    with pytest.raises(ModelLoadError, match="is not loaded"):
        engine.stream(_request(PROMPTS[2]))


# -- the fair queue on its own (no model) ----------------------------------------------------
def test_fair_queue_prefers_the_owner_with_fewer_running_then_the_longest_unserved() -> None:
    queue: FairQueue[str] = FairQueue()
    for i in range(5):
        queue.put("heavy", f"h{i}")
    assert queue.pop_next({}) == ("heavy", "h0")
    queue.put("light", "l0")
    assert queue.pop_next({"heavy": 1}) == ("light", "l0")
    queue.put("other", "o0")
    # Both hold one running sequence now; "other" has never been served.
    assert queue.pop_next({"heavy": 1, "light": 1}) == ("other", "o0")
    assert [queue.pop_next({})[1] for _ in range(4)] == ["h1", "h2", "h3", "h4"]
    assert queue.pop_next({}) is None


def test_fair_queue_holds_back_an_owner_at_its_running_cap() -> None:
    queue: FairQueue[str] = FairQueue()
    queue.put("light", "l0")
    assert queue.pop_next({}) == ("light", "l0")
    queue.put("heavy", "h0")
    assert queue.pop_next({"heavy": 3}, cap=3) is None
    queue.put("light", "l1")
    assert queue.pop_next({"heavy": 3}, cap=3) == ("light", "l1")
    assert queue.pop_next({"heavy": 2}, cap=3) == ("heavy", "h0")


def test_a_lone_owner_may_fill_every_slot_until_another_owner_asks() -> None:
    """A server without users (one anonymous owner) or a job alone: nobody to keep a slot
    for, so the cap would only leave it idle."""
    queue: FairQueue[str] = FairQueue()
    queue.put("anonymous", "a0")
    assert queue.pop_next({"anonymous": 3}, cap=3) == ("anonymous", "a0")
    queue.put("other", "o0")
    queue.put("anonymous", "a1")
    assert queue.pop_next({"anonymous": 3, "other": 1}, cap=3) == ("other", "o0")
    assert queue.pop_next({"anonymous": 3, "other": 1}, cap=3) is None


def test_wait_limits_count_and_release() -> None:
    limits = WaitLimits(max_waiting=2, max_waiting_per_owner=None)
    limits.reserve("a")
    limits.reserve("b")
    with pytest.raises(EngineBusyError):
        limits.reserve("c")
    limits.release("a")
    limits.reserve("c")
    assert limits.waiting == 2


_PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 12},
                   "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_a_json_schema_constrains_each_sequence_beside_free_text_streams(
        batched: BatchedLlamaEngine) -> None:
    import json

    import jsonschema

    constrained = [
        batched.stream(_request(f"Describe person number {n} as JSON.", max_tokens=48,
                                json_schema=_PERSON_SCHEMA), threading.Event())
        for n in range(2)
    ]
    free = batched.stream(_request("Say hello."), threading.Event())
    results = _drain_all([*constrained, free])
    for chunks in results[:2]:
        assert chunks[-1].finish_reason == "stop", _text(chunks)
        jsonschema.validate(json.loads(_text(chunks)), _PERSON_SCHEMA)
    assert not _text(results[2]).lstrip().startswith("{")


def test_a_schema_llama_cpp_cannot_use_fails_that_stream_only(small_engine) -> None:
    engine = small_engine(slots=2)
    bad = engine.stream(_request("Anything.", json_schema={"type": "no-such-type"}),
                        threading.Event())
    good = engine.stream(_request("Say hello."), threading.Event())
    with pytest.raises(EngineError, match="JSON schema"):
        list(bad)
    assert _text(list(good))
