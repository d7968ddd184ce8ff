"""Issue #13, section 1: a settings, policy, providers, price, model-list or download-list
file that cannot be used leaves the most private state in force, says which file and where
in one line, and keeps a copy of the bad bytes before anything rewrites the file.

Real files in a private data directory, the real Services.open (real SQLite store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import Settings, load_settings, save_settings
from app.services import Services
from inference.engines.types import ModelInfo
from inference.hub.downloads import DownloadQueue, library_registrar
from inference.models.library import ModelLibrary, embedded_model
from inference.user_files import set_aside_copy
from routing import offline
from routing.decision import RouteRequest
from routing.router import Router

CLOUD_PROVIDERS = {"version": 1, "providers": [
    {"name": "acme", "base_url": "https://llm.acme.example/v1", "tier": "cloud",
     "models": ["acme-large"], "key_name": "acme", "preset": None}]}
CLOUD_DEFAULT_POLICY = 'version = 1\n[defaults]\ntarget = "cloud"\n'

DAMAGED_SETTINGS = {
    "truncated": '{"offline": false, "temperature": 0.',
    "not json": "offline = false\n",
    "a list": "[false]",
    "offline not a boolean": '{"offline": "no"}',
    "offline null": '{"offline": null}',
}


@pytest.fixture(autouse=True)
def _offline_restored():
    """Services.open switches the process-wide offline guard; leave it as found."""
    was = offline.is_enabled()
    yield
    (offline.enable if was else offline.disable)()


def bad_copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.bad-*"))


def one_line(problem: object) -> str:
    text = str(problem)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.mark.parametrize("content", DAMAGED_SETTINGS.values(), ids=DAMAGED_SETTINGS.keys())
def test_a_damaged_settings_file_keeps_offline_mode_on(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content, encoding="utf-8")
    settings, problems = load_settings(path)
    assert settings.offline is True
    assert problems and all(str(path) in one_line(p) for p in problems)
    assert any("offline mode stays on" in str(p) for p in problems)
    assert path.read_text(encoding="utf-8") == content  # the user's file is left to fix
    (copy,) = bad_copies(path)
    assert copy.read_text(encoding="utf-8") == content
    assert copy.name in str(problems[0])


def test_unreadable_bytes_keep_offline_mode_on(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b'{"offline": false, "system_prompt": "\xff\xfe"}')
    settings, (problem,) = load_settings(path)
    assert settings.offline is True and "not UTF-8" in one_line(problem)
    assert bad_copies(path)


def test_a_bad_other_setting_names_the_field_and_keeps_offline_as_written(
        tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"offline": false, "temperature": "hot"}', encoding="utf-8")
    settings, (problem,) = load_settings(path)
    assert settings.offline is False and settings.temperature == Settings().temperature
    assert "'temperature'" in one_line(problem) and str(path) in str(problem)


def test_the_bad_copy_is_made_once_and_before_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"offline": tru', encoding="utf-8")
    for _ in range(3):
        settings, _problems = load_settings(path)
    (copy,) = bad_copies(path)
    save_settings(path, settings)  # what the GUI does when a setting changes
    assert copy.read_text(encoding="utf-8") == '{"offline": tru'
    assert load_settings(path) == (Settings(offline=True), [])
    path.write_text('{"offline": fals', encoding="utf-8")  # broken differently: a new copy
    load_settings(path)
    assert len(bad_copies(path)) == 2
    assert set_aside_copy(tmp_path / "absent.json") is None


def test_services_open_with_damaged_settings_turns_offline_on(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    (stillroom_home / "settings.json").write_text('{"offline": false', encoding="utf-8")
    offline.disable()
    services = Services.open(stillroom_home)
    try:
        assert services.settings.offline is True and offline.is_enabled()
        assert [w.path.name for w in services.warnings] == ["settings.json"]
    finally:
        services.close()


BAD_POLICIES = {
    "not toml": 'version = 1\n[defaults\ntarget = "cloud"\n',
    "unknown key": 'version = 1\n[defaults]\ntarget = "cloud"\ntraget = "local"\n',
    "wrong type": 'version = 1\n[failover]\nmax_retries = "many"\n',
}


@pytest.mark.parametrize("policy", BAD_POLICIES.values(), ids=BAD_POLICIES.keys())
def test_a_bad_policy_opens_the_app_local_only(stillroom_home: Path, policy: str) -> None:
    stillroom_home.mkdir(parents=True)
    (stillroom_home / "policy.toml").write_text(policy, encoding="utf-8")
    (stillroom_home / "providers.json").write_text(json.dumps(CLOUD_PROVIDERS))
    services = Services.open(stillroom_home)  # raised PolicyError before: locked out
    try:
        (problem,) = services.warnings
        assert str(stillroom_home / "policy.toml") in one_line(problem)
        assert "Only this machine answers" in str(problem)
        assert bad_copies(stillroom_home / "policy.toml")
        router = services.router
        assert router.providers == () and router.closed_reason
        for route in ("auto", "cloud", "acme", "onprem"):
            decision = router.decide(RouteRequest("Explain TCP.", route=route))
            assert (decision.target, decision.rule, decision.provider) == (
                "local", "fail-closed", None)
    finally:
        services.close()


def test_bad_providers_open_the_app_local_only(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    (stillroom_home / "policy.toml").write_text(CLOUD_DEFAULT_POLICY, encoding="utf-8")
    broken = json.dumps(CLOUD_PROVIDERS)[:-9]
    (stillroom_home / "providers.json").write_text(broken, encoding="utf-8")
    router, (problem,) = Router.load_fail_closed(stillroom_home)
    assert "providers.json" in one_line(problem) and "line 1" in str(problem)
    assert router.decide(RouteRequest("Hello")).target == "local"
    assert bad_copies(stillroom_home / "providers.json")[0].read_text() == broken


def test_fixing_the_policy_and_reloading_opens_the_routes_again(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    (stillroom_home / "policy.toml").write_text("version = [", encoding="utf-8")
    (stillroom_home / "providers.json").write_text(json.dumps(CLOUD_PROVIDERS))
    services = Services.open(stillroom_home)
    try:
        assert services.warnings and services.router.closed_reason
        (stillroom_home / "policy.toml").write_text(CLOUD_DEFAULT_POLICY, encoding="utf-8")
        assert services.reload_router() == [] and services.warnings == []
        decision = services.router.decide(RouteRequest("Hello"))
        assert (decision.target, decision.provider) == ("cloud", "acme")
    finally:
        services.close()


def test_bad_price_overrides_are_named_and_costs_stay_unknown(stillroom_home: Path) -> None:
    stillroom_home.mkdir(parents=True)
    overrides = stillroom_home / "price-overrides.json"
    overrides.write_text('{"models": {"gpt-4o-mini": {"input_per_mtok": "cheap"}}}')
    services = Services.open(stillroom_home)
    try:
        (problem,) = services.warnings
        assert str(overrides) in one_line(problem) and "input_per_mtok" in str(problem)
        assert bad_copies(overrides)
        bill = services.pricer.price_cloud("gpt-4o-mini", prompt_tokens=10,
                                           completion_tokens=10, reported=True,
                                           provider="openai").cloud_actual_usd
        assert bill is not None and not bill.is_known  # unknown, never a guess or $0
    finally:
        services.close()


def test_a_malformed_model_list_loses_only_the_bad_entries(stillroom_home: Path,
                                                           model: ModelInfo) -> None:
    stillroom_home.mkdir(parents=True)
    good = {"id": "copy", "name": "Copy", "path": model.path, "format": "gguf",
            "quantization": "Q8_0", "size_bytes": model.size_bytes, "sha256": model.sha256}
    registry = {"version": 1, "models": [good, {"id": "half", "name": "Half"}, "nonsense",
                                         {**good, "id": "x", "size_bytes": "big"}],
                "verified": []}
    path = stillroom_home / "models.json"
    path.write_text(json.dumps(registry), encoding="utf-8")
    library = ModelLibrary(stillroom_home)
    assert [m.id for m in library.list()] == [embedded_model().id, "copy"]  # TypeError before
    problems = library.problems()
    assert [p.message.split("models[")[1][:1] for p in problems] == ["1", "2", "3"]
    assert all(str(path) in one_line(p) for p in problems)
    assert json.loads(bad_copies(path)[0].read_text()) == registry


@pytest.mark.parametrize("content", ['{"version": 1, "models": [', '{"version": 7}', "[]"])
def test_an_unusable_model_list_still_lists_the_embedded_model(stillroom_home: Path,
                                                               content: str) -> None:
    stillroom_home.mkdir(parents=True)
    (stillroom_home / "models.json").write_text(content, encoding="utf-8")
    library = ModelLibrary(stillroom_home)
    assert [m.id for m in library.list()] == [embedded_model().id]
    (problem,) = library.problems()
    assert "models.json" in one_line(problem) and "embedded model only" in str(problem)
    assert bad_copies(stillroom_home / "models.json")
    assert (stillroom_home / "models.json").read_text(encoding="utf-8") == content


def test_a_broken_download_list_starts_with_no_jobs_and_keeps_a_copy(tmp_path: Path) -> None:
    state = tmp_path / "downloads.json"
    state.write_text('{"version": 1, "jobs": [{"id": "j1", ', encoding="utf-8")
    queue = DownloadQueue(state, library_registrar(ModelLibrary(tmp_path)), lambda: None,
                          autostart=False)
    try:
        assert queue.jobs() == []
        (problem,) = queue.problems
        assert str(state) in one_line(problem) and "line 1" in str(problem)
        assert bad_copies(state)[0].read_text() == '{"version": 1, "jobs": [{"id": "j1", '
    finally:
        queue.close()


def test_a_bad_download_entry_is_skipped_and_the_others_load(tmp_path: Path) -> None:
    state = tmp_path / "downloads.json"
    good = {"id": "j1", "state": "paused", "repo_id": "acme/tiny", "filename": "tiny.gguf",
            "size_bytes": 10, "sha256": "a" * 64, "quantization": None, "revision": None}
    bad = [{**good, "id": "j2", "sha256": "../../etc/passwd"},
           {**good, "id": "j3", "repo_id": 7}, {"id": "j4"}, None]
    state.write_text(json.dumps({"version": 1, "jobs": [good, *bad]}), encoding="utf-8")
    queue = DownloadQueue(state, library_registrar(ModelLibrary(tmp_path)), lambda: None,
                          autostart=False)
    try:
        assert [job.id for job in queue.jobs()] == ["j1"]
        assert len(queue.problems) == 4
        assert all("jobs[" in one_line(p) for p in queue.problems)
    finally:
        queue.close()
