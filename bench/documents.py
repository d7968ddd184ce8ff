"""Documents: parse time of our PDF reader vs raw pypdfium2 text extraction on the same PDFs
(interleaved, medians, and the median of each rep's back-to-back ratio; target: ours
<= 1.10x raw), and peak memory reading a 300-page PDF vs a
10-page one, each in a fresh child process (target: reading it does not hold all pages).

    .venv/bin/python bench/documents.py [--reps 7]

Ours is app.documents.readers.read_document: it also hashes the file (SHA-256), detects the
format from its first bytes and checks a textless page for images, all of which the raw
loop does not do. The PDFs come from the test corpus (tests/documents/corpus.py, fpdf2).

The parse functions are importable (parse_times, peak_memory, build_pdfs) so the batch
figures (documents per minute, prefix reuse) can join the same script.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.documents.readers import read_document  # noqa: E402
from tests.documents import corpus  # noqa: E402

PAGE_COUNTS = (10, 50, 300)


def build_pdfs(folder: Path, page_counts: tuple[int, ...] = PAGE_COUNTS) -> dict[int, Path]:
    return {pages: corpus.text_pdf(folder / f"pages-{pages}.pdf",
                                   corpus.numbered_pages(pages, words_per_page=250))
            for pages in page_counts}


def raw_pypdfium2(path: Path) -> list[str]:
    """The baseline: pypdfium2's own page-by-page text extraction, nothing else."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    texts = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return texts


def ours(path: Path) -> list[str]:
    document = read_document(path)
    assert document.ok, document.reason
    return [part.text for part in document.parts]


def parse_times(pdfs: dict[int, Path], reps: int) -> list[dict[str, float]]:
    """Median seconds per PDF, ours and raw interleaved (the order flips every rep, so
    neither always runs on a warmer cache)."""
    rows = []
    for pages, path in pdfs.items():
        assert len(ours(path)) == len(raw_pypdfium2(path)) == pages  # warm-up and check
        times: dict[str, list[float]] = {"ours": [], "raw": []}
        for rep in range(reps):
            order = (("ours", ours), ("raw", raw_pypdfium2))
            for name, reader in order if rep % 2 == 0 else reversed(order):
                started = time.perf_counter()
                reader(path)
                times[name].append(time.perf_counter() - started)
        ours_s, raw_s = statistics.median(times["ours"]), statistics.median(times["raw"])
        # Each rep's pair ran back to back: the median of their ratios cancels the load that
        # other processes put on a shared machine over the run better than a ratio of medians.
        paired = statistics.median(a / b for a, b in zip(times["ours"], times["raw"],
                                                         strict=True))
        rows.append({"pages": pages, "ours_ms": ours_s * 1000, "raw_ms": raw_s * 1000,
                     "ratio": ours_s / raw_s, "paired_ratio": paired})
    return rows


def held_pypdfium2(path: Path) -> list[str]:
    """The contrast for memory: every page and text page kept open until the end, as a
    reader that collects pages before using them would."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    pages = [pdf[index] for index in range(len(pdf))]
    textpages = [page.get_textpage() for page in pages]
    texts = [textpage.get_text_range() for textpage in textpages]
    for textpage, page in zip(textpages, pages, strict=True):
        textpage.close()
        page.close()
    pdf.close()
    return texts


_MEMORY_CHILD = """
import json, sys, threading, time
from pathlib import Path
import psutil
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/bench"]
from documents import held_pypdfium2, ours
reader = {"ours": ours, "held": held_pypdfium2}[sys.argv[2]]
reader(Path(sys.argv[4]))  # imports and pdfium's first-use allocations, not counted
process = psutil.Process()
baseline = peak = process.memory_info().rss
done = threading.Event()
def sample():
    global peak
    while not done.is_set():
        peak = max(peak, process.memory_info().rss)
        time.sleep(0.001)
sampler = threading.Thread(target=sample)
sampler.start()
texts = reader(Path(sys.argv[3]))
peak = max(peak, process.memory_info().rss)
done.set()
sampler.join()
print(json.dumps({"pages": len(texts), "peak_growth_kib": (peak - baseline) // 1024}))
"""


def peak_memory(path: Path, warm_up: Path, reader: str = "ours") -> dict[str, int]:
    """Resident memory growth while reading `path` in a fresh process (pdfium's native
    memory included; sampled every millisecond), after a warm-up read of a small PDF.
    reader: "ours" (read_document) or "held" (raw, all pages kept open)."""
    done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(ROOT), reader, str(path),
                           str(warm_up)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stillroom-bench-docs-") as folder:
        pdfs = build_pdfs(Path(folder))
        print(f"Parse time, median of {args.reps} (interleaved)")
        print(f"{'pages':>6} {'size KiB':>9} {'ours ms':>9} {'raw ms':>9} {'ours/raw':>9} "
              f"{'paired':>7}")
        for row in parse_times(pdfs, args.reps):
            size = pdfs[int(row["pages"])].stat().st_size // 1024
            print(f"{row['pages']:>6} {size:>9} {row['ours_ms']:>9.1f} {row['raw_ms']:>9.1f} "
                  f"{row['ratio']:>8.2f}x {row['paired_ratio']:>6.2f}x")
        warm_up = corpus.text_pdf(Path(folder) / "warm.pdf", ["warm-up"])
        print("\nPeak resident memory growth reading one PDF in a fresh process (KiB)")
        print(f"{'pages':>6} {'ours':>8} {'all pages held':>15}")
        for pages in (10, 300):
            mine = peak_memory(pdfs[pages], warm_up, "ours")["peak_growth_kib"]
            held = peak_memory(pdfs[pages], warm_up, "held")["peak_growth_kib"]
            print(f"{pages:>6} {mine:>8} {held:>15}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
