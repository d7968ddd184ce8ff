"""What encryption at rest costs: the same store, plaintext SQLite vs SQLCipher, in one run,
interleaved (the order alternates each rep), medians and ratios.

    .venv/bin/python bench/store_encryption.py [--reps 7] [--turns 20] [--history 400]

A chat turn's writes, as ChatService and AnswerWriter make them: add the user message, start
the answer, 20 write-through flushes of the growing text (one every FLUSH_INTERVAL_S in the
app), finish with a usage row. History search: ConversationStore.search over HISTORY
conversations of 10 messages (~1 KB each), a word found in one message only, so every page
is read. Both stores are opened by app.store.db.open_engine itself (WAL, synchronous=NORMAL);
only the keyring is replaced, by a key held in this process, so no Secret Service is needed.
Target: <= 5% on a turn.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event

from app.store import encryption, sqlite_files
from app.store.conversations import FLUSH_INTERVAL_S, ConversationStore, UsageFigures
from app.store.db import _sqlite_pragmas, migrate, open_engine

KEY = secrets.token_hex(32)
WORDS = ("privileged", "counsel", "merger", "review", "filing", "contract", "clause", "estate",
         "deposition", "schedule", "exhibit", "ledger")


def open_store(path: Path, variant: str) -> ConversationStore:
    if variant == "sqlcipher3, no key":
        # Attribution only: SQLCipher's SQLite build without a key, opened as open_engine
        # opens a file, so "encrypted / this" is the price of the encryption alone.
        engine = create_engine(f"sqlite:///{path}", module=sqlite_files.sqlcipher(),
                               creator=lambda: sqlite_files.connect(path, None,
                                                                    check_same_thread=False))
        event.listen(engine, "connect", _sqlite_pragmas)
        migrate(engine)
        return ConversationStore(engine)
    # The keyring's two answers, without a keyring: the key, or "no keyring here".
    encrypted = variant == "encrypted"
    encryption._keyring = (lambda: "a keyring") if encrypted else (lambda: None)
    encryption.stored_key = (lambda: KEY) if encrypted else (lambda: None)
    encryption._create_key = lambda: None
    store = ConversationStore(open_engine(f"sqlite:///{path}"))
    assert encryption.status_of(store.engine).encrypted == encrypted
    return store


def filler(seed: int, size: int = 1000) -> str:
    words, index = [], seed
    while sum(len(w) + 1 for w in words) < size:
        words.append(WORDS[index % len(WORDS)])
        index = index * 7 + 3
    return " ".join(words)


def fill_history(store: ConversationStore, conversations: int) -> None:
    for number in range(conversations):
        conversation = store.create(model_id="m", system_prompt=None)
        for turn in range(5):
            store.add_user_message(conversation.id, filler(number * 10 + turn))
            writer = store.start_answer(conversation.id, model_id="m", route_target="local",
                                        route_rule="r", route_reason="bench")
            writer.append(filler(number * 10 + turn + 5))
            writer.finish("complete")
    # One needle, in the middle: a search must read every message.
    middle = store.list(limit=conversations)[conversations // 2]
    store.add_user_message(middle.id, "the needle-word appears once")


def usage() -> UsageFigures:
    return UsageFigures(model_id="m", route_target="local", route_rule="r",
                        finish_reason="stop", prompt_tokens=50, completion_tokens=200,
                        ttft_s=0.1, prefill_tps=300.0, decode_tps=40.0, total_s=5.0)


def chat_turn(store: ConversationStore, conversation_id: str, flushes: int) -> float:
    start = time.perf_counter()
    store.add_user_message(conversation_id, "Summarise the deposition schedule, please.")
    writer = store.start_answer(conversation_id, model_id="m", route_target="local",
                                route_rule="r", route_reason="bench")
    for index in range(flushes):
        writer.append(f"token{index} " * 10)  # ~10 tokens between flushes
        writer.flush()
    writer.finish("complete", usage())
    return time.perf_counter() - start


def search(store: ConversationStore) -> float:
    start = time.perf_counter()
    found = store.search("needle-word")
    elapsed = time.perf_counter() - start
    assert len(found) == 1
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--turns", type=int, default=20, help="turns per rep and store")
    parser.add_argument("--flushes", type=int, default=20, help="write-throughs per answer")
    parser.add_argument("--history", type=int, default=400,
                        help="conversations (10 messages each) to search")
    args = parser.parse_args()
    names = ("plaintext", "encrypted", "sqlcipher3, no key")
    turn_times: dict[str, list[float]] = {name: [] for name in names}
    search_times: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as scratch:
        stores, sizes, targets = {}, {}, {}
        for number, name in enumerate(names):
            path = Path(scratch) / f"store-{number}.db"
            stores[name] = open_store(path, name)
            fill_history(stores[name], args.history)
            sizes[name] = path.stat().st_size
            targets[name] = stores[name].create(model_id="m", system_prompt=None).id
        for rep in range(args.reps):
            order = names if rep % 2 == 0 else names[::-1]
            for name in order:
                turn_times[name].append(statistics.median(
                    chat_turn(stores[name], targets[name], args.flushes)
                    for _ in range(args.turns)))
                search_times[name].append(statistics.median(search(stores[name])
                                                            for _ in range(5)))
        for store in stores.values():
            store.engine.dispose()
    turn = {name: statistics.median(values) for name, values in turn_times.items()}
    found = {name: statistics.median(values) for name, values in search_times.items()}
    print(f"{args.reps} reps, interleaved; a turn = user message + start + {args.flushes} "
          f"flushes + finish with usage; search over {args.history} conversations "
          f"({sizes['plaintext'] / 1e6:.1f} MB plaintext, "
          f"{sizes['encrypted'] / 1e6:.1f} MB encrypted)")
    print(f"{'':24}{'plaintext':>11}{'encrypted':>11}{'ratio':>8}   "
          f"{'sqlcipher3 no key':>17}{'enc/it':>8}")
    for label, figures in (("turn's writes", turn), ("history search", found)):
        print(f"{label:24}{figures['plaintext'] * 1e3:9.2f}ms{figures['encrypted'] * 1e3:9.2f}ms"
              f"{figures['encrypted'] / figures['plaintext']:7.3f}x   "
              f"{figures['sqlcipher3, no key'] * 1e3:15.2f}ms"
              f"{figures['encrypted'] / figures['sqlcipher3, no key']:7.3f}x")
    # In the app the flushes are FLUSH_INTERVAL_S apart while the model streams: the writes'
    # extra time set against the turn the user waits for.
    streaming = args.flushes * FLUSH_INTERVAL_S
    added = turn["encrypted"] - turn["plaintext"]
    print(f"a turn streamed for {streaming:.1f} s ({args.flushes} flushes x "
          f"{FLUSH_INTERVAL_S} s): encryption adds {added * 1e3:.2f} ms = "
          f"{added / (streaming + turn['plaintext']) * 100:.2f}% (target <= 5%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
