"""Nothing from a remote server chooses a path: a modified loopback Hub publishes hostile
file names, hashes, commits and repository ids, and nothing lands or is deleted outside
the HF cache."""

import os
import re
from pathlib import Path

import pytest

from inference.engines.types import ModelInfo
from inference.hub.remote_names import (
    RemoteNameError,
    check_commit,
    check_filename,
    check_repo_id,
    check_sha256,
    check_size,
    within,
)
from inference.hub.search import search_models
from inference.hub.transfer import cache_dir, choose_file, download, repo_files
from tests.conftest import run_cli
from tests.inference.fake_hub import FakeHub

REPO = "acme/Smol-GGUF"
FILE = "Smol-135M-Instruct-Q4_1.gguf"


def _everything_under(root: Path) -> set[Path]:
    return {Path(d) / name for d, dirs, files in os.walk(root) for name in dirs + files}


def test_a_file_name_climbing_out_of_the_cache_is_refused(fake_hub: FakeHub, model: ModelInfo,
                                                          tmp_path: Path) -> None:
    fake_hub.add(REPO, {"../../../../escape.gguf": Path(model.path)})
    before = _everything_under(tmp_path)
    with pytest.raises(RemoteNameError, match=re.escape("file name is '../../../../escape.gguf'")):
        download(choose_file(REPO, repo_files(REPO), None))
    created = _everything_under(tmp_path) - before
    assert all(p.is_relative_to(cache_dir()) for p in created), created
    assert not (tmp_path / "escape.gguf").is_symlink()


def test_an_absolute_file_name_is_refused(fake_hub: FakeHub, model: ModelInfo,
                                          tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "planted.gguf"
    fake_hub.add(REPO, {str(target): Path(model.path)})
    with pytest.raises(RemoteNameError, match="file name"):
        download(choose_file(REPO, repo_files(REPO), None))
    assert not target.is_symlink() and not target.parent.exists()


def test_a_published_hash_with_dots_deletes_nothing(fake_hub: FakeHub, model: ModelInfo,
                                                    tmp_path: Path) -> None:
    """blobs/<sha256> with sha256 '../../../victim' is HF_HOME/victim: the checksum step
    used to delete it as a 'corrupt download'."""
    fake_hub.add(REPO, {FILE: Path(model.path)})
    fake_hub.published_sha256[FILE] = "../../../victim"
    victim = cache_dir().parent / "victim"
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_text("the user's file")
    with pytest.raises(RemoteNameError, match=re.escape(
            f"sha256 of {FILE} is '../../../victim': not 64")):
        download(choose_file(REPO, repo_files(REPO), FILE))
    assert victim.read_text() == "the user's file"


def test_an_upper_case_or_short_hash_is_refused(fake_hub: FakeHub, model: ModelInfo) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    fake_hub.published_sha256[FILE] = model.sha256.upper()
    with pytest.raises(RemoteNameError, match="sha256"):
        repo_files(REPO)


def test_a_commit_with_dots_places_no_link_outside(fake_hub: FakeHub, model: ModelInfo,
                                                   tmp_path: Path) -> None:
    fake_hub.add(REPO, {FILE: Path(model.path)})
    fake_hub.commit = "../../../../outside"
    with pytest.raises(RemoteNameError, match=re.escape("revision is '../../../../outside'")):
        download(choose_file(REPO, repo_files(REPO), FILE))
    assert not (tmp_path / "outside").exists()


def test_a_search_result_with_a_hostile_repo_id_is_refused(fake_hub: FakeHub) -> None:
    fake_hub.add(REPO, {FILE: b"GGUF"})
    fake_hub.claimed_ids[REPO] = "../../etc"
    with pytest.raises(RemoteNameError, match=re.escape("repo id '../../etc'")):
        search_models("smol")


def test_pull_of_a_hostile_file_name_is_one_clear_line(stillroom_home: Path, fake_hub: FakeHub,
                                                       model: ModelInfo,
                                                       tmp_path: Path) -> None:
    fake_hub.add(REPO, {"../../../../escape.gguf": Path(model.path)})
    env = {k: os.environ[k] for k in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_DISABLE_TELEMETRY")}
    result = run_cli("models", "pull", REPO, home=stillroom_home, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "file name is '../../../../escape.gguf'" in (
        result.stderr)
    assert not (tmp_path / "escape.gguf").is_symlink()


@pytest.mark.parametrize("value", ["acme/Smol-GGUF", "gpt2", "a/b.c_d-e", "A1/" + "x" * 92])
def test_repo_ids_in_the_hub_grammar_pass(value: str) -> None:
    assert check_repo_id(value) == value


@pytest.mark.parametrize("value", ["", "/", "a/b/c", "../x", "a/..", "a--b/c", "a/-b", "a/b.",
                                   "a b/c", "a/" + "x" * 95, "a/b\x00", None, 7])
def test_repo_ids_outside_the_grammar_fail(value: object) -> None:
    with pytest.raises(RemoteNameError, match="repo id"):
        check_repo_id(value)


@pytest.mark.parametrize("value", ["model.gguf", "sub/dir/model-Q4_K_M.gguf", ".gitattributes",
                                   "a..b.gguf"])
def test_plain_relative_file_names_pass(value: str) -> None:
    assert check_filename(value) == value


@pytest.mark.parametrize("value", ["", "/abs.gguf", "../x", "a/../../x", "a//b", "./a", "a/.",
                                   "a\\..\\b", "C:x.gguf", "a\nb", "x" * 256, None])
def test_file_names_that_could_leave_the_repository_fail(value: object) -> None:
    with pytest.raises(RemoteNameError, match="file name"):
        check_filename(value)


def test_hashes_commits_and_sizes_have_exact_forms() -> None:
    assert check_sha256("ab" * 32) == "ab" * 32
    assert check_commit("0123456789abcdef" * 2 + "01234567")
    assert check_size(None) is None and check_size(0) == 0
    for bad in ("AB" * 32, "ab" * 31, "ab" * 32 + "\n", "../" + "a" * 61, 5):
        with pytest.raises(RemoteNameError, match="sha256"):
            check_sha256(bad)
    for bad in ("main", "../x", "0" * 41):
        with pytest.raises(RemoteNameError, match="revision"):
            check_commit(bad)
    for bad in (-1, True, 1.5, "12", 1 << 60):
        with pytest.raises(RemoteNameError, match="size"):
            check_size(bad)


def test_within_follows_links_and_stays_under_its_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inner").mkdir(parents=True)
    assert within(root, root / "inner" / "x") == (root / "inner" / "x").resolve()
    with pytest.raises(RemoteNameError, match="would lead outside"):
        within(root, root / ".." / "x")
    (root / "jump").symlink_to(tmp_path)
    with pytest.raises(RemoteNameError, match="would lead outside"):
        within(root, root / "jump" / "x")
