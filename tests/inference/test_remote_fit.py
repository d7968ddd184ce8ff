"""Search and fit-before-download against a loopback Hub, with real GGUF files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.engines.types import ModelInfo
from inference.hardware import GpuInfo
from inference.hub.remote_fit import list_repo_models, read_remote_summary, remote_fit
from inference.hub.search import search_models
from inference.hub.transfer import HubError, choose_file, repo_files
from inference.models.fit import estimate_fit
from inference.models.gguf_file import read_summary
from tests.inference.fake_hub import FakeHub

GIB = 1024 ** 3


def make_gguf(path: Path, *, vocab: int = 100, payload_bytes: int = 4096,
              layers: int = 4, width: int = 64, heads: int = 4, kv_heads: int = 2) -> Path:
    """A real GGUF (gguf-py's writer): llama-shaped metadata, a `vocab`-token vocabulary
    with merges (what makes real headers several MB) and one tensor of payload."""
    import gguf

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(layers)
    writer.add_embedding_length(width)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_context_length(4096)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list([f"tok{i:07d}" for i in range(vocab)])
    writer.add_token_types([1] * vocab)
    writer.add_token_merges([f"tok{i:07d} tok{i + 1:07d}" for i in range(vocab - 1)])
    writer.add_tensor("token_embd.weight", np.zeros(payload_bytes // 4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _file_gets(hub: FakeHub) -> list[str | None]:
    return [r.headers.get("range") for r in hub.requests
            if r.method == "GET" and "/resolve/" in r.path]


# -- search ------------------------------------------------------------------------------
def test_search_finds_gguf_and_mlx_repos_most_downloaded_first(fake_hub: FakeHub) -> None:
    fake_hub.add("acme/Smol-GGUF", {"a.gguf": b"x"}, downloads=50, likes=3, gated=True)
    fake_hub.add("mlx-community/Smol-4bit", {"model.safetensors": b"x"},
                 tags=["mlx", "safetensors"], library_name="mlx", downloads=90)
    fake_hub.add("acme/Smol", {"model.safetensors": b"x"}, tags=["safetensors"],
                 downloads=1000)  # no format we run: not listed
    fake_hub.add("acme/Other-GGUF", {"b.gguf": b"x"}, downloads=5000)  # no match
    found = search_models("smol")
    assert [(r.repo_id, r.format, r.downloads) for r in found] == [
        ("mlx-community/Smol-4bit", "mlx", 90), ("acme/Smol-GGUF", "gguf", 50)]
    gguf_repo = found[1]
    assert gguf_repo.gated and gguf_repo.likes == 3
    assert gguf_repo.last_modified is not None and gguf_repo.last_modified.year == 2026
    searches = [r.path for r in fake_hub.requests if r.path.startswith("/api/models?")]
    assert all("search=smol" in p and "sort=downloads" in p for p in searches)
    assert len(search_models("smol", limit=1)) == 1


def test_a_refused_search_is_one_clear_error(fake_hub: FakeHub) -> None:
    # (An unreachable Hub gives the same error after huggingface-hub's own retries.)
    fake_hub.search_status = 400
    with pytest.raises(HubError, match="Could not search the Hub for 'smol'"):
        search_models("smol")


# -- remote header -----------------------------------------------------------------------
def test_remote_fit_reads_only_the_header_of_the_embedded_model(
        fake_hub: FakeHub, model: ModelInfo) -> None:
    fake_hub.add("acme/Smol-GGUF", {"Smol-Q4_1.gguf": Path(model.path)})
    remote = choose_file("acme/Smol-GGUF", repo_files("acme/Smol-GGUF"), None)
    remote_summary = read_remote_summary(remote)
    local = read_summary(model.path)
    assert remote_summary.size_bytes == model.size_bytes
    assert (remote_summary.block_count, remote_summary.head_count_kv,
            remote_summary.embedding_length, remote_summary.chat_template) == \
        (local.block_count, local.head_count_kv, local.embedding_length, local.chat_template)
    # Its 49k-token vocabulary makes the header larger than the first 1 MiB read.
    assert _file_gets(fake_hub) == ["bytes=0-1048575", "bytes=1048576-4194303"]
    fit = remote_fit(remote, 4096)
    assert fit == estimate_fit(local, 4096)


def test_a_large_vocabulary_header_is_read_in_growing_ranges(
        fake_hub: FakeHub, tmp_path: Path) -> None:
    big = make_gguf(tmp_path / "Big-F32.gguf", vocab=300_000, payload_bytes=40 << 20,
                    layers=32, width=4096, heads=32, kv_heads=8)
    fake_hub.add("acme/Big-GGUF", {big.name: big})
    (remote,) = repo_files("acme/Big-GGUF")
    fit = remote_fit(remote, 8192)
    assert _file_gets(fake_hub)[:3] == ["bytes=0-1048575", "bytes=1048576-4194303",
                                        "bytes=4194304-16777215"]
    fetched = 16 << 20
    assert fetched < big.stat().st_size  # the 40 MB of tensor data was never fetched
    assert fit.weights_bytes == big.stat().st_size
    # 2 (K and V) x 32 layers x 8 KV heads x 128 head size x 8192 tokens x 2 bytes
    assert fit.kv_cache_bytes == 2 * 32 * 8 * 128 * 8192 * 2


def test_shards_are_summed_and_only_the_first_is_read(fake_hub: FakeHub,
                                                      tmp_path: Path) -> None:
    first = make_gguf(tmp_path / "Model-Q8_0-00001-of-00002.gguf", payload_bytes=1 << 20)
    second = make_gguf(tmp_path / "Model-Q8_0-00002-of-00002.gguf", payload_bytes=3 << 20)
    fake_hub.add("acme/Split-GGUF", {first.name: first, second.name: second})
    files = repo_files("acme/Split-GGUF")
    shard_one = next(f for f in files if f.filename == first.name)
    fit = remote_fit(shard_one, 2048)
    assert fit.weights_bytes == first.stat().st_size + second.stat().st_size
    assert all(first.name in r.path for r in fake_hub.requests if "/resolve/" in r.path)


def test_a_missing_shard_is_reported(fake_hub: FakeHub, tmp_path: Path) -> None:
    first = make_gguf(tmp_path / "Model-Q8_0-00001-of-00003.gguf")
    fake_hub.add("acme/Split-GGUF", {first.name: first})
    (remote,) = repo_files("acme/Split-GGUF")
    with pytest.raises(HubError, match="lists 1 of the 3 shards"):
        remote_fit(remote, 2048)


def test_a_file_that_is_not_gguf_is_reported(fake_hub: FakeHub) -> None:
    fake_hub.add("acme/Odd-GGUF", {"odd.gguf": b"PK\x03\x04" + b"\0" * 5000})
    (remote,) = repo_files("acme/Odd-GGUF")
    with pytest.raises(HubError, match="not a GGUF model"):
        remote_fit(remote, 2048)


def test_repo_listing_groups_shards_and_reads_one_header_per_family(
        fake_hub: FakeHub, tmp_path: Path) -> None:
    q4 = make_gguf(tmp_path / "Model-Q4_K_M.gguf", payload_bytes=1 << 20)
    q8 = make_gguf(tmp_path / "Model-Q8_0.gguf", payload_bytes=2 << 20)
    s1 = make_gguf(tmp_path / "Model-F16-00001-of-00002.gguf", payload_bytes=2 << 20)
    s2 = make_gguf(tmp_path / "Model-F16-00002-of-00002.gguf", payload_bytes=2 << 20)
    proj = make_gguf(tmp_path / "mmproj-Model-F16.gguf")
    fake_hub.add("acme/Model-GGUF", {p.name: p for p in (q4, q8, s1, s2, proj)}
                 | {"README.md": b"# Model\n"})
    listing = {m.filename: m for m in list_repo_models("acme/Model-GGUF", 4096)}
    assert sorted(listing) == sorted([q4.name, q8.name, s1.name, proj.name])
    f16 = listing[s1.name]
    assert f16.size_bytes == s1.stat().st_size + s2.stat().st_size and len(f16.shards) == 2
    assert (listing[q4.name].quantization, f16.quantization) == ("Q4_K_M", "F16")
    assert listing[proj.name].kind == "projector" and listing[proj.name].fit is None
    assert all(m.fit is not None and m.fit.verdict == "fits"
               for m in listing.values() if m.kind == "model")
    header_reads = {r.path.rsplit("/", 1)[1] for r in fake_hub.requests
                    if r.method == "GET" and "/resolve/" in r.path}
    assert len(header_reads) == 1  # Q4_K_M, Q8_0 and F16 share the family's header


# -- GPU offload advice ------------------------------------------------------------------
def _summary(tmp_path: Path, size_gib: float):
    path = make_gguf(tmp_path / "m.gguf", layers=32, width=4096, heads=32, kv_heads=8)
    import dataclasses

    return dataclasses.replace(read_summary(path), size_bytes=int(size_gib * GIB))


def test_a_model_that_fits_in_vram_is_fully_offloaded(tmp_path: Path) -> None:
    gpu = GpuInfo("RTX 4090", "NVIDIA", 24 * GIB, "nvml")
    fit = estimate_fit(_summary(tmp_path, 4.0), 8192, gpus=[gpu], cuda_build=True)
    assert (fit.verdict, fit.memory_kind, fit.n_gpu_layers) == ("fits", "VRAM", -1)
    assert fit.offload.device == "RTX 4090" and fit.available_bytes == 24 * GIB


def test_a_model_larger_than_vram_is_partly_offloaded(tmp_path: Path) -> None:
    gpu = GpuInfo("RTX 3060", "NVIDIA", 8 * GIB, "nvml")
    fit = estimate_fit(_summary(tmp_path, 12.0), 8192, gpus=[gpu], cuda_build=True)
    assert fit.memory_kind == "VRAM + RAM"
    assert 0 < fit.n_gpu_layers < 32
    assert f"{fit.n_gpu_layers} of 32 layers" in fit.explanation


def test_no_gpu_means_cpu_only_and_apple_silicon_offloads_everything(tmp_path: Path) -> None:
    summary = _summary(tmp_path, 4.0)
    assert estimate_fit(summary, 4096, gpus=[]).n_gpu_layers == 0
    apple = GpuInfo("Apple M3", "Apple", 32 * GIB, "apple-silicon")
    fit = estimate_fit(summary, 4096, gpus=[apple], available_bytes=20 * GIB)
    assert (fit.memory_kind, fit.n_gpu_layers, fit.verdict) == ("unified memory", -1, "fits")


def test_a_cpu_build_of_llama_cpp_does_not_count_the_gpu(tmp_path: Path) -> None:
    gpu = GpuInfo("RTX 4090", "NVIDIA", 24 * GIB, "nvml")
    fit = estimate_fit(_summary(tmp_path, 4.0), 8192, gpus=[gpu], cuda_build=False)
    assert (fit.memory_kind, fit.n_gpu_layers) == ("RAM", 0)
    assert "build has no CUDA" in fit.offload.reason
