"""Issue #13, section 1: fuzzing every user-file loader (hypothesis, bounded by
max_examples, no deadline) ends only in clear one-line problems, never an exception, and
with the private state in force: a settings file that is not a clean object leaves offline
mode on, a policy or providers file that cannot be used leaves only this machine answering.

Each example writes real files into a fresh temporary data directory."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import Settings, load_settings
from app.metering.price_catalog import price_overrides_problems
from inference.hub.downloads import DownloadQueue, library_registrar
from inference.models.library import ModelLibrary, embedded_model
from inference.user_files import FileProblem
from routing.decision import RouteRequest
from routing.policy import default_policy_text
from routing.router import Router

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)


def some_keys(known: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(known) | st.text(max_size=12)


def damaged(text: str) -> st.SearchStrategy[str]:
    """A whole file cut short, or with a few characters overwritten."""
    cut = st.integers(0, len(text)).map(lambda n: text[:n])
    overwritten = st.tuples(st.integers(0, max(len(text) - 1, 0)),
                            st.text(min_size=1, max_size=3)).map(
        lambda at: text[:at[0]] + at[1] + text[at[0] + len(at[1]):])
    return cut | overwritten


def documents(keys: list[str], valid: str) -> st.SearchStrategy[str]:
    """Objects with the file's own keys (and stray ones) holding any JSON, anything else
    JSON can hold, and damaged copies of a valid file."""
    objects = st.dictionaries(some_keys(keys), json_values, max_size=6).map(json.dumps)
    return objects | json_values.map(json.dumps) | damaged(valid)


@contextmanager
def data_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="stillroom-fuzz-") as directory:
        yield Path(directory)


def assert_clear(problems: list[FileProblem], path: Path) -> None:
    for problem in problems:
        text = str(problem)
        assert "\n" not in text and "Traceback" not in text, text
        assert str(path) in text, text  # names the file


SETTING_KEYS = [*Settings.__slots__, "version"]


@FUZZ
@given(documents(SETTING_KEYS, json.dumps({"offline": False, "temperature": 0.2,
                                           "kwh_usd": 0.15, "max_tokens": 100})))
def test_settings_fuzz_never_turn_offline_off(content: str) -> None:
    with data_dir() as directory:
        path = directory / "settings.json"
        path.write_text(content, encoding="utf-8")
        loaded, problems = load_settings(path)
        assert_clear(problems, path)
        assert isinstance(loaded.offline, bool)
        if loaded.offline is False:  # only a clean object may leave offline mode off
            raw = json.loads(content)
            assert isinstance(raw, dict) and raw.get("offline", False) is False


POLICY_FRAGMENTS = st.lists(st.sampled_from([
    "version = 1", "version = 2", "[defaults]", 'target = "cloud"', 'target = "local"',
    "target = 5", 'cloud_provider = "acme"', "[failover]", "max_retries = -1",
    'target = "none"', "timeout_s = 0", "[capacity]", "enabled = true", "[budget]",
    "daily_usd = -3", "daily_usd = 1.50", "[[rules]]", 'name = "r"', "min_chars = 10",
    'target = "acme"', "[escalation]", "enabled = true", "[sensitivity]",
    'custom_terms = ["x", 1]', "[budget.providers.acme]", "monthly_usd = 2", "=", "[",
]), max_size=12).map("\n".join)


@FUZZ
@given(POLICY_FRAGMENTS | damaged(default_policy_text()) | st.text(max_size=60))
def test_policy_fuzz_locks_the_routes_or_loads(content: str) -> None:
    with data_dir() as directory:
        (directory / "policy.toml").write_text(content, encoding="utf-8")
        (directory / "providers.json").write_text(json.dumps({"version": 1, "providers": [
            {"name": "acme", "base_url": "https://llm.acme.example/v1", "tier": "cloud",
             "models": ["m"], "key_name": None, "preset": None}]}), encoding="utf-8")
        router, problems = Router.load_fail_closed(directory)
        assert_clear(problems, directory / "policy.toml")
        if problems:
            assert router.closed_reason and router.providers == ()
            decision = router.decide(RouteRequest("hello", route="acme"))
            assert decision.target == "local"


providers = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["acme", "cloud", "ACME", "a" * 40, ""]) | scalars,
    "base_url": st.sampled_from(["https://x.example/v1", "http://x.example/v1",
                                 "http://127.0.0.1:9/v1", "ftp://x", "https://u:p@x/v1",
                                 "https://x:99999/v1"]) | scalars,
    "tier": st.sampled_from(["cloud", "onprem", "local"]) | scalars,
    "models": st.lists(st.text(max_size=8) | scalars, max_size=3) | scalars,
    "key_name": scalars, "preset": st.sampled_from(["openai", "nope"]) | scalars,
    "extra": scalars})
provider_files = st.fixed_dictionaries({}, optional={
    "version": st.sampled_from([1, 2]) | scalars,
    "providers": st.lists(providers | json_values, max_size=3) | json_values,
}).map(json.dumps)


@FUZZ
@given(provider_files | documents(["version", "providers"], '{"version": 1, "providers": []}'))
def test_providers_fuzz_locks_the_routes_or_loads(content: str) -> None:
    with data_dir() as directory:
        path = directory / "providers.json"
        path.write_text(content, encoding="utf-8")
        router, problems = Router.load_fail_closed(directory)
        assert_clear(problems, path)
        if problems:
            assert router.closed_reason and router.providers == ()
        for route in ("cloud", "onprem", "auto"):
            decision = router.decide(RouteRequest("hello", route=route))
            assert decision.target == "local" or not problems


model_entries = st.fixed_dictionaries({}, optional={
    key: scalars for key in ("id", "name", "path", "format", "quantization", "size_bytes",
                             "sha256", "context_length", "builtin", "extra")})
model_files = st.fixed_dictionaries({"version": st.just(1) | scalars}, optional={
    "models": st.lists(model_entries | json_values, max_size=4) | json_values,
    "verified": json_values}).map(json.dumps)


@FUZZ
@given(model_files | documents(["version", "models", "verified"], '{"version": 1}'))
def test_model_list_fuzz_always_lists_the_embedded_model(content: str) -> None:
    with data_dir() as directory:
        (directory / "models.json").write_text(content, encoding="utf-8")
        library = ModelLibrary(directory)
        models = library.list()
        assert models[0].id == embedded_model().id
        assert_clear(library.problems(), directory / "models.json")


job_entries = st.fixed_dictionaries({}, optional={
    key: scalars for key in ("id", "state", "repo_id", "filename", "size_bytes", "sha256",
                             "quantization", "revision", "total_bytes", "error", "model_id")})
download_files = st.fixed_dictionaries({"version": st.just(1) | scalars}, optional={
    "jobs": st.lists(job_entries | json_values, max_size=4) | json_values}).map(json.dumps)


@FUZZ
@given(download_files | documents(["version", "jobs"], '{"version": 1, "jobs": []}'))
def test_download_list_fuzz_opens_the_queue(content: str) -> None:
    with data_dir() as directory:
        path = directory / "downloads.json"
        path.write_text(content, encoding="utf-8")
        queue = DownloadQueue(path, library_registrar(ModelLibrary(directory)), lambda: None,
                              autostart=False)
        try:
            assert_clear(queue.problems, path)
            assert all(job.state in ("queued", "paused", "failed", "done", "cancelled",
                                     "running") for job in queue.jobs())
        finally:
            queue.close()


price_entries = st.fixed_dictionaries({}, optional={
    key: scalars for key in ("input_per_mtok", "output_per_mtok", "as_of", "source",
                             "aliases", "batch_discount", "cached_input_per_mtok")})
price_files = st.fixed_dictionaries({}, optional={
    "currency": st.just("USD") | scalars,
    "models": st.dictionaries(st.sampled_from(["gpt-4o-mini", "my-model", ""]),
                              price_entries | json_values, max_size=3) | json_values,
}).map(json.dumps)


@FUZZ
@given(price_files | documents(["models", "currency"], '{"models": {}}'))
def test_price_overrides_fuzz_is_one_line(content: str) -> None:
    with data_dir() as directory:
        path = directory / "price-overrides.json"
        path.write_text(content, encoding="utf-8")
        assert_clear(price_overrides_problems(directory), path)
