"""What Stillroom's streaming path costs over raw llama-cpp-python, measured in one run.

    .venv/bin/python bench/engine_overhead.py [--reps 7] [--tokens 128]

Baseline: a plain `Llama.generate` loop (chat template rendered and tokenized the same way,
greedy sampling, detokenizing each token) on its own Llama instance of the same model.
App path: `ChatService.start()` on a fresh data directory — database writes, routing, the
model's owner thread and queue hand-off, write-through of the answer — timed where the
caller receives the chunks. Repetitions alternate which path runs first; medians reported.
Targets (issue 2): decode >= 0.97x raw, TTFT overhead <= 10 ms.

Then a growing 10-turn conversation through the app path shows what KV prefix reuse buys:
turn-10 TTFT against turn-1, and against turn 10's prompt on a cold cache.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOPICS = ["a lighthouse keeper", "a lost robot", "a desert caravan", "a mountain village",
          "a clockmaker", "a deep-sea diver", "an old library", "a winter market",
          "a river pilot", "a night train", "a beekeeper"]
FOLLOW_UPS = ["Tell me more about the main character.", "What happens next?",
              "Describe the setting in detail.", "Add a surprising twist.",
              "Who is the antagonist?", "Write the ending.", "Summarise it so far.",
              "Give it a title and explain why.", "Rewrite the opening more vividly."]


def prompt_for(rep: int) -> str:
    return f"Write a long, detailed story about {TOPICS[rep % len(TOPICS)]}."


class RawLoop:
    """The baseline: llama-cpp-python used directly, with nothing of ours around it."""

    def __init__(self, model_path: str, n_ctx: int, threads: tuple[int, int]) -> None:
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llama_cpp = llama_cpp
        self.llm = llama_cpp.Llama(model_path=model_path, n_ctx=n_ctx, n_threads=threads[0],
                                   n_threads_batch=threads[1], verbose=False)
        model = self.llm._model
        self.formatter = Jinja2ChatFormatter(
            template=self.llm.metadata["tokenizer.chat_template"],
            eos_token=model.token_get_text(self.llm.token_eos()),
            bos_token=model.token_get_text(self.llm.token_bos()))

    def run(self, messages: list[dict], max_tokens: int) -> tuple[float, float, int]:
        llm, vocab = self.llm, self.llm._model.vocab
        started = time.perf_counter()
        prompt = self.formatter(messages=messages).prompt
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        first = last = None
        produced = 0
        for token in llm.generate(tokens, top_k=40, top_p=0.95, temp=0.0, repeat_penalty=1.0):
            now = time.perf_counter()
            if first is None:
                first = now
            if self.llama_cpp.llama_vocab_is_eog(vocab, token):
                break
            llm.detokenize([token])
            produced += 1
            last = now
            if produced >= max_tokens:
                break
        decode = (produced - 1) / (last - first) if produced > 1 else float("nan")
        return first - started, decode, produced


def app_turn(chat, prompt: str, max_tokens: int, conversation_id: str | None = None):
    from app.turn.chat_turn import ChatOptions

    started = time.perf_counter()
    turn = chat.start(prompt, conversation_id=conversation_id,
                      options=ChatOptions(temperature=0, max_tokens=max_tokens))
    first = last = None
    for chunk in turn:
        now = time.perf_counter()
        if first is None:
            first = now
        if chunk.text or chunk.finish_reason is None:
            last = now
    result = turn.result
    produced = result.completion_tokens
    decode = (produced - 1) / (last - first) if produced > 1 else float("nan")
    return first - started, decode, produced, turn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    parser.add_argument("--cpu-tdp-watts", type=float, metavar="W",
                        help="run the app path with the labelled CPU estimate as a live "
                             "power sensor (default: the machine's own sensors, if any)")
    args = parser.parse_args()

    os.environ["STILLROOM_HOME"] = home = tempfile.mkdtemp(prefix="stillroom-bench-")
    from app.config import Settings, save_settings
    from app.services import Services

    if args.cpu_tdp_watts:
        save_settings(Path(home) / "settings.json", Settings(cpu_tdp_watts=args.cpu_tdp_watts))
    from inference.hardware import default_thread_counts

    services = Services.open()
    services.energy.wait_until_discovered()
    sensors = [sensor.name for sensor in services.energy.sensors]
    print(f"power sensors metering the app path: {', '.join(sensors) or 'none'}")
    chat = services.chat()
    model = services.library.list()[0]
    # Warm both paths (page cache, first-call costs) before measuring.
    app_turn(chat, "Hello.", 8)
    engine = services.engines.engine_for(model)
    raw = RawLoop(model.path, engine.context_length, default_thread_counts())
    raw.run([{"role": "user", "content": "Hello."}], 8)

    samples: dict[str, list] = {"raw_ttft": [], "raw_decode": [], "app_ttft": [],
                                "app_decode": []}
    for rep in range(args.reps):
        prompt = prompt_for(rep)
        order = ("raw", "app") if rep % 2 == 0 else ("app", "raw")
        for path in order:
            if path == "raw":
                ttft, decode, n = raw.run([{"role": "user", "content": prompt}], args.tokens)
            else:
                ttft, decode, n, _ = app_turn(chat, prompt, args.tokens)
            samples[f"{path}_ttft"].append(ttft)
            samples[f"{path}_decode"].append(decode)
            print(f"rep {rep} {path:3}: ttft {ttft * 1000:7.1f} ms  decode {decode:6.1f} tok/s"
                  f"  ({n} tokens)", flush=True)

    medians = {key: statistics.median(values) for key, values in samples.items()}
    decode_ratio = medians["app_decode"] / medians["raw_decode"]
    ttft_overhead_ms = (medians["app_ttft"] - medians["raw_ttft"]) * 1000
    paired_ms = statistics.median(
        (a - r) * 1000 for a, r in zip(samples["app_ttft"], samples["raw_ttft"], strict=True))

    print("\n-- growing conversation (KV prefix reuse) --")
    conversation_id = None
    turns = []
    for index, follow_up in enumerate(["Write a story about a lighthouse keeper.",
                                       *FOLLOW_UPS]):
        ttft, _decode, _n, turn = app_turn(chat, follow_up, 96, conversation_id)
        conversation_id = turn.conversation_id
        timings = turn.result.timings
        turns.append({"turn": index + 1, "ttft_s": ttft,
                      "prompt_tokens": turn.result.prompt_tokens,
                      "evaluated": timings.prompt_tokens_evaluated})
        print(f"turn {index + 1:2}: ttft {ttft * 1000:7.1f} ms  prompt "
              f"{turn.result.prompt_tokens:5} tokens, evaluated {timings.prompt_tokens_evaluated}",
              flush=True)
    history = [{"role": m.role, "content": m.content}
               for m in chat.history(services.store.get(conversation_id))][:-1]
    history.append({"role": "user", "content": FOLLOW_UPS[-1]})
    raw.llm.reset()
    cold_ttft, _, _ = raw.run(history, 1)

    figures = {
        "model": model.id, "reps": args.reps, "tokens": args.tokens, "power_sensors": sensors,
        "raw_decode_tps": medians["raw_decode"], "app_decode_tps": medians["app_decode"],
        "decode_ratio": decode_ratio,
        "raw_ttft_ms": medians["raw_ttft"] * 1000, "app_ttft_ms": medians["app_ttft"] * 1000,
        "ttft_overhead_ms": ttft_overhead_ms, "ttft_overhead_paired_median_ms": paired_ms,
        "turn1_ttft_ms": turns[0]["ttft_s"] * 1000, "turn10_ttft_ms": turns[-1]["ttft_s"] * 1000,
        "turn10_prompt_tokens": turns[-1]["prompt_tokens"],
        "turn10_evaluated_tokens": turns[-1]["evaluated"],
        "turn10_cold_cache_ttft_ms": cold_ttft * 1000,
    }
    print("\n-- summary (medians) --")
    print(f"decode: raw {medians['raw_decode']:.1f} tok/s, app {medians['app_decode']:.1f} "
          f"tok/s -> ratio {decode_ratio:.3f}x (target >= 0.97x)")
    print(f"TTFT:   raw {medians['raw_ttft'] * 1000:.1f} ms, app {medians['app_ttft'] * 1000:.1f}"
          f" ms -> overhead {ttft_overhead_ms:+.1f} ms (paired median {paired_ms:+.1f} ms; "
          f"target <= 10 ms)")
    print(f"turn 10 TTFT {figures['turn10_ttft_ms']:.1f} ms vs turn 1 "
          f"{figures['turn1_ttft_ms']:.1f} ms; turn 10 on a cold cache "
          f"{figures['turn10_cold_cache_ttft_ms']:.1f} ms ({turns[-1]['prompt_tokens']} prompt "
          f"tokens, {turns[-1]['evaluated']} evaluated with reuse)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
