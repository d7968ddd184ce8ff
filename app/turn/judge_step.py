"""Runs the local judge (routing/sensitivity/judge.py) on text about to leave for the cloud.

ChatService calls ``judge_decision`` after the router chose a cloud target and the fast gate
found nothing sensitive; a local answer never comes here. The judge's model is loaded by the
same EngineManager as chat and runs on that model's owner thread, so it queues behind (and
ahead of) chat answers on the same model like any other request. The caller's thread waits
for the verdict: the GUI's chat worker, the server's worker threads, the CLI — never the GUI
thread. ``cancel`` (the turn's own) stops it between tokens, and so does the timeout.

Which model judges: ``settings.judge_model``, else the largest installed instruct GGUF (one
with a chat template) that fits this machine (inference.models.fit). Models under
JUDGE_MIN_PARAMETERS are allowed when named, with a warning: a 135M model's verdicts are
close to guesses. With ``judge = "auto"`` (the default) the judge runs only when a model fit
to judge is installed, so a fresh install with only the embedded model is not slowed down by
a judge that cannot judge; ``doctor`` and the settings dialog say so.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from inference.engines.types import ChatMessage, GenerationRequest, ModelInfo
from routing.decision import RouteDecision
from routing.sensitivity.judge import (
    VERDICT_MAX_TOKENS,
    JudgeOutcome,
    JudgeOutputError,
    Status,
    apply_outcome,
    judge_messages,
    judge_windows,
    parse_verdict,
    should_judge,
    verdict_schema,
)

if TYPE_CHECKING:
    from app.config import Settings
    from app.metering.energy_meter import EnergyMeter
    from inference.engines.manager import EngineManager
    from inference.models.library import ModelLibrary
    from routing.router import Router

# Below this many parameters a model is "not fit to judge" (warned about, and not picked by
# "auto"): the embedded 135M model labels text close to at random.
JUDGE_MIN_PARAMETERS = 1_000_000_000
# The context the fit estimate plans for: the rubric plus one window (WINDOW_CHARS).
JUDGE_CONTEXT_TOKENS = 4096
# Errors go into the explanation and the audit row: short, and they never hold user text
# (engine errors name models, files and token counts).
_ERROR_CHARS = 120
# Windows a judge model already passed are not judged again (a conversation's earlier
# messages go to the cloud again with every turn). Bounded; per process.
_APPROVED_LIMIT = 2048


class JudgeParts(Protocol):
    """What the judge needs from the composition root (Services satisfies it)."""

    settings: Settings
    library: ModelLibrary
    engines: EngineManager
    router: Router
    energy: EnergyMeter


@dataclass(frozen=True, slots=True)
class JudgeChoice:
    """Which model would judge under the current settings, and whether the judge runs."""

    model: ModelInfo | None
    active: bool
    why: str                  # one line: the model and how it was chosen, or why none
    warning: str | None = None  # the model is not fit to judge (too small)


@dataclass(frozen=True, slots=True)
class _ModelFacts:
    instruct: bool
    parameters: int
    fits: bool


_facts_cache: dict[tuple[str, int, int], _ModelFacts] = {}
_facts_lock = threading.Lock()


def _facts(model: ModelInfo) -> _ModelFacts | None:
    """What choosing needs from a GGUF header, cached per file version; None: unreadable."""
    from inference.models.fit import estimate_fit
    from inference.models.gguf_file import GGUFError, read_summary

    try:
        stat = Path(model.path).stat()
    except OSError:
        return None
    key = (model.path, stat.st_size, stat.st_mtime_ns)
    with _facts_lock:
        cached = _facts_cache.get(key)
    if cached is not None:
        return cached
    try:
        summary = read_summary(model.path)
    except (GGUFError, OSError):
        return None
    fit = estimate_fit(summary, JUDGE_CONTEXT_TOKENS)
    facts = _ModelFacts(instruct=summary.chat_template is not None,
                        parameters=summary.parameter_count or model.parameters or 0,
                        fits=fit.verdict == "fits")
    with _facts_lock:
        _facts_cache[key] = facts
    return facts


def unfit_warning(model: ModelInfo, parameters: int) -> str | None:
    if parameters >= JUDGE_MIN_PARAMETERS:
        return None
    size = f"{parameters / 1e6:.0f}M" if parameters else "an unknown number of"
    return (f"{model.name} has {size} parameters: models under "
            f"{JUDGE_MIN_PARAMETERS / 1e9:.0f}B are not fit to judge (their verdicts are close "
            f"to guesses); install a 3B+ instruct model for the judge")


def choose_judge(settings: Settings, library: ModelLibrary) -> JudgeChoice:
    """The judge's model under ``settings``; reads GGUF headers (cached per file version)."""
    if settings.judge == "off":
        return JudgeChoice(None, False, "the judge is off in the settings")
    if settings.judge_model:
        try:
            model = library.get(settings.judge_model)
        except Exception as exc:  # the library's own one-line message (not installed)
            return JudgeChoice(None, settings.judge == "on",
                               f"the judge model {settings.judge_model!r} cannot be used: "
                               f"{str(exc)[:_ERROR_CHARS]}")
        facts = _facts(model)
        warning = unfit_warning(model, facts.parameters if facts else model.parameters or 0)
        active = settings.judge == "on" or warning is None
        return JudgeChoice(model, active, f"{model.name}, chosen in the settings", warning)
    candidates = []
    for model in library.list():
        if model.format != "gguf":
            continue  # the grammar that constrains the verdict is llama.cpp's
        facts = _facts(model)
        if facts is not None and facts.instruct and facts.fits:
            candidates.append((facts.parameters, model.size_bytes, model))
    if not candidates:
        return JudgeChoice(None, settings.judge == "on",
                           "no installed instruct model fits this machine")
    parameters, _size, model = max(candidates, key=lambda c: (c[0], c[1]))
    warning = unfit_warning(model, parameters)
    active = settings.judge == "on" or warning is None
    return JudgeChoice(model, active,
                       f"{model.name}, the largest installed instruct model that fits",
                       warning)


class _ApprovedWindows:
    """Hashes of (judge model, window) the judge found not sensitive."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(model: ModelInfo, window: str) -> bytes:
        return hashlib.sha256(f"{model.id}\0{model.path}\0{window}".encode()).digest()

    def __contains__(self, key: bytes) -> bool:
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return True
            return False

    def add(self, key: bytes) -> None:
        with self._lock:
            self._seen[key] = None
            self._seen.move_to_end(key)
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)


_approved = _ApprovedWindows(_APPROVED_LIMIT)


class Judge:
    """One judge model, ready to read text: ``judge(texts, cancel)`` -> JudgeOutcome."""

    def __init__(self, parts: JudgeParts, model: ModelInfo, timeout_s: float) -> None:
        self.parts = parts
        self.model = model
        self.timeout_s = timeout_s
        self.runs = 0  # judge requests sent to the engine (not cached windows)

    def __call__(self, texts: str | Iterable[str],
                 cancel: threading.Event | None = None) -> JudgeOutcome:
        started = time.perf_counter()
        pieces = judge_windows([texts] if isinstance(texts, str) else texts)
        parts = self.parts
        terms = list(parts.router.policy.sensitivity.custom_terms)
        was_loaded = any(m.id == self.model.id and m.path == self.model.path
                         for m in parts.engines.loaded())
        try:
            with parts.energy.busy():  # a model load is not idle draw
                parts.library.verify(self.model)
                engine = parts.engines.engine_for(self.model)
        except Exception as exc:  # fail closed on anything: the text stays local
            return self._outcome("error", started, started, _error_text(exc), len(pieces))
        loaded = time.perf_counter()
        load_s = 0.0 if was_loaded else loaded - started
        # The timeout counts from the loaded model: a first load of a large judge can take
        # longer than any sensible timeout, and says so separately (load_s).
        deadline = loaded + self.timeout_s
        for window in pieces:
            key = _approved.key(self.model, window)
            if key in _approved:
                continue
            self.runs += 1
            status, answer = _ask(engine, window, deadline, cancel)
            if status != "done":
                return self._outcome(status, loaded, started, answer, len(pieces), load_s)
            try:
                verdict = parse_verdict(answer, custom_terms=terms, source=window)
            except JudgeOutputError as exc:
                return self._outcome("unparsable", loaded, started, str(exc), len(pieces),
                                     load_s)
            if verdict.sensitive:
                return self._outcome("sensitive", loaded, started, verdict.reason,
                                     len(pieces), load_s, verdict.category)
            _approved.add(key)
        return self._outcome("not-sensitive", loaded, started, "", len(pieces), load_s,
                             "none")

    def _outcome(self, status: Status, since: float, started: float, reason: str,
                 windows: int, load_s: float = 0.0, category: str | None = None
                 ) -> JudgeOutcome:
        now = time.perf_counter()
        return JudgeOutcome(model=self.model.name, status=status, latency_s=now - since,
                            timeout_s=self.timeout_s, category=category, reason=reason,
                            windows=windows, load_s=load_s if status != "error" else 0.0)


def _error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _ERROR_CHARS else text[:_ERROR_CHARS - 1] + "…"


def _ask(engine: object, window: str, deadline: float,
         cancel: threading.Event | None) -> tuple[Status | str, str]:
    """("done", answer) or (status, why): the answer is read on a helper thread so that the
    deadline and the turn's cancel are kept even while the owner thread is still reading
    the prompt (cancel is seen only between tokens); a stopped request is told to stop and
    left to end on its own."""
    request = GenerationRequest(
        messages=[ChatMessage(role, content)  # type: ignore[arg-type]
                  for role, content in judge_messages(window)],
        max_tokens=VERDICT_MAX_TOKENS, temperature=0.0, seed=0,
        json_schema=verdict_schema())
    stop = threading.Event()
    done = threading.Event()
    result: dict[str, object] = {}

    def read() -> None:
        texts: list[str] = []
        try:
            for chunk in engine.stream(request, stop, "judge"):  # type: ignore[attr-defined]
                texts.append(chunk.text)
                if chunk.finish_reason is not None:
                    result["finish"] = chunk.finish_reason
            result["text"] = "".join(texts)
        except Exception as exc:
            result["error"] = exc
        finally:
            done.set()

    threading.Thread(target=read, name="judge-reader", daemon=True).start()
    while not done.is_set():
        remaining = deadline - time.perf_counter()
        if cancel is not None and cancel.is_set():
            stop.set()
            return "cancelled", ""
        if remaining <= 0:
            stop.set()
            return "timeout", ""
        # Wakes at once when the answer is in: no added latency; 50 ms to see a cancel.
        done.wait(min(remaining, 0.05))
    if "error" in result:
        return "error", _error_text(result["error"])  # type: ignore[arg-type]
    if result.get("finish") == "cancelled":
        return "timeout", ""
    if result.get("finish") in ("length", "context"):
        return "unparsable", "the judge's answer was cut off"
    return "done", str(result.get("text", ""))


def make_judge(parts: JudgeParts, model_id: str | None = None,
               timeout_s: float | None = None) -> Callable[[str], JudgeOutcome]:
    """A judge for tools (``stillroom route evaluate --judge MODEL``): text in, outcome out.
    ``model_id`` None: the settings' choice (choose_judge), used whatever its size."""
    settings = parts.settings
    if model_id is not None:
        model = parts.library.get(model_id)  # raises the library's one-line error
    else:
        model = choose_judge(settings, parts.library).model
        if model is None:
            raise ValueError("no installed instruct model fits this machine to judge with; "
                             "name one with --judge MODEL")
    judge = Judge(parts, model, timeout_s or settings.judge_timeout_s)
    return lambda text: judge(text)


def judge_decision(parts: JudgeParts, decision: RouteDecision, texts: Sequence[str],
                   cancel: threading.Event | None = None) -> tuple[RouteDecision, Judge | None]:
    """The decision after the judge had its say: unchanged when no judge should run (a
    local, on-premises, refused or already sensitive decision, or the judge off), else with
    the judge's clause in its reason, or moved to this machine (routing.sensitivity.judge
    .apply_outcome). Also the Judge that ran, for its counters."""
    if not should_judge(decision):
        return decision, None
    choice = choose_judge(parts.settings, parts.library)
    if not choice.active:
        note = f"judge: not run ({choice.warning or choice.why})"
        return _with_trace(decision, note), None
    if choice.model is None:
        outcome = JudgeOutcome(model=parts.settings.judge_model or "none", status="error",
                               latency_s=0.0, timeout_s=parts.settings.judge_timeout_s,
                               reason=choice.why)
        return apply_outcome(decision, outcome), None
    judge = Judge(parts, choice.model, parts.settings.judge_timeout_s)
    return apply_outcome(decision, judge(texts, cancel)), judge


def _with_trace(decision: RouteDecision, note: str) -> RouteDecision:
    from dataclasses import replace

    return replace(decision, trace=(*decision.trace, note))
