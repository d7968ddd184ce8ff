"""What Stillroom's streaming path costs over raw llama-cpp-python, measured in one run.

    .venv/bin/python bench/engine_overhead.py [--reps 7] [--tokens 128]

TTFT is what a user waits for: from pressing send to the first text on screen. The app path
is `ChatService.start()` then iterating the turn, on a fresh data directory: the question
saved, the sensitivity gate and routing, the energy window, the hand-off to the model's owner
thread, the answer row and its write-through, up to the first chunk that carries text. The
baseline is what a user of llama-cpp-python writes: `Llama.create_chat_completion(
stream=True)` on its own Llama instance of the same model (same context, threads, batch),
timed from the call to the first chunk with content. Both see the same messages (so the same
chat template and tokens), greedy sampling, and the same KV state: each path runs the same
prompts in the same order on its own context, so each reuses the same cached prefix; the
prompt tokens each evaluated are printed per repetition and a mismatch is flagged.

Decode is compared with a plain `Llama.generate` loop (detokenizing each token), the floor
of what Python can do around llama.cpp. The three paths run in a rotating order each
repetition; the TTFT overhead is the median of the per-repetition (paired) differences.
Targets (issues 2, 17): decode >= 0.97x the loop, TTFT overhead <= 10 ms.

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

from inference.engines.llama_native import FLASH_ATTENTION

TOPICS = ["a lighthouse keeper", "a lost robot", "a desert caravan", "a mountain village",
          "a clockmaker", "a deep-sea diver", "an old library", "a winter market",
          "a river pilot", "a night train", "a beekeeper"]
FOLLOW_UPS = ["Tell me more about the main character.", "What happens next?",
              "Describe the setting in detail.", "Add a surprising twist.",
              "Who is the antagonist?", "Write the ending.", "Summarise it so far.",
              "Give it a title and explain why.", "Rewrite the opening more vividly."]
PATHS = ("app", "chat", "loop")


def prompt_for(rep: int) -> str:
    return f"Write a long, detailed story about {TOPICS[rep % len(TOPICS)]}."


class RawModel:
    """llama-cpp-python used directly, with nothing of ours around it: one Llama instance."""

    def __init__(self, model_path: str, n_ctx: int, threads: tuple[int, int],
                 n_batch: int) -> None:
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llama_cpp = llama_cpp
        self.llm = llama_cpp.Llama(model_path=model_path, n_ctx=n_ctx, n_threads=threads[0],
                                   n_threads_batch=threads[1], n_batch=n_batch,
                                   flash_attn=FLASH_ATTENTION, verbose=False)
        model = self.llm._model
        self.formatter = Jinja2ChatFormatter(
            template=self.llm.metadata["tokenizer.chat_template"],
            eos_token=model.token_get_text(self.llm.token_eos()),
            bos_token=model.token_get_text(self.llm.token_bos()))

    def prompt_tokens(self, messages: list[dict]) -> list[int]:
        prompt = self.formatter(messages=messages).prompt
        return self.llm.tokenize(prompt.encode(), add_bos=False, special=True)

    def to_evaluate(self, tokens: list[int]) -> int:
        """How many prompt tokens llama-cpp-python will evaluate from this KV state (its
        prefix rule: a fully cached prompt still replays its last token)."""
        cached = list(self.llm.input_ids[: self.llm.n_tokens])
        shared = 0
        while shared < min(len(cached), len(tokens)) and cached[shared] == tokens[shared]:
            shared += 1
        return len(tokens) - (shared - 1 if shared == len(tokens) and shared else shared)

    def chat(self, messages: list[dict], max_tokens: int
             ) -> tuple[float, float, int, int | None]:
        """The baseline for TTFT: create_chat_completion(stream=True), as its docs show."""
        tokens = self.prompt_tokens(messages)
        evaluated: int | None = self.to_evaluate(tokens)
        started = time.perf_counter()
        first = last = None
        produced = 0
        for chunk in self.llm.create_chat_completion(
                messages, stream=True, max_tokens=max_tokens, temperature=0.0, top_k=40,
                top_p=0.95, repeat_penalty=1.0):
            if not chunk["choices"][0]["delta"].get("content"):
                continue
            now = time.perf_counter()
            first = first or now
            last = now
            produced += 1
        if list(self.llm.input_ids[: len(tokens)]) != tokens:
            evaluated = None  # llama-cpp-python's handler rendered another prompt
        decode = (produced - 1) / (last - first) if produced > 1 else float("nan")
        return first - started, decode, produced, evaluated

    def loop(self, messages: list[dict], max_tokens: int) -> tuple[float, float, int, int]:
        """The baseline for decode: a plain generate loop, detokenizing each token."""
        llm, vocab = self.llm, self.llm._model.vocab
        started = time.perf_counter()
        tokens = self.prompt_tokens(messages)
        evaluated = self.to_evaluate(tokens)
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
        return first - started, decode, produced, evaluated


def app_turn(chat, prompt: str, max_tokens: int, conversation_id: str | None = None):
    """One turn as a surface runs it; TTFT is the first chunk with text, as the CLI prints."""
    from app.turn.chat_turn import ChatOptions

    started = time.perf_counter()
    turn = chat.start(prompt, conversation_id=conversation_id,
                      options=ChatOptions(temperature=0, max_tokens=max_tokens))
    first = last = None
    for chunk in turn:
        if not chunk.text:
            continue
        now = time.perf_counter()
        first = first or now
        last = now
    result = turn.result
    produced = result.completion_tokens
    decode = (produced - 1) / (last - first) if produced > 1 else float("nan")
    return first - started, decode, produced, turn


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


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

    print(f"start: {load()} ({os.cpu_count()} logical CPUs)")
    services = Services.open()
    services.energy.wait_until_discovered()
    sensors = [sensor.name for sensor in services.energy.sensors]
    print(f"power sensors metering the app path: {', '.join(sensors) or 'none'}")
    chat = services.chat()
    model = services.library.list()[0]
    # Warm every path (page cache, first-call costs) before measuring.
    app_turn(chat, "Hello.", 8)
    engine = services.engines.engine_for(model)
    settings = engine.settings
    shape = (model.path, engine.context_length, (
        settings.n_threads or default_thread_counts()[0],
        settings.n_threads_batch or default_thread_counts()[1]), settings.n_batch)
    chat_raw, loop_raw = RawModel(*shape), RawModel(*shape)
    hello = [{"role": "user", "content": "Hello."}]
    chat_raw.chat(hello, 8)
    loop_raw.loop(hello, 8)

    samples: dict[str, list[float]] = {f"{path}_{figure}": [] for path in PATHS
                                       for figure in ("ttft", "decode")}
    mismatched = 0
    for rep in range(args.reps):
        prompt = prompt_for(rep)
        messages = [{"role": "user", "content": prompt}]
        evaluated = {}
        for path in PATHS[rep % 3:] + PATHS[: rep % 3]:
            if path == "app":
                ttft, decode, n, turn = app_turn(chat, prompt, args.tokens)
                evaluated[path] = turn.result.timings.prompt_tokens_evaluated
            elif path == "chat":
                ttft, decode, n, evaluated[path] = chat_raw.chat(messages, args.tokens)
            else:
                ttft, decode, n, evaluated[path] = loop_raw.loop(messages, args.tokens)
            samples[f"{path}_ttft"].append(ttft)
            samples[f"{path}_decode"].append(decode)
            print(f"rep {rep} {path:4}: ttft {ttft * 1000:7.1f} ms  decode {decode:6.1f} tok/s"
                  f"  ({n} tokens, {evaluated[path]} prompt tokens evaluated)", flush=True)
        if len(set(evaluated.values())) > 1:
            mismatched += 1
            print(f"rep {rep}: the paths evaluated different prompts {evaluated}: not the same "
                  f"KV state, so this repetition's TTFTs do not compare", flush=True)

    medians = {key: statistics.median(values) for key, values in samples.items()}
    decode_ratio = medians["app_decode"] / medians["loop_decode"]

    def paired_ms(baseline: str) -> float:
        return statistics.median((a - b) * 1000 for a, b in zip(
            samples["app_ttft"], samples[f"{baseline}_ttft"], strict=True))

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
    loop_raw.llm.reset()
    cold_ttft, _, _, _ = loop_raw.loop(history, 1)

    figures = {
        "model": model.id, "reps": args.reps, "tokens": args.tokens, "power_sensors": sensors,
        "load_average_end": os.getloadavg(), "kv_state_mismatched_reps": mismatched,
        "loop_decode_tps": medians["loop_decode"], "chat_decode_tps": medians["chat_decode"],
        "app_decode_tps": medians["app_decode"], "decode_ratio": decode_ratio,
        "chat_ttft_ms": medians["chat_ttft"] * 1000, "loop_ttft_ms": medians["loop_ttft"] * 1000,
        "app_ttft_ms": medians["app_ttft"] * 1000,
        "ttft_overhead_paired_median_ms": paired_ms("chat"),
        "ttft_overhead_over_loop_paired_median_ms": paired_ms("loop"),
        "turn1_ttft_ms": turns[0]["ttft_s"] * 1000, "turn10_ttft_ms": turns[-1]["ttft_s"] * 1000,
        "turn10_prompt_tokens": turns[-1]["prompt_tokens"],
        "turn10_evaluated_tokens": turns[-1]["evaluated"],
        "turn10_cold_cache_ttft_ms": cold_ttft * 1000,
    }
    print("\n-- summary (medians) --")
    print(f"decode: loop {medians['loop_decode']:.1f} tok/s, create_chat_completion "
          f"{medians['chat_decode']:.1f} tok/s, app {medians['app_decode']:.1f} tok/s -> "
          f"app/loop {decode_ratio:.3f}x (target >= 0.97x)")
    print(f"TTFT:   create_chat_completion {medians['chat_ttft'] * 1000:.1f} ms, app "
          f"{medians['app_ttft'] * 1000:.1f} ms -> overhead, paired median "
          f"{paired_ms('chat'):+.1f} ms (target <= 10 ms); over the generate loop "
          f"({medians['loop_ttft'] * 1000:.1f} ms) {paired_ms('loop'):+.1f} ms")
    if mismatched:
        print(f"WARNING: {mismatched} repetition(s) evaluated different prompt lengths")
    print(f"turn 10 TTFT {figures['turn10_ttft_ms']:.1f} ms vs turn 1 "
          f"{figures['turn1_ttft_ms']:.1f} ms; turn 10 on a cold cache "
          f"{figures['turn10_cold_cache_ttft_ms']:.1f} ms ({turns[-1]['prompt_tokens']} prompt "
          f"tokens, {turns[-1]['evaluated']} evaluated with reuse)")
    print(f"end: {load()}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    for raw in (chat_raw, loop_raw):
        raw.llm.close()  # now, not in __del__ at interpreter exit, when llama_cpp is gone
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
