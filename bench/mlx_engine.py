"""The MLX engine against the llama.cpp engine on the same weights, measured in one run.

    .venv/bin/python bench/mlx_engine.py [--reps 3] [--tokens 64] [--keep DIR]

Both models come from the embedded SmolLM2-135M GGUF: its weights as a Hugging Face
checkpoint (tests/inference/derive_hf_checkpoint.py), then `models quantize --type
mlx-4bit`'s converter (timed). Each repetition asks both engines the same new question,
greedy (both reuse only the template's shared system-prompt prefix, as in use); medians
reported, with MLX as a ratio of llama.cpp. On Apple Silicon MLX runs on the GPU;
elsewhere on the CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTIONS = ["Write a story about a lighthouse keeper.", "Describe a winter market.",
             "Explain how a river pilot works.", "Tell me about a night train.",
             "Write a poem about a clockmaker.", "Describe a deep-sea dive."]


def run(engine, question: str, tokens: int) -> tuple[float, float, float]:
    from inference.engines.types import ChatMessage, GenerationRequest

    request = GenerationRequest([ChatMessage("user", question)], max_tokens=tokens,
                                temperature=0.0)
    timings = list(engine.stream(request))[-1].timings
    return timings.ttft_s, timings.prefill_tps or 0.0, timings.decode_tps or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--keep", type=Path, help="keep the derived and converted models here")
    args = parser.parse_args()

    from inference.convert.mlx_convert import convert
    from inference.engines.llama_engine import LlamaCppEngine
    from inference.engines.mlx_engine import MlxEngine
    from inference.models.library import ModelLibrary, embedded_model
    from tests.inference.derive_hf_checkpoint import derive

    work = args.keep or Path(tempfile.mkdtemp(prefix="stillroom-mlx-bench-"))
    hf_dir, mlx_dir = work / "SmolLM2-135M-Instruct", work / "SmolLM2-135M-Instruct-mlx-4bit"
    started = time.perf_counter()
    if not hf_dir.exists():
        derive(embedded_model().path, hf_dir)
    print(f"derived HF checkpoint: {time.perf_counter() - started:.1f} s")
    if not mlx_dir.exists():
        result = convert(hf_dir, mlx_dir, "mlx-4bit")
        print(f"mlx-4bit conversion (child process, wall): {result.elapsed_s:.1f} s, "
              f"{result.size_bytes / 1e6:.1f} MB")

    library = ModelLibrary(work / "home")
    engines = {"llama.cpp Q4_1": LlamaCppEngine(embedded_model()),
               "mlx 4bit": MlxEngine(library.register(mlx_dir))}
    for name, engine in engines.items():
        started = time.perf_counter()
        engine.load()
        print(f"{name}: load {time.perf_counter() - started:.2f} s")
        run(engine, "Say hi.", 4)  # warm-up

    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in engines}
    for rep in range(args.reps):
        question = QUESTIONS[rep % len(QUESTIONS)]
        for name, engine in engines.items():
            results[name].append(run(engine, question, args.tokens))

    medians = {name: [statistics.median(r[i] for r in rows) for i in range(3)]
               for name, rows in results.items()}
    base = medians["llama.cpp Q4_1"]
    print(f"{'engine':16} {'TTFT s':>8} {'prefill tok/s':>14} {'decode tok/s':>13}")
    for name, (ttft, prefill, decode) in medians.items():
        print(f"{name:16} {ttft:8.3f} {prefill:14.1f} {decode:13.1f}")
    mlx = medians["mlx 4bit"]
    print(f"mlx / llama.cpp: TTFT x{mlx[0] / base[0]:.1f}, prefill x{mlx[1] / base[1]:.2f}, "
          f"decode x{mlx[2] / base[2]:.2f}")
    for engine in engines.values():
        engine.unload()


if __name__ == "__main__":
    main()
