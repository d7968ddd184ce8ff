"""What both llama.cpp engines (single-stream and batched) share below the model: importing
llama_cpp for a load, llama.cpp's own log routed to `logging`, and the end-of-generation test.

`llama_cpp` is imported only inside `import_for_load`, so importing this module stays free.
"""

from __future__ import annotations

import ctypes
import json
import logging
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from inference.engines.types import EngineError, ModelLoadError

# ggml.h's enum ggml_log_level: NONE 0, DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5.
GGML_LOG_LEVEL_WARN = 3
GGML_LOG_LEVEL_ERROR = 4

# Flash attention is off by default in both engines, though it is faster: with the embedded
# model on 2 cores it gave the batched engine 1.2x the aggregate decode at 1 and 4 streams and
# 1.45x at 8. But its half-precision sums depend on how a batch is split, so a greedy answer
# depends on what else is in the batch: a document job resumed with --parallel 3 gave
# one document a different summary than the uninterrupted run (tests/documents/
# test_jobs_cli.py). Same input, same answer matters more here; `flash_attention=True` in
# LlamaSettings / BatchSettings turns it on.
FLASH_ATTENTION = False


def flash_attn_type(llama_cpp: Any, enabled: bool) -> int:
    return (llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if enabled
            else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED)


class NativeLog:
    """Routes llama.cpp's own log lines to `logging` and keeps the last errors.

    The recent errors explain a failed load ("unknown model architecture ...") better than
    llama-cpp-python's generic "Failed to load model from file".
    """

    recent_errors: ClassVar[deque[str]] = deque(maxlen=8)
    _installed = False
    _callback: Any = None

    @classmethod
    def install(cls, llama_cpp: Any) -> None:
        if cls._installed:
            return
        native = logging.getLogger("llama.cpp")

        @llama_cpp.llama_log_callback
        def forward(level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
            line = text.decode("utf-8", errors="replace").rstrip()
            if not line:
                return
            if level == GGML_LOG_LEVEL_ERROR:
                cls.recent_errors.append(line)
                native.error(line)
            elif level == GGML_LOG_LEVEL_WARN:
                native.warning(line)
            else:
                native.debug(line)

        cls._callback = forward  # keep the ctypes thunk alive for the process
        llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))
        cls._installed = True


def eog_checker(llama_cpp: Any, vocab: Any) -> Callable[[int], bool]:
    """Whether a token ends generation (EOS, EOT and the model's other end tokens)."""
    is_eog = llama_cpp.llama_vocab_is_eog
    return lambda token: is_eog(vocab, token)


def import_for_load() -> Any:
    """llama_cpp, on a model's owner thread about to load: its log routed to NativeLog with
    the errors of an earlier load forgotten. A missing install is one line saying the fix."""
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelLoadError(
            "llama-cpp-python is not installed; run packaging/setup.sh again."
        ) from exc
    NativeLog.install(llama_cpp)
    NativeLog.recent_errors.clear()
    return llama_cpp


def json_schema_gbnf(schema: Mapping[str, Any]) -> str:
    """llama.cpp's grammar (GBNF) for a JSON schema, for either llama.cpp engine; an
    EngineError naming the problem for a schema it cannot convert."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        return json_schema_to_gbnf(json.dumps(schema))
    # llama-cpp-python's converter asserts on schemas it does not know.
    except (ValueError, RuntimeError, KeyError, TypeError, AssertionError) as exc:
        raise EngineError(f"llama.cpp cannot turn this JSON schema into a grammar: {exc}") \
            from exc
