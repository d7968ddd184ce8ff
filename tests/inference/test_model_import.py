"""Importing other apps' models by reference: real folder layouts, real GGUF files, a real
library in a private data directory; the environment points the scan at them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from inference.engines.types import ModelInfo
from inference.models.importer import ImportPathError, ImportReport, import_models
from inference.models.library import ModelLibrary
from tests.inference.model_trees import (
    gpt4all_dir,
    hf_model,
    lmstudio_model,
    mlx_folder,
    ollama_model,
    sha256_of,
    write_gguf,
)


@dataclass
class Apps:
    home: Path
    ollama: Path
    hub: Path


@pytest.fixture
def apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Apps:
    """A user's home with no apps yet; every location the importer reads points inside."""
    found = Apps(tmp_path / "user", tmp_path / "ollama-models", tmp_path / "hf-home" / "hub")
    found.home.mkdir()
    monkeypatch.setenv("HOME", str(found.home))
    monkeypatch.setenv("OLLAMA_MODELS", str(found.ollama))
    monkeypatch.setenv("HF_HOME", str(found.hub.parent))
    for name in ("HF_HUB_CACHE", "XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    return found


@pytest.fixture
def library(stillroom_home: Path) -> ModelLibrary:
    return ModelLibrary(stillroom_home)


def _reasons(report: ImportReport) -> dict[str, str]:
    return {item.path.name: item.reason for item in report.skipped}


def test_every_known_app_is_imported_with_its_names_and_hashes(apps: Apps,
                                                               library: ModelLibrary) -> None:
    lmstudio = lmstudio_model(apps.home, "bartowski", "Foo-GGUF", "Foo-Q4_K_M.gguf")
    ollama_hash = ollama_model(apps.ollama, "gemma3", "1b")
    hf_hash = hf_model(apps.hub, "acme/Bar-GGUF", "Bar-Q8_0.gguf")
    gpt4all = write_gguf(gpt4all_dir(apps.home) / "Baz.Q4_0.gguf", "Baz")

    report = import_models(library)

    assert not report.skipped and not report.present
    imported = {item.model.name: item.model for item in report.imported}
    assert set(imported) == {"Foo-Q4_K_M", "gemma3:1b", "Bar-Q8_0", "Baz.Q4_0"}
    gemma = imported["gemma3:1b"]
    assert gemma.id == "gemma3-1b" and gemma.sha256 == ollama_hash
    assert gemma.path == str(apps.ollama / "blobs" / f"sha256-{ollama_hash}")
    assert gemma.extra["source"] == "imported from Ollama: gemma3:1b"
    bar = imported["Bar-Q8_0"]
    assert bar.sha256 == hf_hash and bar.path.endswith(f"blobs/{hf_hash}")
    assert bar.extra["source"].startswith("imported from the Hugging Face cache: "
                                          "acme/Bar-GGUF/Bar-Q8_0.gguf@")
    foo = imported["Foo-Q4_K_M"]
    assert foo.path == str(lmstudio) and foo.sha256 == sha256_of(lmstudio)
    assert foo.extra["source"] == "imported from LM Studio: bartowski/Foo-GGUF/Foo-Q4_K_M.gguf"
    assert imported["Baz.Q4_0"].path == str(gpt4all)
    # Registered, described from the header, and found by name as the user would type it.
    assert library.get("gemma3:1b") == gemma and gemma.quantization == "F16"
    assert {s.origin for s in report.searched if s.exists} == {"hf", "lmstudio", "ollama",
                                                               "gpt4all"}


def test_dry_run_registers_nothing(apps: Apps, library: ModelLibrary,
                                   stillroom_home: Path) -> None:
    ollama_model(apps.ollama, "gemma3", "1b")
    report = import_models(library, dry_run=True)
    assert [(i.found.name, i.model) for i in report.imported] == [("gemma3:1b", None)]
    assert len(library.list()) == 1 and not (stillroom_home / "models.json").exists()


def test_importing_again_changes_nothing(apps: Apps, library: ModelLibrary,
                                         stillroom_home: Path) -> None:
    lmstudio_model(apps.home, "bartowski", "Foo-GGUF", "Foo-Q4_K_M.gguf")
    ollama_model(apps.ollama, "gemma3", "1b")
    first = import_models(library)
    registry = (stillroom_home / "models.json").read_bytes()
    again = import_models(library)
    assert not again.imported and not again.skipped
    assert sorted(p.model_id for p in again.present) == sorted(i.model.id
                                                               for i in first.imported)
    assert (stillroom_home / "models.json").read_bytes() == registry


def test_a_model_the_library_already_has_is_present_not_added(
        apps: Apps, library: ModelLibrary, model: ModelInfo) -> None:
    """The embedded model's bytes in Ollama's store: known by hash, not listed twice."""
    ollama_model(apps.ollama, "smollm2", "135m", gguf=Path(model.path))
    report = import_models(library, origins=["ollama"])
    assert [(p.found.name, p.model_id) for p in report.present] == [("smollm2:135m", model.id)]
    assert len(library.list()) == 1


def test_broken_files_are_skipped_with_the_reason(apps: Apps, library: ModelLibrary) -> None:
    folder = apps.home / ".lmstudio" / "models" / "someone" / "Broken-GGUF"
    folder.mkdir(parents=True)
    (folder / "zip.gguf").write_bytes(b"PK\x03\x04" + b"\0" * 200)
    whole = write_gguf(folder / "cut.gguf", "cut").read_bytes()
    (folder / "cut.gguf").write_bytes(whole[:-10])
    good = lmstudio_model(apps.home, "someone", "Broken-GGUF", "good.gguf")

    report = import_models(library, origins=["lmstudio"])

    reasons = _reasons(report)
    assert "is not a GGUF model" in reasons["zip.gguf"]
    assert "cut.gguf is truncated" in reasons["cut.gguf"]
    assert [i.model.path for i in report.imported] == [str(good)]


def test_a_blob_that_is_not_what_its_name_says_is_refused(apps: Apps,
                                                          library: ModelLibrary) -> None:
    digest = ollama_model(apps.ollama, "gemma3", "1b")
    blob = apps.ollama / "blobs" / f"sha256-{digest}"
    write_gguf(blob, "something else")  # a valid GGUF, but not the bytes Ollama recorded
    report = import_models(library, origins=["ollama"])
    assert not report.imported
    assert "expected" in _reasons(report)[blob.name] and "not registered" in \
        _reasons(report)[blob.name]
    assert len(library.list()) == 1


def test_ollama_tags_of_one_blob_and_missing_blobs(apps: Apps, library: ModelLibrary) -> None:
    digest = ollama_model(apps.ollama, "gemma3", "1b")
    manifests = apps.ollama / "manifests" / "registry.ollama.ai" / "library" / "gemma3"
    (manifests / "latest").write_bytes((manifests / "1b").read_bytes())  # an alias tag
    gone = ollama_model(apps.ollama, "qwen3", "0.6b")
    (apps.ollama / "blobs" / f"sha256-{gone}").unlink()
    (manifests.parent / "broken" / "latest").parent.mkdir()
    (manifests.parent / "broken" / "latest").write_text("{not json", encoding="utf-8")
    ollama_model(apps.ollama, "coder", "7b", namespace="someuser")

    report = import_models(library, origins=["ollama"])

    assert sorted(i.found.name for i in report.imported) == ["gemma3:1b", "someuser/coder:7b"]
    reasons = _reasons(report)
    assert reasons[f"sha256-{digest}"] == ("gemma3:latest is the same model as gemma3:1b "
                                           "(Ollama); imported once")
    assert "weights of qwen3:0.6b are missing" in reasons[f"sha256-{gone}"]
    assert reasons["latest"] == "the manifest of broken:latest is not readable JSON"


def test_split_models_are_registered_once_through_part_one(apps: Apps,
                                                           library: ModelLibrary) -> None:
    folder = gpt4all_dir(apps.home)
    first = write_gguf(folder / "Big-00001-of-00002.gguf", "part 1")
    write_gguf(folder / "Big-00002-of-00002.gguf", "part 2")
    write_gguf(folder / "Half-00001-of-00003.gguf", "half 1")
    write_gguf(folder / "Half-00003-of-00003.gguf", "half 3")

    report = import_models(library, origins=["gpt4all"])

    assert [(i.model.name, i.model.path) for i in report.imported] == [("Big", str(first))]
    reasons = _reasons(report)
    assert reasons["Big-00002-of-00002.gguf"] == ("part 2 of 2 of Big; the model is "
                                                  "registered through part 1")
    assert reasons["Half-00001-of-00003.gguf"] == ("Half is split over 3 files and part(s) 2 "
                                                   "are missing")


def test_projectors_embedders_mlx_folders_and_old_revisions_are_reported(apps: Apps,
                                                              library: ModelLibrary) -> None:
    write_gguf(apps.home / ".lmstudio" / "models" / "x" / "Vision-GGUF" / "mmproj-f16.gguf",
               "projector", architecture="clip")
    ollama_model(apps.ollama, "nomic-embed-text", "latest",
                 gguf=write_gguf(apps.home / "embed.gguf", "embed", architecture="nomic-bert"))
    mlx = mlx_folder(apps.hub / "models--mlx-community--Qwen3-4bit" / "snapshots" / ("b" * 40))
    hf_model(apps.hub, "acme/Bar-GGUF", "Bar.gguf", revision="1" * 40)
    newest = hf_model(apps.hub, "acme/Bar-GGUF", "Bar.gguf", revision="2" * 40)

    report = import_models(library)

    assert [i.model.sha256 for i in report.imported] == [newest]
    reasons = {item.path: item.reason for item in report.skipped}
    assert "vision projector" in reasons[apps.home / ".lmstudio" / "models" / "x" /
                                         "Vision-GGUF" / "mmproj-f16.gguf"]
    assert "has no tokenizer" in reasons[mlx]  # the test tree's folder has weights only
    (embedder,) = (path for path in reasons if path.parent == apps.ollama / "blobs")
    assert reasons[embedder].startswith("an embedding model (nomic-bert)")
    old = apps.hub / "models--acme--Bar-GGUF" / "snapshots" / ("1" * 40) / "Bar.gguf"
    assert reasons[old] == "an older revision of acme/Bar-GGUF/Bar.gguf; the newest one is imported"


def test_an_explicit_path_is_read_in_its_own_layout(apps: Apps, library: ModelLibrary,
                                                    tmp_path: Path) -> None:
    backup = tmp_path / "backup" / "ollama"
    ollama_model(backup, "llama3.2", "3b")
    report = import_models(library, path=backup)
    assert [(s.origin, s.path) for s in report.searched] == [("ollama", backup)]
    assert [i.model.name for i in report.imported] == ["llama3.2:3b"]

    loose = write_gguf(tmp_path / "Downloads" / "notes" / "model.bin", "loose")
    single = import_models(library, path=loose)  # a named file needs no .gguf suffix
    assert [i.model.path for i in single.imported] == [str(loose)]
    assert single.imported[0].model.extra["source"] == "imported file"

    with pytest.raises(ImportPathError, match="does not exist"):
        import_models(library, path=tmp_path / "nowhere")


def test_no_apps_installed_finds_nothing(apps: Apps, library: ModelLibrary) -> None:
    report = import_models(library)
    assert not (report.imported or report.present or report.skipped)
    assert report.searched and not any(s.exists for s in report.searched)


def test_the_hf_cache_location_follows_the_environment(apps: Apps, library: ModelLibrary,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "big-disk" / "hub"
    hf_model(elsewhere, "acme/Bar-GGUF", "Bar.gguf")
    monkeypatch.setenv("HF_HUB_CACHE", str(elsewhere))
    report = import_models(library, origins=["hf"])
    assert [s.path for s in report.searched] == [elsewhere]
    assert len(report.imported) == 1


def test_registry_json_records_the_import(apps: Apps, library: ModelLibrary,
                                          stillroom_home: Path) -> None:
    ollama_model(apps.ollama, "gemma3", "1b")
    import_models(library, origins=["ollama"])
    (entry,) = json.loads((stillroom_home / "models.json").read_text())["models"]
    assert entry["name"] == "gemma3:1b" and entry["format"] == "gguf"


def test_an_mlx_folder_is_imported_as_an_mlx_model(apps: Apps, library: ModelLibrary) -> None:
    snapshot = apps.hub / "models--mlx-community--Qwen3-4bit" / "snapshots" / ("b" * 40)
    mlx_folder(snapshot)
    (snapshot / "tokenizer.json").write_text("{}", encoding="utf-8")

    dry = import_models(library, dry_run=True)
    assert [(i.quantization, i.size_bytes) for i in dry.imported] == [
        ("4bit", sum(p.stat().st_size for p in snapshot.iterdir()))]
    (imported,) = import_models(library).imported
    model = imported.model
    assert (model.format, model.quantization, model.path) == ("mlx", "4bit", str(snapshot))
    assert model.id == "qwen3-4bit"
    library.verify(model)
    again = import_models(library)
    assert not again.imported and [p.model_id for p in again.present] == [model.id]
