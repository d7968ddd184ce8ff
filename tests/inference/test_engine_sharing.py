"""EngineManager.share: the desktop answers one stream at a time alone, and with a share
held (its server, a job) one batched engine serves everyone, on one copy of the model.
Real model, real llama.cpp."""

from __future__ import annotations

import threading

from inference.engines.batching import BatchedLlamaEngine, BatchSettings
from inference.engines.llama_engine import LlamaCppEngine
from inference.engines.manager import EngineManager
from inference.engines.types import ChatMessage, GenerationRequest, ModelInfo


def _request(prompt: str, max_tokens: int = 6) -> GenerationRequest:
    return GenerationRequest(messages=[ChatMessage("user", prompt)], max_tokens=max_tokens,
                             temperature=0)


def test_a_share_swaps_to_one_batched_engine_and_back_once_idle(model: ModelInfo) -> None:
    manager = EngineManager()
    try:
        alone = manager.engine_for(model)
        assert isinstance(alone, LlamaCppEngine)
        share = manager.share(BatchSettings.shared(3))
        batched = manager.engine_for(model)
        assert isinstance(batched, BatchedLlamaEngine) and batched.settings.slots == 3
        assert batched.settings.max_running_per_owner == 2
        assert not alone.loaded and [m.id for m in manager.loaded()] == [model.id]
        assert manager.engine_for(model) is batched  # the same engine for everyone

        # Released while an answer runs: that answer keeps its engine to the end.
        stream = batched.stream(_request("Count to ten.", max_tokens=40))
        first = next(stream)
        share.release()
        assert manager.batching is None
        assert manager.engine_for(model) is batched  # busy: not swapped under it
        rest = list(stream)
        assert (rest or [first])[-1].finish_reason is not None
        again = manager.engine_for(model)  # idle now: one stream at a time again
        assert isinstance(again, LlamaCppEngine) and not batched.loaded
        assert [m.id for m in manager.loaded()] == [model.id]
    finally:
        manager.close()


def test_taking_a_share_waits_for_the_single_stream_answer_in_progress(
        model: ModelInfo) -> None:
    """The swap queues its unload behind the answer on the owner thread: the answer that
    was running ends whole, not cut by the unload."""
    manager = EngineManager()
    try:
        alone = manager.engine_for(model)
        stream = alone.stream(_request("Tell me about the sea.", max_tokens=24))
        first = next(stream)
        swapped = threading.Event()

        def take_share() -> None:
            manager.share(BatchSettings.shared(2))
            manager.engine_for(model)
            swapped.set()

        taker = threading.Thread(target=take_share)
        taker.start()
        chunks = [first, *stream]
        taker.join()
        assert swapped.is_set()
        assert chunks[-1].finish_reason in ("stop", "length")
        assert isinstance(manager.engine_for(model), BatchedLlamaEngine)
    finally:
        manager.close()


def test_the_first_share_sets_the_slots_and_a_fixed_batch_wins(model: ModelInfo) -> None:
    manager = EngineManager()
    first = manager.share(BatchSettings.shared(3))
    with manager.share(BatchSettings.shared(5)):
        assert manager.batching.slots == 3
    first.release()
    assert manager.batching is None
    fixed = EngineManager(batch=BatchSettings(slots=2))
    with fixed.share(BatchSettings.shared(5)):
        assert fixed.batching.slots == 2
