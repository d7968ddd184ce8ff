"""Other apps' model folders, laid out as those apps lay them out, with real GGUF files.

Small models are written with gguf-py's GGUFWriter (a real header and tensor table; each
name gives different bytes, so different hashes). Where a test needs a model that answers,
it links a real one in (hard links: no 100 MB copies).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
from gguf import GGUFWriter

OLLAMA_REGISTRY = "registry.ollama.ai"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_gguf(path: Path, name: str, *, architecture: str = "llama") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(str(path), architecture)
    writer.add_name(name)
    writer.add_context_length(256)
    writer.add_file_type(1)  # F16
    seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    weights = np.random.default_rng(seed).standard_normal((4, 8)).astype(np.float16)
    writer.add_tensor("token_embd.weight", weights)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def link_or_copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copyfile(source, target)
    return target


def lmstudio_model(home: Path, publisher: str, repo: str, filename: str) -> Path:
    return write_gguf(home / ".lmstudio" / "models" / publisher / repo / filename,
                      f"{repo}/{filename}")


def ollama_model(models: Path, name: str, tag: str, gguf: Path | None = None,
                 namespace: str = "library") -> str:
    """Put a model in an Ollama store the way `ollama pull` does: the GGUF as
    blobs/sha256-<its hash> and a manifest naming it. Returns the hash."""
    if gguf is None:
        gguf = write_gguf(models / "incoming.gguf", f"{namespace}/{name}:{tag}")
    digest = sha256_of(gguf)
    blob = models / "blobs" / f"sha256-{digest}"
    if not blob.exists():
        link_or_copy(gguf, blob)
    if gguf.parent == models:
        gguf.unlink()
    config = b'{"model_format":"gguf"}'
    config_digest = hashlib.sha256(config).hexdigest()
    (models / "blobs" / f"sha256-{config_digest}").write_bytes(config)
    manifest = models / "manifests" / OLLAMA_REGISTRY / namespace / name / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "digest": f"sha256:{config_digest}", "size": len(config)},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model",
             "digest": f"sha256:{digest}", "size": blob.stat().st_size},
            {"mediaType": "application/vnd.ollama.image.params",
             "digest": f"sha256:{config_digest}", "size": len(config)},
        ],
    }), encoding="utf-8")
    return digest


def hf_model(hub: Path, repo_id: str, filename: str, revision: str = "a" * 40,
             name: str | None = None) -> str:
    """Lay a file out as huggingface-hub does: blobs/<sha256> and a relative link to it
    from snapshots/<commit>/<file>; refs/main names the commit. Returns the hash."""
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    incoming = write_gguf(repo / "blobs" / "incoming", name or f"{repo_id}/{filename}@{revision}")
    digest = sha256_of(incoming)
    blob = incoming.rename(repo / "blobs" / digest)
    link = repo / "snapshots" / revision / filename
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision, encoding="utf-8")
    return digest


def mlx_folder(folder: Path) -> Path:
    """What mlx-lm's convert writes: config.json with a quantization entry + safetensors."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "quantization": {"group_size": 64, "bits": 4}}),
        encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    return folder


def gpt4all_dir(home: Path) -> Path:
    return home / ".local" / "share" / "nomic.ai" / "GPT4All"
