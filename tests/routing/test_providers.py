"""Provider definitions: presets, validation with clear messages, the JSON file."""

from __future__ import annotations

import json

import pytest

from routing.providers import PRESETS, Provider, ProviderError, ProviderStore, make_provider

CLOUD_PRESETS = {"openai", "anthropic", "gemini", "openrouter", "groq", "deepseek", "mistral",
                 "together"}
ONPREM_PRESETS = {"vllm", "llamacpp", "ollama", "exo", "stillroom"}


def test_every_preset_the_issue_names_exists_in_its_tier() -> None:
    assert {n for n, p in PRESETS.items() if p.tier == "cloud"} == CLOUD_PRESETS
    assert {n for n, p in PRESETS.items() if p.tier == "onprem"} == ONPREM_PRESETS
    for name, preset in PRESETS.items():
        provider = make_provider(name)
        assert provider.base_url == preset.base_url and provider.tier == preset.tier
        assert provider.preset == name
        if preset.tier == "cloud":
            assert provider.base_url.startswith("https://") and provider.key_name == name
            assert provider.models


def test_onprem_presets_default_to_this_machine_and_need_no_key() -> None:
    for name in ("vllm", "llamacpp", "ollama", "exo"):
        provider = make_provider(name)
        assert provider.is_loopback and provider.key_name is None


def test_a_preset_under_another_name_with_another_address() -> None:
    provider = make_provider("office-vllm", preset="vllm", base_url="http://10.0.0.7:8000/v1/",
                             models=["Qwen/Qwen2.5-32B-Instruct"])
    assert provider.tier == "onprem" and provider.base_url == "http://10.0.0.7:8000/v1"
    assert not provider.is_loopback and provider.models == ("Qwen/Qwen2.5-32B-Instruct",)


def test_a_custom_endpoint_is_cloud_unless_said_otherwise() -> None:
    provider = make_provider("acme", base_url="https://llm.acme.example/v1", models=["m1", "m1"])
    assert provider.tier == "cloud" and provider.key_name == "acme" and provider.models == ("m1",)
    assert make_provider("MyBox", base_url="http://192.168.1.20:8080/v1",
                         tier="onprem").name == "mybox"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": "", "base_url": "https://x.example/v1"}, "needs a name"),
    ({"name": "cloud", "base_url": "https://x.example/v1"}, "route word"),
    ({"name": "auto", "base_url": "https://x.example/v1"}, "route word"),
    ({"name": "has space", "base_url": "https://x.example/v1"}, "not a usable provider name"),
    ({"name": "x" * 40, "base_url": "https://x.example/v1"}, "not a usable provider name"),
    ({"name": "acme"}, "needs a base URL"),
    ({"name": "acme", "base_url": "ftp://x.example/v1"}, "must start with https://"),
    ({"name": "acme", "base_url": "api.example.com/v1"}, "must start with https://"),
    ({"name": "acme", "base_url": "https:///v1"}, "no host name"),
    ({"name": "acme", "base_url": "https://x.example:99999/v1"}, "not a valid URL"),
    ({"name": "acme", "base_url": "https://me:sk-secret@x.example/v1"}, "keys set"),
    ({"name": "acme", "base_url": "https://x.example/v1?key=1"}, "query"),
    ({"name": "acme", "base_url": "http://x.example/v1"}, "unencrypted"),
    ({"name": "acme", "base_url": "https://x.example/v1", "tier": "edge"}, "Tier must be"),
    ({"name": "acme", "base_url": "https://x.example/v1", "models": ["a b"]}, "not a model id"),
    ({"name": "acme", "base_url": "https://x.example/v1", "preset": "nope"}, "Unknown preset"),
])
def test_bad_definitions_are_refused_with_a_clear_message(kwargs, message) -> None:
    with pytest.raises(ProviderError, match=message):
        make_provider(**kwargs)


def test_plain_http_is_fine_for_loopback_cloud_and_for_onprem() -> None:
    assert make_provider("local-test", base_url="http://127.0.0.1:9/v1").tier == "cloud"
    assert make_provider("lan", base_url="http://10.1.2.3/v1", tier="onprem").tier == "onprem"


def test_ipv6_hosts_keep_their_brackets() -> None:
    provider = make_provider("v6", base_url="http://[::1]:8000/v1", tier="onprem")
    assert provider.base_url == "http://[::1]:8000/v1" and provider.is_loopback


def test_store_round_trip_add_replace_remove(tmp_path) -> None:
    store = ProviderStore(tmp_path / "providers.json")
    assert store.load() == []
    store.add(make_provider("openai"))
    store.add(make_provider("ollama"))
    with pytest.raises(ProviderError, match="already exists"):
        store.add(make_provider("openai"))
    store.add(make_provider("openai", models=["gpt-4o"]), replace_existing=True)
    assert [p.name for p in store.load()] == ["openai", "ollama"]
    assert store.get("OpenAI").models == ("gpt-4o",)
    document = json.loads((tmp_path / "providers.json").read_text())
    assert document["version"] == 1 and document["providers"][0]["key_name"] == "openai"
    assert store.remove("ollama").name == "ollama"
    with pytest.raises(ProviderError, match="No provider named 'ollama'"):
        store.get("ollama")
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporaries


def test_a_stored_provider_keeps_exactly_what_was_saved(tmp_path) -> None:
    # Reading must not re-apply preset defaults: an emptied model list stays empty.
    store = ProviderStore(tmp_path / "providers.json")
    original = Provider("openai", "https://api.openai.com/v1", "cloud", (), "openai", "openai")
    store.save([original])
    assert store.load() == [original]


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON"),
    ('{"providers": {}}', "expected"),
    ('{"version": 2, "providers": []}', "newer"),
    ('{"providers": [{"name": "a", "base_url": "https://a.example/v1", "colour": 1}]}',
     "unknown field"),
    ('{"providers": [{"name": "a", "base_url": "gopher://a"}]}', r"providers\[0\]"),
    ('{"providers": [{"name": "a", "base_url": "https://a.example/v1"},'
     ' {"name": "a", "base_url": "https://b.example/v1"}]}', "appears twice"),
])
def test_a_broken_file_names_the_file_and_the_problem(tmp_path, content, message) -> None:
    path = tmp_path / "providers.json"
    path.write_text(content)
    with pytest.raises(ProviderError, match=message) as caught:
        ProviderStore(path).load()
    assert str(path) in str(caught.value)


def test_a_provider_holds_no_key_to_leak() -> None:
    provider = make_provider("openai")
    assert set(provider.to_json()) == {"name", "base_url", "tier", "models", "key_name",
                                       "preset"}
    assert "key=" not in repr(provider).replace("key_name=", "")
